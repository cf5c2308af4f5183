import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Notifier } from '../../controller/notify/notifier.ts'
import { verifySignature } from '../../controller/notify/signature.ts'
import { connect } from '../../schema/store/connect.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import type { Decision, Rollout } from '../../schema/store/models.ts'
import { startTestApi } from '../support/api.ts'
import { DIALECTS } from '../support/databases.ts'
import { freePort, waitFor } from '../support/rollouts.ts'
import { makeApplication, makeRollout, uniqueName } from '../support/store-fixtures.ts'
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.ts'

/** Small timings so retries and dead letters happen within a test. */
const FAST = { maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 200, timeoutMs: 400, pollIntervalMs: 25, scanIntervalMs: 200, leaseMs: 3000 }

const CREATE = `mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { secret subscription { id application url format events enabled } } }`
const LOG = `{ webhookSubscriptions { id enabled disabledReason
  deliveries(last: 50) { id event status attempts lastStatusCode lastError createdAt deliveredAt nextAttemptAt rollout { id toVersion } } } }`

interface LoggedDelivery {
  id: string
  event: string
  status: string
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  createdAt: string
  deliveredAt: string | null
  nextAttemptAt: string | null
  rollout: { id: string; toVersion: string } | null
}
interface LoggedSubscription {
  id: string
  enabled: boolean
  disabledReason: string | null
  deliveries: LoggedDelivery[]
}

