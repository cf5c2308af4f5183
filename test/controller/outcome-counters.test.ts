import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ControllerMetrics } from '../../controller/metrics.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { createBus } from '../../schema/events/index.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { assertSpec } from '../../schema/spec.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { openTestStore } from '../support/databases.ts'
import { freePort, quickSpec } from '../support/rollouts.ts'

/**
 * A controller (re)started while a canary is failing may roll it back in its first tick. If
 * the ROLLBACK counter were born with that rollback, Prometheus's increase() would never see
 * it: the counters of every application with a rollout under way exist at 0 from the
 * controller's start. Idle applications get none (the label sets are capped).
 */
describe("a controller's outcome counters", () => {
  let database: Awaited<ReturnType<typeof openTestStore>>
  let store: Store
  let runtime: ControllerRuntime
  const bus = createBus()
  const metrics = new ControllerMetrics()

  beforeAll(async () => {
    database = await openTestStore('sqlite')
    store = createStore(database.db)
    const known = await store.applications.upsert('known', assertSpec(quickSpec('known', await freePort())))
    await store.applications.setStableVersion(known.id, 'v1')
    // Paused by an operator: a tick decides nothing, so the counters stay at 0 while the test looks.
    const rollout = await beginRollout(store, bus, (await store.applications.byName('known'))!, 'v2')
    await store.rollouts.update(rollout.id, { status: 'PAUSED' })
    await store.applications.upsert('idle', assertSpec(quickSpec('idle', await freePort())))
    runtime = await startControllerRuntime({ store, bus, scanIntervalMs: 200, notifications: false, metrics })
  })
  afterAll(async () => {
    await runtime?.stop()
    await bus.close()
    await database?.dispose()
  })

  it('exist at 0 before any decision for an application with a rollout under way, and not for an idle one', async () => {
    const decisions = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'sentra_decisions_total')
    const values = (decisions?.values ?? []).map(({ labels, value }) => ({ labels: { ...labels }, value }))
    expect(values.filter((v) => ['ROLLBACK', 'PROMOTE'].includes(String(v.labels.action)))).toEqual([
      { labels: { application: 'known', action: 'ROLLBACK' }, value: 0 },
      { labels: { application: 'known', action: 'PROMOTE' }, value: 0 },
    ])
    expect(values.filter((v) => v.labels.application === 'idle')).toEqual([])
  })
})
