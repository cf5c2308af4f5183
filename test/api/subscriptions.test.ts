import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createClient, type Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'
import { TEST_REDIS_URL } from '../support/databases.ts'

const run = promisify(execFile)

interface Next {
  data?: Record<string, unknown> | null
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[]
}

function client(api: TestApi, token: string | null = api.tokens.read, onClose?: (code: number) => void): Client {
  return createClient({
    url: api.wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { token } : {},
    on: { closed: (event) => onClose?.((event as { code: number }).code) },
  })
}

/** Collects what one subscription yields. */
function collect(c: Client, query: string, variables: Record<string, unknown> = {}) {
  const received: Next[] = []
  let completed = false
  let failure: unknown = null
  const dispose = c.subscribe(
    { query, variables },
    { next: (value) => received.push(value as Next), error: (error) => (failure = error), complete: () => (completed = true) },
  )
  return { received, dispose, done: () => completed, failure: () => failure }
}

const CHANGED = `subscription($id: ID!) { rolloutChanged(id: $id) { id status seq desiredWeight } }`

for (const busKind of ['memory', 'redis'] as const) {
  describe(`graphql-ws subscriptions (${busKind} bus)`, () => {
    let api: TestApi & { prefix: string; databaseUrl: string }
    let rolloutId: string
    let storedId: string

    beforeAll(async () => {
      api = await startTestApi(busKind === 'redis' ? 'mysql' : 'sqlite', { bus: busKind })
      await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: demoSpec('live') })
      const started = await api.gql<{ startRollout: { id: string } }>(`mutation { startRollout(application: "live", version: "v2") { id } }`)
      rolloutId = started.data!.startRollout.id
      storedId = Buffer.from(rolloutId, 'base64').toString().split(':')[1]!
    })
    afterAll(async () => {
      await api?.close()
    })

    it('sends the current rollout, then every change in order', async () => {
      const c = client(api)
      const sub = collect(c, CHANGED, { id: rolloutId })
      await expect.poll(() => sub.received.length).toBe(1)
      expect(sub.received[0]?.data?.rolloutChanged).toMatchObject({ id: rolloutId, status: 'PENDING', seq: 0 })
      for (const status of ['PROGRESSING', 'PAUSED', 'PROGRESSING'] as const) {
        const rollout = await api.store.rollouts.update(storedId, { status })
        await api.bus.publish('rollout.changed', { rolloutId: storedId, application: 'live', seq: rollout.seq, status, kind: 'state', at: new Date().toISOString() })
      }
      await expect.poll(() => sub.received.length).toBe(4)
      // Each event delivers the rollout as it is now (refetched), so quick changes may show
      // their latest state more than once; what matters is it never goes backwards.
      const seqs = sub.received.map((r) => (r.data?.rolloutChanged as { seq: number }).seq)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      expect(seqs.at(-1)).toBe(3)
      expect((sub.received.at(-1)?.data?.rolloutChanged as { status: string }).status).toBe('PROGRESSING')
      sub.dispose()
      await c.dispose()
    })

    it('feeds rolloutEvents for dashboards, filtered by application', async () => {
      const c = client(api)
      const all = collect(c, `subscription { rolloutEvents { kind seq rollout { id applicationName } } }`)
      const other = collect(c, `subscription { rolloutEvents(application: "someone-else") { kind } }`)
      await new Promise((r) => setTimeout(r, 200))
      const published: number[] = []
      for (const weight of [25, 50, 75]) {
        const rollout = await api.store.rollouts.update(storedId, { desiredWeight: weight })
        published.push(rollout.seq)
        await api.bus.publish('rollout.changed', { rolloutId: storedId, application: 'live', seq: rollout.seq, status: rollout.status, kind: 'weight', at: new Date().toISOString() })
      }
      await expect.poll(() => all.received.length).toBe(3)
      const events = all.received.map((r) => r.data?.rolloutEvents as { kind: string; seq: number; rollout: { id: string } })
      // Every change, in order, with consecutive sequence numbers.
      expect(events.map((e) => e.seq)).toEqual(published)
      expect(published[2]! - published[0]!).toBe(2)
      expect(events[0]).toMatchObject({ kind: 'weight', rollout: { id: rolloutId, applicationName: 'live' } })
      expect(other.received).toHaveLength(0)
      all.dispose()
      other.dispose()
      await c.dispose()
    })

    it('answers a bad subscription document with errors and keeps the socket open', async () => {
      const closes: number[] = []
      const c = client(api, api.tokens.read, (code) => closes.push(code))
      const good = collect(c, CHANGED, { id: rolloutId })
      await expect.poll(() => good.received.length).toBe(1)
      const broken = collect(c, `subscription { rolloutChanged(id: ) { id } }`)
      const unknownField = collect(c, `subscription { nope }`)
      const badId = collect(c, CHANGED, { id: 'garbage' })
      await expect.poll(() => Boolean(broken.failure()) && Boolean(unknownField.failure())).toBe(true)
      await expect.poll(() => badId.received.length + (badId.failure() ? 1 : 0)).toBeGreaterThan(0)
      expect(JSON.stringify(badId.received)).toMatch(/BAD_USER_INPUT/)
      // The first subscription still receives changes on the same socket.
      const rollout = await api.store.rollouts.update(storedId, { status: 'PAUSED' })
      await api.bus.publish('rollout.changed', { rolloutId: storedId, application: 'live', seq: rollout.seq, status: 'PAUSED', kind: 'state', at: new Date().toISOString() })
      await expect.poll(() => good.received.length).toBe(2)
      expect(closes).toEqual([])
      good.dispose()
      await c.dispose()
    })

    it('refuses a connection without a valid token (4403)', async () => {
      for (const token of [null, 'wrong-token']) {
        const closes: number[] = []
        const c = client(api, token, (code) => closes.push(code))
        const sub = collect(c, CHANGED, { id: rolloutId })
        await expect.poll(() => closes.length).toBeGreaterThan(0)
        expect(closes[0]).toBe(4403)
        expect(sub.received).toHaveLength(0)
        await c.dispose()
      }
    })

    it('stops serving a token revoked after connecting', async () => {
      const { token, apiToken } = await api.store.tokens.create('short lived', 'read')
      const c = client(api, token)
      const first = collect(c, CHANGED, { id: rolloutId })
      await expect.poll(() => first.received.length).toBe(1)
      await api.store.tokens.revoke(apiToken.id)
      const second = collect(c, CHANGED, { id: rolloutId })
      await expect.poll(() => Boolean(second.failure())).toBe(true)
      expect(JSON.stringify(second.failure())).toMatch(/no longer valid/)
      first.dispose()
      await c.dispose()
    })

    if (busKind === 'redis') {
      it('delivers a change made and published by a separate process through Redis', async () => {
        const c = client(api)
        const sub = collect(c, CHANGED, { id: rolloutId })
        await expect.poll(() => sub.received.length).toBe(1)
        const { stdout } = await run(process.execPath, [
          '--import',
          'tsx',
          'test/support/change-rollout.ts',
          api.databaseUrl,
          TEST_REDIS_URL,
          api.prefix,
          storedId,
          'ROLLING_BACK',
        ])
        expect(stdout).toMatch(/published seq/)
        await expect.poll(() => sub.received.length, { timeout: 10_000 }).toBe(2)
        expect(sub.received[1]?.data?.rolloutChanged).toMatchObject({ status: 'ROLLING_BACK', desiredWeight: 5 })
        sub.dispose()
        await c.dispose()
      })
    }
  })
}
