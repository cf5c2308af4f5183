import { createClient, type Client, type SubscribePayload } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createBus } from '../../schema/events/index.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { createApiServer, type ApiServerOptions } from '../../server/app.ts'
import { openTestStore } from '../support/databases.ts'
import { demoSpec } from '../support/api.ts'

/**
 * Every abuse limit (docs/security.md) on a real server, over HTTP and over graphql-ws, and
 * that a refused request changes nothing. Limits are set low here on purpose; the
 * defaults are far above what the dashboard, the CLI and the other suites ask for.
 */

interface Answer {
  status: number
  headers: Headers
  data?: Record<string, unknown> | null
  errors?: { message: string; extensions?: Record<string, unknown> }[]
}

interface WsAnswer {
  /** Results sent with `next` (a query's answer, or an execution error). */
  results: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }[]
  /** Errors sent with `error` (refused before execution: parse, validation, auth, rate). */
  errors: { message: string; extensions?: Record<string, unknown> }[]
}

async function startServer(options: Partial<ApiServerOptions>) {
  const database = await openTestStore('sqlite')
  const store = createStore(database.db)
  const bus = createBus(undefined)
  const server = createApiServer({ store, bus, ...options })
  const { url } = await server.listen(0, '127.0.0.1')
  const admin = (await store.tokens.create('limits admin', 'admin')).token
  const clients: Client[] = []
  const wsUrl = `${url.replace(/^http/, 'ws')}/graphql`

  const post = async (body: unknown, token: string | null = admin): Promise<Answer> => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await response.text()
    let parsed: object = {}
    try {
      parsed = JSON.parse(text) as object
    } catch {
      parsed = { errors: [{ message: `non-JSON answer: ${text.slice(0, 200)}` }] }
    }
    return { status: response.status, headers: response.headers, ...parsed }
  }

  const ws = (token = admin): Client => {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0, lazy: false })
    clients.push(client)
    return client
  }

  /** One operation over graphql-ws, to its end (complete or error). */
  const overWs = (client: Client, payload: SubscribePayload): Promise<WsAnswer> =>
    new Promise((resolve) => {
      const answer: WsAnswer = { results: [], errors: [] }
      client.subscribe(payload, {
        next: (value) => answer.results.push(value as WsAnswer['results'][number]),
        error: (error) => {
          const described = error instanceof Error ? error.message : (error as { code?: number; reason?: string }).code !== undefined ? `closed ${(error as { code: number }).code} ${(error as { reason?: string }).reason ?? ''}` : String(error)
          answer.errors.push(...(Array.isArray(error) ? error : [{ message: described }]))
          resolve(answer)
        },
        complete: () => resolve(answer),
      })
    })

  return {
    url,
    wsUrl,
    store,
    admin,
    post,
    ws,
    overWs,
    close: async () => {
      for (const client of clients) await client.dispose()
      await server.close()
      await bus.close()
      await database.dispose()
    },
  }
}

type Server = Awaited<ReturnType<typeof startServer>>

/** Every error code an HTTP answer and a WebSocket answer carry. */
const codes = (errors: { extensions?: Record<string, unknown> }[] | undefined) => (errors ?? []).map((e) => e.extensions?.code)
const wsCodes = (answer: WsAnswer) => [...codes(answer.errors), ...answer.results.flatMap((r) => codes(r.errors))]

const APPLY = `mutation($spec: JSON!) { applyApplication(spec: $spec) { id name } }`

