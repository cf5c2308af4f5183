import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ControllerMetrics } from '../../controller/metrics.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { createBus } from '../../schema/events/index.ts'
import { assertSpec } from '../../schema/spec.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { openTestStore } from '../support/databases.ts'
import { freePort, quickSpec } from '../support/rollouts.ts'

/**
 * A controller (re)started while a canary is failing may roll it back in its first tick. If
 * the ROLLBACK counter were born with that rollback, Prometheus's increase() would never see
 * it: the counters of every stored application exist at 0 from the controller's start.
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
    await store.applications.upsert('known', assertSpec(quickSpec('known', await freePort())))
    runtime = await startControllerRuntime({ store, bus, scanIntervalMs: 200, notifications: false, metrics })
  })
  afterAll(async () => {
    await runtime?.stop()
    await bus.close()
    await database?.dispose()
  })

  it('exist at 0 for every stored application before any decision', async () => {
    const decisions = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'sentra_decisions_total')
    expect(decisions?.values.map(({ labels, value }) => ({ labels: { ...labels }, value }))).toEqual([
      { labels: { application: 'known', action: 'ROLLBACK' }, value: 0 },
      { labels: { application: 'known', action: 'PROMOTE' }, value: 0 },
    ])
  })
})