describe.each(DIALECTS)('webhook delivery to a real receiver on %s', (dialect) => {
  let api: Awaited<ReturnType<typeof startTestApi>>
  let notifier: Notifier
  const receivers: WebhookReceiver[] = []
  const cleanups: (() => Promise<void>)[] = []

  /** A rollout of an application of the test's own, so only the test's subscription matches it. */
  async function freshRollout(): Promise<Rollout> {
    const application = await makeApplication(api.store.db, uniqueName('shop'))
    return makeRollout(api.store.db, { application })
  }

  /** Writes a decision as the controller does (seq bump, decision row) and, unless told not to, publishes it. */
  async function decide(rollout: Rollout, action: string, reason = `${action.toLowerCase()} for a test`, { publish = 1 } = {}): Promise<Decision> {
    const current = (await api.store.rollouts.byId(rollout.id))!
    const written = await api.store.rollouts.update(rollout.id, {}, { expectSeq: current.seq })
    const decision = await api.store.decisions.append({
      rolloutId: rollout.id,
      seq: written.seq,
      action,
      actor: 'controller',
      reason,
      stepIndex: 0,
      fromWeight: 20,
      toWeight: action === 'SET_WEIGHT' ? 40 : 0,
      evidence: { gates: [] },
    })
    for (let i = 0; i < publish; i++) {
      await api.bus.publish('rollout.changed', { rolloutId: rollout.id, application: rollout.applicationName, seq: written.seq, status: written.status, kind: 'decision', at: new Date().toISOString() })
    }
    return decision
  }

  async function subscribe(input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const created = await api.gql<{ createWebhookSubscription: { secret: string; subscription: { id: string } } }>(CREATE, { input })
    expect(created.errors).toBeUndefined()
    const { secret, subscription } = created.data!.createWebhookSubscription
    cleanups.push(async () => void (await api.gql(`mutation($id: ID!) { deleteWebhookSubscription(id: $id) }`, { id: subscription.id })))
    return { id: subscription.id, secret }
  }

  async function receiver(...args: Parameters<typeof startReceiver>): Promise<WebhookReceiver> {
    const started = await startReceiver(...args)
    receivers.push(started)
    return started
  }

  async function logOf(id: string): Promise<LoggedSubscription> {
    const result = await api.gql<{ webhookSubscriptions: LoggedSubscription[] }>(LOG)
    expect(result.errors).toBeUndefined()
    return result.data!.webhookSubscriptions.find((s) => s.id === id)!
  }

  const until = (id: string, done: (s: LoggedSubscription) => boolean, what: string, timeoutMs = 10_000) =>
    waitFor(() => logOf(id), done, { timeoutMs, everyMs: 50, what })

  function verified(request: ReceivedRequest, secret: string): boolean {
    return verifySignature(secret, request.headers['x-sentra-timestamp'] as string, request.body, request.headers['x-sentra-signature'] as string)
  }

  beforeAll(async () => {
    api = await startTestApi(dialect)
    notifier = new Notifier({ store: api.store, bus: api.bus, ...FAST })
    await notifier.start()
  })
  afterAll(async () => {
    await notifier?.stop()
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
    for (const r of receivers) await r.close()
    await api?.close()
  })

  it('a decision becomes one signed JSON delivery the receiver verifies; the log shows it', async () => {
    const hook = await receiver()
    const rollout = await freshRollout()
    const { id, secret } = await subscribe({ url: hook.url, application: rollout.applicationName, events: ['ROLLOUT_STARTED', 'ROLLOUT_ROLLED_BACK'] })
    const start = await decide(rollout, 'START', 'rollout started')
    await decide(rollout, 'PAUSE') // not subscribed
    await decide(rollout, 'RESUME') // fires nothing
    await waitFor(async () => hook.requests.length, (n) => n >= 1, { what: 'the delivery' })

    const [request] = hook.requests as [ReceivedRequest]
    expect(request.method).toBe('POST')
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers['x-sentra-event']).toBe('rollout.started')
    const timestamp = Number(request.headers['x-sentra-timestamp'])
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(10)
    expect(request.headers['x-sentra-signature']).toMatch(/^sha256=[0-9a-f]{64}$/)
    expect(verified(request, secret)).toBe(true)
    expect(verified(request, 'another-secret-of-16')).toBe(false)
    expect(verifySignature(secret, String(timestamp), request.body, request.headers['x-sentra-signature'] as string, (timestamp + 301) * 1000)).toBe(false)

    const body = JSON.parse(request.body) as Record<string, unknown> & { rollout: { id: string } }
    expect(body).toEqual({
      id: request.headers['x-sentra-delivery'],
      event: 'rollout.started',
      at: start.at.toISOString(),
      application: rollout.applicationName,
      rollout: { id: expect.any(String), fromVersion: 'v1', toVersion: 'v2', status: 'PENDING', canaryWeight: 0 },
      decision: { action: 'START', actor: 'controller', reason: 'rollout started', at: start.at.toISOString(), stepIndex: 0, fromWeight: 20, toWeight: 0 },
    })
    expect(decodeGlobalID(body.rollout.id)).toEqual({ typename: 'Rollout', id: rollout.id })
    // The Relay id works in the graph.
    const fetched = await api.gql<{ rollout: { toVersion: string } }>(`query($id: ID!) { rollout(id: $id) { toVersion } }`, { id: body.rollout.id })
    expect(fetched.data?.rollout.toVersion).toBe('v2')

    const log = await until(id, (s) => s.deliveries[0]?.status === 'DELIVERED', 'DELIVERED')
    expect(log.deliveries).toEqual([
      {
        id: request.headers['x-sentra-delivery'],
        event: 'ROLLOUT_STARTED',
        status: 'DELIVERED',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        createdAt: expect.any(String),
        deliveredAt: expect.any(String),
        nextAttemptAt: null,
        rollout: { id: body.rollout.id, toVersion: 'v2' },
      },
    ])

    // A rollback is announced once it is complete, with the ROLLBACK decision as its cause.
    await decide(rollout, 'ROLLBACK', 'errors failed: error rate 7.9 % vs 0.4 %')
    const done = await decide(rollout, 'ROLLED_BACK', 'rolled back: all traffic is on the stable version')
    await waitFor(async () => hook.requests.length, (n) => n >= 2, { what: 'the rollback delivery' })
    const rolledBack = JSON.parse(hook.requests[1]!.body) as { event: string; decision: { action: string }; cause: { action: string; reason: string } }
    expect(rolledBack).toMatchObject({ event: 'rollout.rolled_back', at: done.at.toISOString(), decision: { action: 'ROLLED_BACK' }, cause: { action: 'ROLLBACK', reason: 'errors failed: error rate 7.9 % vs 0.4 %' } })
    expect(hook.requests[1]!.headers['x-sentra-event']).toBe('rollout.rolled_back')
    expect(verified(hook.requests[1]!, secret)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(hook.requests).toHaveLength(2)
  })

  it('sends the Slack format: a readable summary and blocks, still signed', async () => {
    const hook = await receiver()
    const rollout = await freshRollout()
    const { secret } = await subscribe({ url: hook.url, application: rollout.applicationName, format: 'SLACK', events: ['ROLLOUT_ROLLED_BACK'] })
    await decide(rollout, 'ROLLBACK', 'error rate 7.9 % vs 0.4 %')
    await decide(rollout, 'ROLLED_BACK', 'rolled back: all traffic is on the stable version')
    await waitFor(async () => hook.requests.length, (n) => n >= 1, { what: 'the Slack delivery' })
    const request = hook.requests[0]!
    expect(JSON.parse(request.body)).toEqual({
      text: `${rollout.applicationName} v2 rolled back: error rate 7.9 % vs 0.4 %`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `:rewind: *${rollout.applicationName}* \`v2\` rolled back: error rate 7.9 % vs 0.4 %` } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'stable v1 · weight 20 % → 0 % · by controller · rollout.rolled_back' }] },
      ],
    })
    expect(request.headers['content-type']).toBe('application/json')
    expect(verified(request, secret)).toBe(true)
  })

  it('retries a receiver that answers 500 twice, then 200: DELIVERED after 3 attempts of the same delivery', async () => {
    const hook = await receiver({ respond: (_req, i) => (i < 2 ? { status: 500, body: 'database is down' } : { status: 200 }) })
    const rollout = await freshRollout()
    const { id, secret } = await subscribe({ url: hook.url, application: rollout.applicationName })
    await decide(rollout, 'PAUSE', 'paused by alice')
    const log = await until(id, (s) => s.deliveries[0]?.status === 'DELIVERED', 'DELIVERED')
    expect(log.deliveries[0]).toMatchObject({ event: 'ROLLOUT_PAUSED', status: 'DELIVERED', attempts: 3, lastStatusCode: 200, lastError: 'HTTP 500: database is down' })
    expect(hook.requests).toHaveLength(3)
    // Every attempt: the same delivery id and body, freshly signed.
    expect(new Set(hook.requests.map((r) => r.headers['x-sentra-delivery']))).toEqual(new Set([log.deliveries[0]!.id]))
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1)
    expect(hook.requests.every((r) => verified(r, secret))).toBe(true)
    // Backed off between attempts.
    expect(hook.requests[1]!.at - hook.requests[0]!.at).toBeGreaterThanOrEqual(FAST.baseDelayMs / 2 - 5)
  })

  it('retries a receiver that times out, once it answers in time', async () => {
    const hook = await receiver({ respond: (_req, i) => (i === 0 ? { status: 200, delayMs: 2000 } : { status: 204 }) })
    const rollout = await freshRollout()
    const { id } = await subscribe({ url: hook.url, application: rollout.applicationName })
    await decide(rollout, 'START')
    const log = await until(id, (s) => s.deliveries[0]?.status === 'DELIVERED', 'DELIVERED')
    expect(log.deliveries[0]).toMatchObject({ status: 'DELIVERED', attempts: 2, lastStatusCode: 204, lastError: expect.stringMatching(/within 400 ms \(timed out\)/) })
    expect(hook.requests).toHaveLength(2)
  })

  it('a receiver that is down becomes DEAD after max attempts; redelivery sends it once the receiver is back', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}/hooks/sentra`
    const rollout = await freshRollout()
    const { id, secret } = await subscribe({ url, application: rollout.applicationName })
    await decide(rollout, 'PROMOTE', 'all 2 steps done')
    const dead = await until(id, (s) => s.deliveries[0]?.status === 'DEAD', 'DEAD')
    expect(dead.deliveries[0]).toMatchObject({ status: 'DEAD', attempts: FAST.maxAttempts, lastStatusCode: null, lastError: expect.stringMatching(/connection refused.*ECONNREFUSED/), nextAttemptAt: null, deliveredAt: null })
    // Dead letters stay dead.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await logOf(id)).deliveries[0]?.attempts).toBe(FAST.maxAttempts)

    const hook = await receiver({ port })
    const redelivered = await api.gql<{ redeliverWebhook: { status: string; attempts: number } }>(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { status attempts } }`, {
      id: dead.deliveries[0]!.id,
    })
    expect(redelivered.errors).toBeUndefined()
    expect(redelivered.data?.redeliverWebhook).toEqual({ status: 'PENDING', attempts: 0 })
    const log = await until(id, (s) => s.deliveries[0]?.status === 'DELIVERED', 'DELIVERED after redelivery')
    expect(log.deliveries[0]).toMatchObject({ attempts: 1, lastStatusCode: 200 })
    expect(hook.requests).toHaveLength(1)
    expect(JSON.parse(hook.requests[0]!.body)).toMatchObject({ event: 'rollout.promoted', id: dead.deliveries[0]!.id })
    expect(verified(hook.requests[0]!, secret)).toBe(true)
    // Delivered is final.
    const again = await api.gql(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { status } }`, { id: dead.deliveries[0]!.id })
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT')
  })

  it('410 Gone disables the subscription; nothing more is sent to it', async () => {
    const hook = await receiver({ respond: () => ({ status: 410, body: 'gone' }) })
    const rollout = await freshRollout()
    const { id } = await subscribe({ url: hook.url, application: rollout.applicationName })
    await decide(rollout, 'START')
    const log = await until(id, (s) => !s.enabled, 'disabled')
    expect(log.disabledReason).toMatch(/410 Gone/)
    expect(log.deliveries[0]).toMatchObject({ status: 'DEAD', attempts: 1, lastStatusCode: 410, lastError: expect.stringMatching(/410 Gone/) })
    await decide(rollout, 'SET_WEIGHT')
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(hook.requests).toHaveLength(1)
    expect((await logOf(id)).deliveries).toHaveLength(1)
    const refused = await api.gql(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { status } }`, { id: log.deliveries[0]!.id })
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT')
  })

  it('duplicate bus events and rescans do not duplicate deliveries; a lost event is caught by the scan', async () => {
    const hook = await receiver()
    const rollout = await freshRollout()
    const { id } = await subscribe({ url: hook.url, application: rollout.applicationName })
    await decide(rollout, 'SET_WEIGHT', 'weight 20 % → 40 %', { publish: 5 })
    await Promise.all([notifier.scan(), notifier.scan()])
    await until(id, (s) => s.deliveries.length === 1 && s.deliveries[0]!.status === 'DELIVERED', 'one delivery')
    // Published nowhere: the periodic scan finds it.
    await decide(rollout, 'ADVANCE', 'analysis passed', { publish: 0 })
    const log = await until(id, (s) => s.deliveries.length === 2 && s.deliveries.every((d) => d.status === 'DELIVERED'), 'the scanned delivery')
    expect(log.deliveries.map((d) => d.event)).toEqual(['ROLLOUT_STEP_ADVANCED', 'ROLLOUT_STEP_ADVANCED'])
    await new Promise((resolve) => setTimeout(resolve, 2 * FAST.scanIntervalMs))
    expect(hook.requests).toHaveLength(2)
    expect((await logOf(id)).deliveries).toHaveLength(2)
  })

  it('two notifiers on one store never send the same attempt twice', async () => {
    // The first attempt of every delivery fails, so retries move between the notifiers too.
    const attemptsSeen = new Map<string, number>()
    const hook = await receiver({
      respond: (req) => {
        const delivery = String(req.headers['x-sentra-delivery'])
        const n = (attemptsSeen.get(delivery) ?? 0) + 1
        attemptsSeen.set(delivery, n)
        return n === 1 ? { status: 503, delayMs: 10 } : { status: 200, delayMs: 10 }
      },
    })
    // MySQL: a pool of its own, as another controller would have. SQLite: the same connection
    // (better-sqlite3 is synchronous: two connections in one process wait on each other's
    // locks while blocking the event loop; separate SQLite processes do not share this problem).
    const second: Store = dialect === 'mysql' ? createStore(connect(api.databaseUrl)) : api.store
    const other = new Notifier({ store: second, bus: api.bus, ...FAST })
    await other.start()
    const before = notifier.stats
    try {
      const rollout = await freshRollout()
      const { id } = await subscribe({ url: hook.url, application: rollout.applicationName })
      const count = 24
      for (let i = 0; i < count; i++) await decide(rollout, i % 2 === 0 ? 'SET_WEIGHT' : 'ADVANCE')
      await until(id, (s) => s.deliveries.length === count && s.deliveries.every((d) => d.status === 'DELIVERED'), 'every delivery', 20_000)
      expect(attemptsSeen.size).toBe(count)
      expect([...attemptsSeen.values()].every((n) => n === 2)).toBe(true)
      expect(hook.requests).toHaveLength(2 * count)
      const log = await logOf(id)
      expect(log.deliveries.every((d) => d.attempts === 2)).toBe(true)
      // Between them, the two notifiers made exactly the attempts the receiver saw.
      const mine = { delivered: notifier.stats.delivered - before.delivered, failed: notifier.stats.failed - before.failed }
      expect(mine.delivered + other.stats.delivered).toBe(count)
      expect(mine.failed + other.stats.failed).toBe(count)
    } finally {
      await other.stop()
      if (second !== api.store) await second.close()
    }
  })
})