describe('abuse limits on HTTP and graphql-ws', () => {
  let api: Server

  beforeAll(async () => {
    api = await startServer({
      limits: { maxDirectives: 3, maxCost: 500, maxTokens: 1000 },
      maxBodyBytes: 4096,
      introspection: false,
    })
  })
  afterAll(async () => {
    await api?.close()
  })

  async function refusedEverywhere(document: string, code: string, variables: Record<string, unknown> = {}): Promise<{ http: Answer; ws: WsAnswer }> {
    const http = await api.post({ query: document, variables })
    expect(http.data ?? null).toBeNull()
    expect(codes(http.errors), JSON.stringify(http.errors)).toContain(code)
    const client = api.ws()
    const ws = await api.overWs(client, { query: document, variables })
    expect(wsCodes(ws), JSON.stringify(ws)).toContain(code)
    expect(ws.results.every((r) => r.data == null)).toBe(true)
    // The socket stays open for other operations.
    const after = await api.overWs(client, { query: '{ viewer { name } }' })
    expect(after.results).toEqual([{ data: { viewer: { name: 'limits admin' } } }])
    return { http, ws }
  }

  it('refuses a POST whose Accept names no GraphQL answer type with 406 before running it', async () => {
    const before = (await api.store.tokens.list()).length
    for (const accept of ['application/xml', 'text/html']) {
      const response = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${api.admin}` },
        body: JSON.stringify({ query: 'mutation { createApiToken(name: "never-seen", scope: READ) { token } }' }),
      })
      expect(response.status).toBe(406)
      expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT')
    }
    expect((await api.store.tokens.list()).length).toBe(before)
  })

  it('answers a subscription whose root field has @include without a usable `if` with errors, and keeps the socket open', async () => {
    const client = api.ws()
    for (const query of ['subscription { rolloutEvents @include { seq } }', 'subscription { rolloutEvents @include(if: "yes") { seq } }']) {
      const answer = await api.overWs(client, { query })
      expect(answer.errors.length + answer.results.flatMap((r) => r.errors ?? []).length).toBeGreaterThan(0)
      expect(JSON.stringify(answer)).not.toMatch(/closed 4500/)
    }
    const after = await api.overWs(client, { query: '{ viewer { name } }' })
    expect(after.results).toEqual([{ data: { viewer: { name: 'limits admin' } } }])
  })

  it('limits directives per document', async () => {
    const { http } = await refusedEverywhere('{ viewer @include(if: true) { name @skip(if: false) scope @include(if: true) @skip(if: false) } }', 'BAD_USER_INPUT')
    expect(http.errors?.[0]).toMatchObject({ message: 'more than 3 directives in one document', extensions: { limit: 'directives', maxDirectives: 3 } })
    const fine = await api.post({ query: '{ viewer @include(if: true) { name @skip(if: false) } }' })
    expect(fine.data).toEqual({ viewer: { name: 'limits admin' } })
    // A refused mutation writes nothing.
    const mutation = `mutation($spec: JSON!) { applyApplication(spec: $spec) @include(if: true) { id @skip(if: false) name @skip(if: false) spec @skip(if: false) } }`
    await refusedEverywhere(mutation, 'BAD_USER_INPUT', { spec: demoSpec('too-many-directives') })
    expect(await api.store.applications.byName('too-many-directives')).toBeNull()
  })

  it('limits the estimated cost, with variables counted, before anything runs', async () => {
    const query = `query($n: Int) { rollouts(first: $n) { edges { node { id steps { index kind } decisions { seq } } } } }`
    const { http } = await refusedEverywhere(query, 'BAD_USER_INPUT', { n: 100 })
    expect(http.errors?.[0]).toMatchObject({ message: expect.stringMatching(/estimated cost is \d+, the limit is 500/), extensions: { limit: 'cost', maxCost: 500 } })
    const small = await api.post({ query, variables: { n: 2 } })
    expect(small.errors).toBeUndefined()
  })

  it('costs subscriptions too, refusing a costly one on the socket without closing it', async () => {
    const client = api.ws()
    const costly = await api.overWs(client, { query: 'subscription { rolloutEvents { rollout { traces(first: 100) { edges { node { traceId error } } } decisions(last: 100) { seq action } } } }' })
    expect(wsCodes(costly)).toEqual(['BAD_USER_INPUT'])
    expect(JSON.stringify(costly)).toMatch(/estimated cost is \d+, the limit is 500/)
    expect((await api.overWs(client, { query: '{ viewer { name } }' })).results).toEqual([{ data: { viewer: { name: 'limits admin' } } }])
  })

  it('a costly mutation is refused whole: nothing is written, over HTTP or WebSocket', async () => {
    const costly = `mutation($spec: JSON!) { applyApplication(spec: $spec) { id rollouts(first: 100) { edges { node { id steps { index } gates { name } decisions { seq } } } } } }`
    const http = await api.post({ query: costly, variables: { spec: demoSpec('costly-http') } })
    expect(codes(http.errors)).toEqual(['BAD_USER_INPUT'])
    const ws = await api.overWs(api.ws(), { query: costly, variables: { spec: demoSpec('costly-ws') } })
    expect(wsCodes(ws)).toEqual(['BAD_USER_INPUT'])
    expect(await api.store.applications.byName('costly-http')).toBeNull()
    expect(await api.store.applications.byName('costly-ws')).toBeNull()
  })

  it('keeps depth, alias and token limits on both paths', async () => {
    await refusedEverywhere(`{ rollouts { edges { node { application { rollouts { edges { node { application { rollouts { edges { node { id } } } } } } } } } } } }`, 'BAD_USER_INPUT')
    await refusedEverywhere(`{ ${Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ')} }`, 'BAD_USER_INPUT')
    const { http } = await refusedEverywhere(`{ ${'a '.repeat(1100)} }`, 'BAD_USER_INPUT')
    expect(http.errors?.[0]).toMatchObject({ message: expect.stringMatching(/more th\w+ 1000 tokens/), extensions: { limit: 'tokens', maxTokens: 1000 } })
  })

  it('turns introspection off on both paths, keeping __typename', async () => {
    const { http } = await refusedEverywhere('{ __schema { queryType { name } } }', 'INTROSPECTION_DISABLED')
    expect(http.errors?.[0]?.message).toMatch(/introspection is turned off/)
    await refusedEverywhere('{ __type(name: "Rollout") { name } }', 'INTROSPECTION_DISABLED')
    expect((await api.post({ query: '{ __typename viewer { __typename } }' })).data).toEqual({ __typename: 'Query', viewer: { __typename: 'Viewer' } })
  })

  it('refuses an HTTP body over the limit with 413, and changes nothing', async () => {
    const spec = demoSpec('too-big', { description: 'x'.repeat(5000) })
    const answer = await api.post({ query: APPLY, variables: { spec } })
    expect(answer.status).toBe(413)
    expect(answer.errors?.[0]).toMatchObject({ message: 'request body over 4096 bytes (SENTRA_GRAPHQL_MAX_BYTES)', extensions: { code: 'BAD_USER_INPUT', limit: 'bytes', maxBytes: 4096 } })
    expect(await api.store.applications.byName('too-big')).toBeNull()
  })

  it('closes a WebSocket that sends a message over the limit (1009), and changes nothing', async () => {
    const socket = new WebSocket(api.wsUrl, 'graphql-transport-ws')
    const messages: string[] = []
    socket.on('message', (data: Buffer) => messages.push(String(data)))
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    socket.send(JSON.stringify({ type: 'connection_init', payload: { token: api.admin } }))
    await expect.poll(() => messages.some((m) => m.includes('connection_ack'))).toBe(true)
    const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)))
    const spec = demoSpec('too-big-ws', { description: 'x'.repeat(5000) })
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: APPLY, variables: { spec } } }))
    expect(await closed).toBe(1009)
    expect(await api.store.applications.byName('too-big-ws')).toBeNull()
  })

  it('refuses batched (JSON array) HTTP requests: one operation per request', async () => {
    const batch = await api.post([{ query: '{ viewer { name } }' }, { query: APPLY, variables: { spec: demoSpec('batched-one') } }])
    // yoga's default too (batching unset = off); app.ts says `batching: false` to make it explicit.
    expect(batch.status).toBe(400)
    expect(batch.errors?.[0]?.message).toBe('Batching is not supported.')
    expect(await api.store.applications.byName('batched-one')).toBeNull()
  })
})

