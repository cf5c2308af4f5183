import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { assertSpec } from '../../schema/spec.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { DIALECTS, openTestStore } from '../support/databases.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'

/**
 * Decisions written by real controllers (two sharing the store, transactions and all) form
 * intact hash chains: the normal paths never fork or break one.
 */
describe.each(DIALECTS)('the decision chain under real controllers on %s', (dialect) => {
  let store: Store
  let bus: Bus
  let dispose: () => Promise<void>
  const runtimes: ControllerRuntime[] = []

  beforeAll(async () => {
    const opened = await openTestStore(dialect)
    store = createStore(opened.db)
    dispose = opened.dispose
    bus = createBus()
    // SQLite is one process's store; MySQL is shared by several controllers.
    for (let i = 0; i < (dialect === 'mysql' ? 2 : 1); i++) runtimes.push(await startControllerRuntime({ store, bus, scanIntervalMs: 100 }))
  })
  afterAll(async () => {
    for (const runtime of runtimes) await runtime.stop()
    await bus?.close()
    await dispose?.()
  })

  it('initial deploys, a started rollout and an operator abort all verify', async () => {
    // No analyze step: this is about the log, not the judging.
    const steps = [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }]
    const app = await store.applications.upsert('chained', assertSpec(quickSpec('chained', await freePort(), { strategy: { canary: { steps } } })))
    const initial = await beginRollout(store, bus, app, 'v1')
    await waitFor(() => store.rollouts.byId(initial.id), (r) => r?.status === 'SUCCEEDED', { what: 'the initial deploy' })

    const next = await beginRollout(store, bus, (await store.applications.byName('chained'))!, 'v2')
    await waitFor(() => store.decisions.for([next.id]), ([d]) => (d ?? []).some((x) => x.action === 'SET_WEIGHT'), { what: 'the first SET_WEIGHT' })
    await store.commands.record({ rolloutId: next.id, kind: 'ABORT', actor: 'test', reason: 'enough' })
    await waitFor(() => store.rollouts.byId(next.id), (r) => r?.status === 'ABORTED', { what: 'the abort' })

    const [decisions] = await store.decisions.for([next.id])
    expect(decisions!.length).toBeGreaterThanOrEqual(3)
    const report = await store.decisions.verify()
    expect(report).toMatchObject({ ok: true, brokenRollouts: 0, firstBroken: null, rolloutsChecked: 2 })
    expect((await store.decisions.verify({ rolloutId: next.id })).lastHead?.chainSeq).toBe(decisions!.length)
  }, 90_000)
})
