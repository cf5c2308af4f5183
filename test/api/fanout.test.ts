/**
 * Execute-once fan-out of graphql-ws subscriptions (server/fanout/) through a real API
 * server and real graphql-ws clients: shared executions, scopes that never share, cleanup,
 * per-operation errors, and the per-token connection cap.
 */
import { createClient, type Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Bus } from '../../schema/events/bus.ts'
import { createBus } from '../../schema/events/index.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { createApiServer, type ApiServer } from '../../server/app.ts'
import { WS_TOO_MANY_CONNECTIONS } from '../../server/fanout/connections.ts'
import { demoSpec } from '../support/api.ts'
import { openTestStore } from '../support/databases.ts'

interface Next {
  data?: Record<string, unknown> | null
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[]
}

/** The bus, counting the iterators (bus subscriptions) open: a leak shows as a count that stays up. */
function countingBus(bus: Bus): { bus: Bus; open: () => number } {
  let open = 0
  const counted = new Proxy(bus, {
    get(target, property) {
      if (property === 'iterate') {
        return (...args: Parameters<Bus['iterate']>) => {
          const iterator = target.iterate(...args)
          open++
          let ended = false
          const end = () => {
            if (!ended) open--
            ended = true
          }
          const next = iterator.next.bind(iterator)
          const ret = iterator.return.bind(iterator)
          const thr = iterator.throw.bind(iterator)
          return Object.assign(iterator, {
            next: async () => {
              const step = await next()
              if (step.done) end()
              return step
            },
            return: async () => (end(), ret()),
            throw: async (error?: unknown) => (end(), thr(error)),
          })
        }
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { bus: counted, open: () => open }
}

const EVENTS = `subscription { rolloutEvents { kind seq rollout { id applicationName } } }`
const CHANGED = `subscription($id: ID!) { rolloutChanged(id: $id) { id applicationName status } }`

describe('graphql-ws fan-out', () => {
  let store: Store
  let dispose: () => Promise<void>
  let counted: ReturnType<typeof countingBus>
  let shared: ApiServer
  let unshared: ApiServer
  const urls = { shared: '', unshared: '' }
  const tokens = { admin: '', alpha1: '', alpha2: '', alpha2Id: '', beta: '', capped: '' }
  const rollouts: Record<'alpha' | 'beta', { id: string; stored: string }> = { alpha: { id: '', stored: '' }, beta: { id: '', stored: '' } }
  /** Rollout rows fetched by executions: one per execution of `rollout { ... }`. */
  let fetches = 0

  beforeAll(async () => {
    const database = await openTestStore('sqlite')
    store = createStore(database.db)
    const byIds = store.rollouts.byIds.bind(store.rollouts)
    store.rollouts.byIds = async (ids) => {
      fetches++
      return byIds(ids)
    }
    const bus = createBus(undefined)
    counted = countingBus(bus)
    shared = createApiServer({ store, bus: counted.bus, websocket: { maxConnectionsPerToken: 2 } })
    unshared = createApiServer({ store, bus: counted.bus, websocket: { fanout: false } })
    urls.shared = `${(await shared.listen(0, '127.0.0.1')).url.replace(/^http/, 'ws')}/graphql`
    urls.unshared = `${(await unshared.listen(0, '127.0.0.1')).url.replace(/^http/, 'ws')}/graphql`
    dispose = async () => {
      await shared.close()
      await unshared.close()
      await bus.close()
      await database.dispose()
    }
    tokens.admin = (await store.tokens.create('admin', 'admin')).token
    tokens.alpha1 = (await store.tokens.create('alpha one', 'read', { applications: ['alpha'] })).token
    const alpha2 = await store.tokens.create('alpha two', 'read', { applications: ['alpha'] })
    tokens.alpha2 = alpha2.token
    tokens.alpha2Id = alpha2.apiToken.id
    tokens.beta = (await store.tokens.create('beta', 'read', { applications: ['beta'] })).token
    tokens.capped = (await store.tokens.create('capped', 'read')).token
    const graphqlUrl = urls.shared.replace(/^ws/, 'http')
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.admin}` },
        body: JSON.stringify({ query, variables }),
      })
      return (await response.json()) as { data: Record<string, { id: string }> }
    }
    for (const app of ['alpha', 'beta'] as const) {
      await gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: demoSpec(app) })
      const id = (await gql(`mutation { startRollout(application: "${app}", version: "v2") { id } }`)).data.startRollout!.id
      rollouts[app] = { id, stored: Buffer.from(id, 'base64').toString().split(':')[1]! }
    }
  })
  afterAll(async () => {
    await dispose?.()
  })

  function connect(url: string, token: string, onClose?: (code: number) => void): Client {
    return createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { token },
      // A refused connection is what some tests expect: reported through onClose, not printed.
      onNonLazyError: () => {},
      on: { closed: (event) => onClose?.((event as { code: number }).code) },
    })
  }

  function collect(c: Client, query: string, variables: Record<string, unknown> = {}) {
    const received: Next[] = []
    let completed = false
    let failure: unknown = null
    const stop = c.subscribe({ query, variables }, { next: (v) => received.push(v as Next), error: (e) => (failure = e), complete: () => (completed = true) })
    return { received, stop, done: () => completed, failure: () => failure }
  }

  async function publish(app: 'alpha' | 'beta'): Promise<void> {
    const rollout = await store.rollouts.update(rollouts[app].stored, { status: 'PROGRESSING' })
    await counted.bus.publish('rollout.changed', { rolloutId: rollouts[app].stored, application: app, seq: rollout.seq, status: rollout.status, kind: 'state', at: new Date().toISOString() })
  }

  /** sentra_graphql_subscriptions_active as the server's /metrics would show it. */
  async function activeSubscriptions(server: ApiServer): Promise<number> {
    const text = await server.metrics.registry.getSingleMetricAsString('sentra_graphql_subscriptions_active')
    return Number(/^sentra_graphql_subscriptions_active (\S+)$/m.exec(text)?.[1])
  }

  /** sentra_graphql_operations_total{type="subscription"} of the server, all names and outcomes. */
  async function subscriptionOperations(server: ApiServer): Promise<number> {
    const text = await server.metrics.registry.getSingleMetricAsString('sentra_graphql_operations_total')
    return [...text.matchAll(/^sentra_graphql_operations_total\{[^}]*type="subscription"[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
  }

  /** Waits until `count` bus subscriptions are open (subscribers are set up server-side). */
  async function subscribed(count: number): Promise<void> {
    await expect.poll(() => counted.open(), { timeout: 5000 }).toBe(count)
  }

  it('runs one execution per event for subscribers that share a selection and scope, and never across scopes', async () => {
    const operationsBefore = await subscriptionOperations(shared)
    const clients = [connect(urls.shared, tokens.alpha1), connect(urls.shared, tokens.alpha2), connect(urls.shared, tokens.beta), connect(urls.shared, tokens.admin)]
    // Two tokens limited to alpha (one execution between them), one to beta, and an admin.
    const alpha = [collect(clients[0]!, EVENTS), collect(clients[0]!, EVENTS), collect(clients[1]!, EVENTS)]
    const beta = collect(clients[2]!, EVENTS)
    const admin = collect(clients[3]!, EVENTS)
    await subscribed(3)
    // The gauge counts subscribers (5), not the 3 shared executions.
    await expect.poll(() => activeSubscriptions(shared)).toBe(5)
    // So does the operations counter: five subscription operations, not three executions.
    expect((await subscriptionOperations(shared)) - operationsBefore).toBe(5)
    const before = fetches
    await publish('alpha')
    await expect.poll(() => admin.received.length + alpha.reduce((n, s) => n + s.received.length, 0)).toBe(4)
    // The alpha group and the admin group executed; the beta group never saw the event.
    expect(fetches - before).toBe(2)
    expect(alpha[1]!.received).toEqual(alpha[0]!.received)
    expect(alpha[2]!.received).toEqual(alpha[0]!.received)
    expect(alpha[0]!.received[0]?.data?.rolloutEvents).toMatchObject({ kind: 'state', rollout: { id: rollouts.alpha.id, applicationName: 'alpha' } })

    await publish('beta')
    await expect.poll(() => beta.received.length + admin.received.length).toBe(3)
    // A token limited to alpha never receives beta's data, however the groups line up.
    expect(JSON.stringify(alpha.map((s) => s.received))).not.toContain('beta')
    expect(JSON.stringify(beta.received)).not.toContain('alpha')
    expect(beta.received[0]?.data?.rolloutEvents).toMatchObject({ rollout: { applicationName: 'beta' } })

    for (const s of [...alpha, beta, admin]) s.stop()
    await subscribed(0)
    await expect.poll(() => activeSubscriptions(shared)).toBe(0)
    await Promise.all(clients.map((c) => c.dispose()))
  })

  it('answers a rollout of another application as missing, even when an admin shares the document', async () => {
    const adminClient = connect(urls.shared, tokens.admin)
    const alphaClient = connect(urls.shared, tokens.alpha1)
    const seen = collect(adminClient, CHANGED, { id: rollouts.beta.id })
    await expect.poll(() => seen.received.length).toBe(1)
    const hidden = collect(alphaClient, CHANGED, { id: rollouts.beta.id })
    const own = collect(alphaClient, CHANGED, { id: rollouts.alpha.id })
    await expect.poll(() => Boolean(hidden.failure())).toBe(true)
    expect(JSON.stringify(hidden.failure())).toMatch(/NOT_FOUND|does not exist/)
    expect(hidden.received).toEqual([])
    // Errors are per operation: the socket and its other subscription carry on.
    await expect.poll(() => own.received.length).toBe(1)
    await publish('alpha')
    await expect.poll(() => own.received.length).toBe(2)
    seen.stop()
    own.stop()
    await subscribed(0)
    await Promise.all([adminClient.dispose(), alphaClient.dispose()])
  })

  it('ends only the revoked token’s subscriptions in a shared execution', async () => {
    const c1 = connect(urls.shared, tokens.alpha1)
    const c2 = connect(urls.shared, tokens.alpha2)
    const kept = collect(c1, EVENTS)
    const revoked = collect(c2, EVENTS)
    await subscribed(1)
    await store.tokens.revoke(tokens.alpha2Id)
    await publish('alpha')
    await expect.poll(() => Boolean(revoked.failure())).toBe(true)
    expect(JSON.stringify(revoked.failure())).toMatch(/no longer valid/)
    await expect.poll(() => kept.received.length).toBe(1)
    expect(revoked.received).toEqual([])
    kept.stop()
    await subscribed(0)
    await Promise.all([c1.dispose(), c2.dispose()])
  })

  it('cleans up when sockets close without completing their operations', async () => {
    const clients = [connect(urls.shared, tokens.admin), connect(urls.shared, tokens.beta)]
    collect(clients[0]!, EVENTS)
    collect(clients[0]!, CHANGED, { id: rollouts.alpha.id })
    collect(clients[1]!, EVENTS)
    await subscribed(3)
    for (const c of clients) await c.dispose()
    await subscribed(0)
  })

  it(`refuses a token's connection over SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN with ${WS_TOO_MANY_CONNECTIONS}`, async () => {
    const closes: number[] = []
    const held = [connect(urls.shared, tokens.capped), connect(urls.shared, tokens.capped)]
    const subs = held.map((c) => collect(c, CHANGED, { id: rollouts.alpha.id }))
    await expect.poll(() => subs.every((s) => s.received.length === 1)).toBe(true)
    const extra = connect(urls.shared, tokens.capped, (code) => closes.push(code))
    collect(extra, CHANGED, { id: rollouts.alpha.id })
    await expect.poll(() => closes).toEqual([WS_TOO_MANY_CONNECTIONS])
    await extra.dispose()
    // Another token is not affected; a slot freed by a closed socket can be used again.
    const other = connect(urls.shared, tokens.beta)
    const otherSub = collect(other, EVENTS)
    await held[0]!.dispose()
    const again = connect(urls.shared, tokens.capped)
    const againSub = collect(again, CHANGED, { id: rollouts.alpha.id })
    await expect.poll(() => againSub.received.length).toBe(1)
    expect(otherSub.failure()).toBeNull()
    await Promise.all([held[1]!.dispose(), other.dispose(), again.dispose()])
    await subscribed(0)
  })

  it('executes once per subscriber with SENTRA_WS_FANOUT off (what the count above is compared to)', async () => {
    const c = connect(urls.unshared, tokens.alpha1)
    const subs = [collect(c, EVENTS), collect(c, EVENTS), collect(c, EVENTS)]
    await subscribed(3)
    const before = fetches
    await publish('alpha')
    await expect.poll(() => subs.every((s) => s.received.length === 1)).toBe(true)
    expect(fetches - before).toBe(3)
    // Last: without the fan-out, a stopped subscription keeps its bus subscription until its
    // next event (its generator sees return() only at a yield), which would upset the counts.
    for (const s of subs) s.stop()
    await c.dispose()
  })
})