describe('query timeout on HTTP and graphql-ws', () => {
  let api: Server
  let slow = false
  let release: () => void = () => undefined
  let rolloutListCalls = 0

  beforeAll(async () => {
    // Short, but only the held query below comes near it.
    api = await startServer({ queryTimeoutMs: 1000 })
    // A store call the test can hold up, to see a query time out; and one it can count.
    const applications = api.store.applications
    const list = applications.list.bind(applications)
    applications.list = async (...args: Parameters<typeof list>) => {
      if (slow) await new Promise<void>((resolve) => (release = resolve))
      return list(...args)
    }
    const rollouts = api.store.rollouts
    const listRollouts = rollouts.list.bind(rollouts)
    rollouts.list = async (...args: Parameters<typeof listRollouts>) => {
      rolloutListCalls++
      return listRollouts(...args)
    }
  })
  afterAll(async () => {
    release()
    await api?.close()
  })

  it('cancels a query past the timeout, over HTTP and WebSocket; nothing below the slow field starts', async () => {
    const query = '{ applications(first: 2) { edges { node { name rollouts(first: 2) { edges { node { id } } } } } } }'
    await api.post({ query: APPLY, variables: { spec: demoSpec('timed') } })
    for (const path of ['http', 'ws'] as const) {
      slow = true
      const before = rolloutListCalls
      const answer = path === 'http' ? await api.post({ query }) : await api.overWs(api.ws(), { query })
      const errors = 'results' in answer ? answer.results.flatMap((r) => r.errors ?? []) : (answer.errors ?? [])
      expect(errors, path).toEqual([expect.objectContaining({ message: expect.stringMatching(/longer than 1000 ms and was cancelled/), extensions: expect.objectContaining({ code: 'QUERY_TIMEOUT' }) })])
      slow = false
      release()
      // The held store call now returns: the executor must not go on to the rollouts below it.
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(rolloutListCalls, path).toBe(before)
    }
    const answered = await api.post({ query })
    expect(answered.errors).toBeUndefined()
    expect(rolloutListCalls).toBeGreaterThan(0)
  })
})

