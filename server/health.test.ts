import { createServer } from 'node:net'
import { createSchema, createYoga } from 'graphql-yoga'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { createBus } from '../schema/events/index.ts'
import { connect } from '../schema/store/connect.ts'
import { createStore } from '../schema/store/index.ts'
import { openTestStore } from '../test/support/databases.ts'
import { createApiServer } from './app.ts'
import { maskError } from './errors.ts'
import { checkReadiness, isStoreUnavailable, STORE_UNAVAILABLE_MESSAGE } from './health.ts'
import { WS_TRY_AGAIN_LATER } from './websocket.ts'
import { thrown } from '../test/support/thrown.ts'

/** A loopback port nothing listens on (taken, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('isStoreUnavailable', () => {
  it('is true for the errors of a database that cannot be reached, as mysql2 throws them', async () => {
    const db = connect(`mysql://root@127.0.0.1:${await closedPort()}/nothing`)
    try {
      expect(isStoreUnavailable(await thrown(() => db.ping()))).toBe(true)
      expect(isStoreUnavailable(await thrown(() => db.kysely.selectFrom('rollouts').selectAll().execute()))).toBe(true)
    } finally {
      await db.close()
    }
    // A cause chain (an error wrapped by a caller) is followed.
    expect(isStoreUnavailable(new Error('tick failed', { cause: Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }) }))).toBe(true)
  })

  it('is false for a bad statement on a live database and for errors of our own', async () => {
    const opened = await openTestStore('mysql')
    try {
      const error = await thrown(() => opened.db.kysely.selectFrom('no_such_table' as 'rollouts').selectAll().execute())
      expect((error as { code?: string }).code).toBe('ER_NO_SUCH_TABLE')
      expect(isStoreUnavailable(error)).toBe(false)
    } finally {
      await opened.dispose()
    }
    expect(isStoreUnavailable(new TypeError('x is undefined'))).toBe(false)
    expect(isStoreUnavailable('ECONNREFUSED')).toBe(false)
  })
})

describe('checkReadiness', () => {
  it('is not ready, naming the store, when the database cannot be reached; ready when it can', async () => {
    const bus = createBus(undefined)
    const down = createStore(connect(`mysql://root@127.0.0.1:${await closedPort()}/nothing`))
    try {
      const readiness = await checkReadiness(down, bus)
      expect(readiness.ready).toBe(false)
      expect(readiness.checks.store).toMatch(/^store: .*ECONNREFUSED/)
      expect(readiness.checks.bus).toBe('ok')
    } finally {
      await down.db.close()
    }
    const opened = await openTestStore('mysql')
    try {
      expect(await checkReadiness(createStore(opened.db), bus)).toEqual({ ready: true, checks: { store: 'ok', bus: 'ok' } })
    } finally {
      await opened.dispose()
      await bus.close()
    }
  })
})

describe('the API while its store cannot be reached', () => {
  it('answers /readyz 503, /graphql and /login 503 STORE_UNAVAILABLE with Retry-After, /healthz 200', async () => {
    const bus = createBus(undefined)
    const store = createStore(connect(`mysql://root@127.0.0.1:${await closedPort()}/nothing`))
    const server = createApiServer({ store, bus })
    const { url } = await server.listen(0, '127.0.0.1')
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
      expect((await fetch(`${url}/readyz`)).status).toBe(503)
      const graphql = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer some-token-of-16-chars' },
        body: JSON.stringify({ query: '{ viewer { name } }' }),
      })
      const login = await fetch(`${url}/login?token=some-token-of-16-chars`, { redirect: 'manual' })
      // graphql-ws: closed with 1013 "try again later" and the same message, not 4500 with the driver's error.
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws')
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { token: 'some-token-of-16-chars' } })))
      const [code, reason] = await new Promise<[number, string]>((resolve) => socket.on('close', (c, r) => resolve([c, r.toString()])))
      expect([code, reason]).toEqual([WS_TRY_AGAIN_LATER, STORE_UNAVAILABLE_MESSAGE])
      for (const response of [graphql, login]) {
        expect(response.status).toBe(503)
        expect(response.headers.get('retry-after')).toBe('5')
        const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] }
        expect(body.errors[0]?.extensions.code).toBe('STORE_UNAVAILABLE')
        expect(body.errors[0]?.message).toBe(STORE_UNAVAILABLE_MESSAGE)
      }
      // One line per refused request, without a stack: an outage is not a bug of ours.
      expect(logged.mock.calls.map((call) => String(call[0]))).toEqual([expect.stringMatching(/the store is not reachable: .*ECONNREFUSED/), expect.stringMatching(/the store is not reachable/)])
    } finally {
      logged.mockRestore()
      await server.close()
      await store.db.close()
      await bus.close()
    }
  })
})

describe('maskError for a store lost in the middle of a query', () => {
  it('answers 503 STORE_UNAVAILABLE, not "Unexpected error."', async () => {
    const db = connect(`mysql://root@127.0.0.1:${await closedPort()}/nothing`)
    const yoga = createYoga({
      schema: createSchema({ typeDefs: 'type Query { count: Int }', resolvers: { Query: { count: async () => (await db.kysely.selectFrom('rollouts').selectAll().execute()).length } } }),
      logging: false,
      maskedErrors: { maskError: (error, message) => maskError(error, message) },
    })
    try {
      const response = await yoga.fetch('http://localhost/graphql?query=%7Bcount%7D', { headers: { accept: 'application/json' } })
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('5')
      const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] }
      expect(body.errors).toEqual([{ message: STORE_UNAVAILABLE_MESSAGE, path: ['count'], extensions: { code: 'STORE_UNAVAILABLE' } }])
    } finally {
      await db.close()
    }
  })
})
