import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { countRows, makeRollout, queriesOf } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { DecisionRepository } from './decisions.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import type { Decision, Rollout } from './models.ts'
import { WebhookRepository, type NewDelivery, type WebhookSubscription } from './webhooks.ts'

describe.each(DIALECTS)('WebhookRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let webhooks: WebhookRepository
  let decisions: DecisionRepository
  let rollout: Rollout
  let seq = 0

  async function decision(action: string, at = new Date()): Promise<Decision> {
    seq += 1
    return decisions.append({ rolloutId: rollout.id, seq, at, action, actor: 'controller', reason: `${action} because`, stepIndex: 0, fromWeight: 0, toWeight: 10, evidence: {} })
  }
  function delivery(subscription: WebhookSubscription, d: Decision): NewDelivery {
    return { id: randomUUID(), subscriptionId: subscription.id, rolloutId: d.rolloutId, decisionId: d.id, event: 'rollout.started', body: '{"a":1}' }
  }
  const subscribe = (url = 'http://127.0.0.1:9/hook'): Promise<WebhookSubscription> =>
    webhooks.createSubscription({ application: null, url, format: 'json', events: ['rollout.started', 'rollout.started', 'rollout.paused'], secret: 's'.repeat(16) })

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    webhooks = new WebhookRepository(db)
    decisions = new DecisionRepository(db)
    rollout = await makeRollout(db)
  })
  afterAll(async () => store?.dispose())

  it('creates, lists, updates and deletes subscriptions; the secret is never part of the model', async () => {
    const created = await webhooks.createSubscription(
      { application: rollout.applicationName, url: 'https://hooks.example.com/a?b=1', format: 'slack', events: ['rollout.rolled_back'], secret: 'x'.repeat(20) },
      1_000,
    )
    expect(created).toEqual({
      id: expect.any(String),
      application: rollout.applicationName,
      url: 'https://hooks.example.com/a?b=1',
      format: 'slack',
      events: ['rollout.rolled_back'],
      enabled: true,
      disabledReason: null,
      since: new Date(1_000),
      createdAt: new Date(1_000),
      updatedAt: new Date(1_000),
    })
    expect(JSON.stringify(created)).not.toContain('x'.repeat(20))
    const other = await subscribe()
    expect(other.events).toEqual(['rollout.started', 'rollout.paused'])
    expect((await webhooks.subscriptions()).map((s) => s.id)).toEqual([created.id, other.id])

    const off = await webhooks.updateSubscription(created.id, { enabled: false }, 2_000)
    expect(off).toMatchObject({ enabled: false, disabledReason: 'disabled by an admin', since: new Date(1_000) })
    expect((await webhooks.subscriptions({ enabledOnly: true })).map((s) => s.id)).toEqual([other.id])
    const on = await webhooks.updateSubscription(created.id, { enabled: true, events: ['rollout.failed'], url: 'http://127.0.0.1:1/x' }, 3_000)
    expect(on).toMatchObject({ enabled: true, disabledReason: null, since: new Date(3_000), events: ['rollout.failed'], url: 'http://127.0.0.1:1/x' })
    expect(await webhooks.updateSubscription(randomUUID(), { enabled: true })).toBeNull()

    expect(await webhooks.deleteSubscription(created.id)).toBe(true)
    expect(await webhooks.deleteSubscription(created.id)).toBe(false)
    expect(await webhooks.subscription(created.id)).toBeNull()
  })

  it('queues a decision once per subscription, however often it is offered', async () => {
    const subscription = await subscribe()
    const d = await decision('START')
    const first = await webhooks.enqueue([delivery(subscription, d)])
    expect(first).toHaveLength(1)
    expect(first[0]).toMatchObject({ status: 'PENDING', attempts: 0, decisionId: d.id, lastError: null, deliveredAt: null })
    expect(await webhooks.enqueue([delivery(subscription, d), delivery(subscription, d)])).toEqual([])
    expect(await webhooks.existingKeys([d.id, 'missing'])).toEqual(new Set([`${subscription.id}:${d.id}`]))
    expect(await webhooks.bodyOf(first[0]!.id)).toBe('{"a":1}')
  })

  it('reads the decisions that fire events with their rollout, and the cause of a rollback', async () => {
    const since = Date.now() - 1
    const rollback = await decision('ROLLBACK')
    await decision('RESUME')
    const rolledBack = await decision('ROLLED_BACK')
    const found = await webhooks.notifiableDecisions({ since, rolloutId: rollout.id })
    expect(found.map((n) => n.decision.action)).toEqual(['ROLLED_BACK'])
    expect(found[0]).toMatchObject({ application: rollout.applicationName, rollout: { id: rollout.id, toVersion: 'v2', fromVersion: 'v1', status: 'PENDING', canaryWeight: 0 } })
    expect(await webhooks.notifiableDecisions({ since: Date.now() + 60_000 })).toEqual([])
    expect((await webhooks.latestDecisionBefore(rollout.id, rolledBack.seq, 'ROLLBACK'))?.id).toBe(rollback.id)
    expect(await webhooks.latestDecisionBefore(rollout.id, rollback.seq, 'ROLLBACK')).toBeNull()
  })

  it('claims an attempt for one caller only, and records outcomes only under the claim', async () => {
    const subscription = await subscribe()
    const queued = await webhooks.enqueue(await Promise.all([1, 2, 3, 4, 5, 6].map(async () => delivery(subscription, await decision('PAUSE')))))
    const ids = new Set(queued.map((q) => q.id))
    // Two callers race for the same due rows: every row goes to exactly one of them.
    const [a, b] = await Promise.all([webhooks.claimDue({ limit: 100, leaseMs: 60_000 }), webhooks.claimDue({ limit: 100, leaseMs: 60_000 })])
    const mine = [...a!, ...b!].filter((c) => ids.has(c.delivery.id))
    expect(mine.map((c) => c.delivery.id).sort()).toEqual([...ids].sort())
    expect(mine.every((c) => c.delivery.attempts === 1 && c.url === subscription.url && c.secret === 's'.repeat(16) && c.body === '{"a":1}')).toBe(true)
    // Claimed rows are not claimed again while the lease holds.
    expect((await webhooks.claimDue({ limit: 100, leaseMs: 60_000 })).filter((c) => ids.has(c.delivery.id))).toEqual([])

    const [one, two, three] = mine as [(typeof mine)[0], (typeof mine)[0], (typeof mine)[0]]
    expect(await webhooks.finishAttempt({ id: one.delivery.id, claimToken: 'not-mine' }, { kind: 'delivered', statusCode: 200 })).toBe(false)
    expect(await webhooks.finishAttempt({ id: one.delivery.id, claimToken: one.claimToken }, { kind: 'delivered', statusCode: 204 })).toBe(true)
    expect(await webhooks.delivery(one.delivery.id)).toMatchObject({ status: 'DELIVERED', lastStatusCode: 204, nextAttemptAt: null, deliveredAt: expect.any(Date) })
    const later = Date.now() + 60_000
    await webhooks.finishAttempt({ id: two.delivery.id, claimToken: two.claimToken }, { kind: 'retry', statusCode: 503, error: 'HTTP 503: busy', nextAttemptAt: later })
    expect(await webhooks.delivery(two.delivery.id)).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 503, lastError: 'HTTP 503: busy', nextAttemptAt: new Date(later) })
    await webhooks.finishAttempt({ id: three.delivery.id, claimToken: three.claimToken }, { kind: 'dead', statusCode: null, error: 'x'.repeat(5000) })
    const dead = await webhooks.delivery(three.delivery.id)
    expect(dead).toMatchObject({ status: 'DEAD', nextAttemptAt: null, lastStatusCode: null })
    expect(dead?.lastError?.length).toBe(1000)

    // A FAILED one is due again at its time; an expired lease frees a claimed one.
    expect((await webhooks.claimDue({ limit: 100, leaseMs: 1, now: later })).map((c) => c.delivery.id)).toEqual(expect.arrayContaining([two.delivery.id]))
    const retaken = await webhooks.claimDue({ limit: 100, leaseMs: 60_000, now: later + 10 })
    expect(retaken.find((c) => c.delivery.id === two.delivery.id)?.delivery.attempts).toBe(3)
  })

  it('redelivers a DEAD delivery; refuses a delivered one, an unknown one, and one of a disabled subscription', async () => {
    const subscription = await subscribe()
    const [queued] = await webhooks.enqueue([delivery(subscription, await decision('START'))])
    const [claim] = (await webhooks.claimDue({ limit: 100, leaseMs: 60_000 })).filter((c) => c.delivery.id === queued!.id)
    await webhooks.finishAttempt({ id: queued!.id, claimToken: claim!.claimToken }, { kind: 'dead', statusCode: 500, error: 'HTTP 500' })
    const again = await webhooks.redeliver(queued!.id)
    expect(again).toMatchObject({ status: 'PENDING', attempts: 0, lastError: 'HTTP 500' })
    expect(await webhooks.redeliver(queued!.id)).toMatchObject({ status: 'PENDING' })
    const [claim2] = (await webhooks.claimDue({ limit: 100, leaseMs: 60_000 })).filter((c) => c.delivery.id === queued!.id)
    await expect(webhooks.redeliver(queued!.id)).resolves.toMatchObject({ status: 'PENDING' })
    await webhooks.finishAttempt({ id: queued!.id, claimToken: claim2!.claimToken }, { kind: 'delivered', statusCode: 200 })
    await expect(webhooks.redeliver(queued!.id)).rejects.toThrow(ConflictError)
    await expect(webhooks.redeliver(randomUUID())).rejects.toThrow(NotFoundError)

    const [other] = await webhooks.enqueue([delivery(subscription, await decision('START'))])
    expect(await webhooks.disableSubscription(subscription.id, 'the receiver answered 410 Gone')).toBe(true)
    expect(await webhooks.disableSubscription(subscription.id, 'again')).toBe(false)
    expect(await webhooks.delivery(other!.id)).toMatchObject({ status: 'DEAD', lastError: 'the receiver answered 410 Gone' })
    expect(await webhooks.subscription(subscription.id)).toMatchObject({ enabled: false, disabledReason: 'the receiver answered 410 Gone' })
    await expect(webhooks.redeliver(other!.id)).rejects.toThrow(/disabled/)
  })

  it('deliveriesFor: the log of many subscriptions in one query, oldest first, the last N of each', async () => {
    const a = await subscribe()
    const b = await subscribe()
    const queued = []
    for (let i = 0; i < 4; i++) queued.push(...(await webhooks.enqueue([delivery(a, await decision('START'))])))
    queued.push(...(await webhooks.enqueue([delivery(b, await decision('START'))])))
    const { result, queries } = await queriesOf(db, () => webhooks.deliveriesFor([b.id, 'missing', a.id], { last: 3 }))
    expect(queries).toBe(1)
    expect(result.map((g) => g.map((d) => d.id))).toEqual([[queued[4]!.id], [], queued.slice(1, 4).map((d) => d.id)])
    expect((await webhooks.deliveriesFor([a.id]))[0]).toHaveLength(4)
    expect(await webhooks.deliveriesFor([])).toEqual([])

    // Deleting a subscription deletes its log.
    const before = await countRows(db, 'webhook_deliveries')
    await webhooks.deleteSubscription(a.id)
    expect(await countRows(db, 'webhook_deliveries')).toBe(before - 4)
  })
})