describe('per-token rate limit on HTTP and graphql-ws', () => {
  let api: Server

  beforeAll(async () => {
    // Three operations, then one more every 100 seconds: nothing refills during the test.
    api = await startServer({ rateLimit: { perSecond: 0.01, burst: 3 } })
  })
  afterAll(async () => {
    await api?.close()
  })

  const newToken = async (name: string) => (await api.store.tokens.create(name, 'admin')).token

  it('answers HTTP 429 with Retry-After and RATE_LIMITED once a token runs out, and runs nothing', async () => {
    const token = await newToken('http caller')
    for (let i = 0; i < 3; i++) expect((await api.post({ query: '{ viewer { name } }' }, token)).status).toBe(200)
    const limited = await api.post({ query: APPLY, variables: { spec: demoSpec('rate-limited') } }, token)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(limited.errors?.[0]).toMatchObject({ message: expect.stringMatching(/rate limit exceeded/), extensions: { code: 'RATE_LIMITED', retryAfter: Number(limited.headers.get('retry-after')) } })
    expect(await api.store.applications.byName('rate-limited')).toBeNull()
    // Another token has its own bucket.
    expect((await api.post({ query: '{ viewer { name } }' }, await newToken('other caller'))).status).toBe(200)
  })

  it('counts graphql-ws operations against the same bucket, answering RATE_LIMITED without closing the socket', async () => {
    const token = await newToken('ws caller')
    const client = api.ws(token)
    for (let i = 0; i < 2; i++) expect((await api.overWs(client, { query: '{ viewer { name } }' })).results).toEqual([{ data: { viewer: { name: 'ws caller' } } }])
    // The third operation of this token goes over HTTP: the fourth, over the socket, is one too many.
    expect((await api.post({ query: '{ viewer { name } }' }, token)).status).toBe(200)
    const limited = await api.overWs(client, { query: APPLY, variables: { spec: demoSpec('rate-limited-ws') } })
    expect(limited.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/rate limit exceeded/), extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })])
    expect(await api.store.applications.byName('rate-limited-ws')).toBeNull()
    // Still open: the next one is answered (refused again) on the same socket.
    expect(wsCodes(await api.overWs(client, { query: '{ viewer { name } }' }))).toEqual(['RATE_LIMITED'])
    expect((await api.post({ query: '{ viewer { name } }' }, token)).status).toBe(429)
  })

  // Last in this block: it leaves 127.0.0.1 held off for this server.
  it('limits failed sign-ins per address, over HTTP and WebSocket, before checking the next token', async () => {
    const wsClose = async (token: string) => {
      const closes: number[] = []
      const client = createClient({ url: api.wsUrl, webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined, on: { closed: (event) => closes.push((event as { code: number }).code) } })
      await expect.poll(() => closes.length).toBeGreaterThan(0)
      await client.dispose()
      return closes[0]
    }
    expect((await api.post({ query: '{ viewer { name } }' }, null)).status).toBe(401)
    expect(await wsClose('not-a-token')).toBe(4403)
    expect((await api.post({ query: '{ viewer { name } }' }, 'not-a-token')).status).toBe(401)
    // Three failures from this address: the bucket is empty.
    const held = await api.post({ query: '{ viewer { name } }' }, 'still-not-a-token')
    expect(held.status).toBe(429)
    expect(held.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(codes(held.errors)).toEqual(['RATE_LIMITED'])
    expect(await wsClose('not-a-token')).toBe(4429)
    // The cost of the protection: while the address is held off, a valid token from it waits too.
    expect((await api.post({ query: '{ viewer { name } }' }, await newToken('same address'))).status).toBe(429)
  })
})

describe('defaults', () => {
  let api: Server
  beforeAll(async () => {
    api = await startServer({})
  })
  afterAll(async () => {
    await api?.close()
  })

  it('keep introspection on (GraphiQL, codegen against a live server) and large legitimate pages working', async () => {
    const introspection = await api.post({ query: '{ __schema { queryType { name } } }' })
    expect(introspection.data).toEqual({ __schema: { queryType: { name: 'Query' } } })
    const page = await api.post({ query: '{ applications(first: 100) { edges { node { rollouts(first: 6) { edges { node { id steps { index } lastDecision { action } } } } } } } }' })
    expect(page.errors).toBeUndefined()
  })
})
