import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { openTestStore } from '../support/databases.ts'
import { waitFor } from '../support/rollouts.ts'
import { startPrivateRedis, type PrivateRedis } from './redis-server.ts'
import { chainProblem, controllerEnv, decisionLogProblems, faultSpec, listenPort, recordTraffic, startController, type ControllerProcess } from './support.ts'

/** SENTRA_FAULT_OUTAGE_MS: how long Redis is down (the issue asks for 30 s). */
const OUTAGE_MS = Number(process.env.SENTRA_FAULT_OUTAGE_MS ?? 30_000)
const LEASE_TTL_MS = 3000

vi.setConfig({ testTimeout: 240_000 + OUTAGE_MS, hookTimeout: 120_000 })

/**
 * Issue #9, item 2: Redis stopped for 30 s mid-rollout and started again (empty: no
 * persistence, so every lease key and fencing counter is gone). A redis-server of the
 * test's own on another port; the shared one is never touched. The controller holds the
 * rollout only through a Redis lease: while Redis is down it cannot renew it, so it drops
 * the rollout and decides nothing (no promotion on stale data); once Redis is back it takes
 * the lease again (the store's fencing token still grows), the bus subscribers reconnect,
 * and the rollout finishes with a whole decision log.
 */
describe('Redis stopped mid-rollout and started again', () => {
  let store: Store
  let bus: Bus
  let redis: PrivateRedis
  let dispose: () => Promise<void>
  let controller: ControllerProcess | null = null
  let traffic: ReturnType<typeof recordTraffic> | null = null
  let rolloutId = ''
  const events: { seq: number; at: number }[] = []
  let reconnects = 0

  beforeAll(async () => {
    redis = await startPrivateRedis(await listenPort())
    const opened = await openTestStore('mysql')
    store = createStore(opened.db)
    dispose = opened.dispose
    bus = createBus(redis.url, { onError: () => {} })
    const port = await listenPort()
    // A long analysis (30 s at least) that the outage falls into.
    const app = await store.applications.upsert('outage', faultSpec('outage', port, { interval: '1s', analyzeMin: '30s' }))
    await store.applications.setStableVersion(app.id, 'v1')
    traffic = recordTraffic(new Map([['outage', port]]), { rate: 25 })
    controller = await startController(controllerEnv(opened.url, LEASE_TTL_MS, { SENTRA_REDIS_URL: redis.url }))
    await bus.subscribe('rollout.changed', (change) => {
      if (change.rolloutId === rolloutId) events.push({ seq: change.seq, at: Date.now() })
    })
    const onReconnect = (bus as { onReconnect?: (callback: () => void) => () => void }).onReconnect
    onReconnect?.call(bus, () => reconnects++)
    rolloutId = (await beginRollout(store, bus, (await store.applications.byId(app.id))!, 'v3')).id
  })
  afterAll(async () => {
    traffic?.stop()
    await controller?.stop()
    await bus?.close()
    await redis?.dispose()
    await dispose?.()
  })

  it('decides nothing while Redis is down, then recovers the lease, the bus and the rollout', async () => {
    onTestFailed(() => console.log(controller?.output().slice(-6000)))
    await waitFor(() => store.rollouts.byId(rolloutId), (r) => r?.currentStepIndex === 1, { what: 'the analysis step', timeoutMs: 90_000 })
    const before = await store.rollouts.byId(rolloutId)
    await redis.stop()
    const stoppedAt = Date.now()
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
    // Still analysing: nothing was decided on data nobody could vouch for.
    const during = await store.rollouts.byId(rolloutId)
    expect(during?.status).toBe('PROGRESSING')
    expect(during?.currentStepIndex).toBe(before?.currentStepIndex)
    const eventsBefore = events.length
    await redis.start()
    const restartedAt = Date.now()

    const done = await waitFor(() => store.rollouts.byId(rolloutId), (r) => r !== null && !['PENDING', 'PROGRESSING'].includes(r.status), { what: 'the rollout to finish', timeoutMs: 150_000 })
    expect(done?.status).toBe('SUCCEEDED')
    const [decisions = []] = await store.decisions.for([rolloutId])
    expect(decisionLogProblems(decisions, false)).toEqual([])
    expect(await chainProblem(store, rolloutId, decisions.length)).toBeNull()
    // Nothing decided from shortly after the stop (the lease ran out) until Redis was back.
    const quiet = decisions.filter((d) => d.at.getTime() > stoppedAt + LEASE_TTL_MS + 2000 && d.at.getTime() < restartedAt)
    expect(quiet.map((d) => `${d.action} at +${d.at.getTime() - stoppedAt} ms`)).toEqual([])
    expect(controller!.output()).toMatch(/lost the lease on rollout/)

    // The subscribers reconnected: events flow again, in order, and the test's bus said so.
    // (The last change, the observed weight after the promotion, may still be on its way.)
    const [, final] = await waitFor(async () => [events.at(-1)?.seq, (await store.rollouts.byId(rolloutId))!.seq], ([seen, stored]) => seen === stored, {
      what: 'the event of the last stored seq',
      timeoutMs: 30_000,
    })
    expect(events.length).toBeGreaterThan(eventsBefore)
    const seqs = events.map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    if (typeof (bus as { onReconnect?: unknown }).onReconnect === 'function') expect(reconnects).toBeGreaterThan(0)
    // A catch-up refetch finds the same state the events ended on.
    expect((await store.rollouts.byId(rolloutId))?.seq).toBe(final)
  })
})
