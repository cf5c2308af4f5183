import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { assertSpec } from '../../schema/spec.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { openTestStore } from '../support/databases.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'

/** Two controllers on one store: every rollout is held, and decided, by exactly one of them. */
describe('two controllers sharing one store', () => {
  let store: Store
  let bus: Bus
  let dispose: () => Promise<void>
  const logs: string[][] = [[], []]
  const runtimes: ControllerRuntime[] = []

  beforeAll(async () => {
    const opened = await openTestStore('mysql')
    store = createStore(opened.db)
    dispose = opened.dispose
    bus = createBus()
    for (const log of logs) runtimes.push(await startControllerRuntime({ store, bus, scanIntervalMs: 100, log: (line) => log.push(line) }))
  })
  afterAll(async () => {
    for (const runtime of runtimes) await runtime.stop()
    await bus?.close()
    await dispose?.()
  })

  it('deploys six applications, each decided once by one controller', async () => {
    const names = ['one', 'two', 'three', 'four', 'five', 'six']
    const ids: string[] = []
    for (const name of names) {
      const app = await store.applications.upsert(name, assertSpec(quickSpec(name, await freePort())))
      ids.push((await beginRollout(store, bus, app, 'v1')).id)
    }
    for (const id of ids) {
      await waitFor(() => store.rollouts.byId(id), (r) => r?.status === 'SUCCEEDED', { what: `rollout ${id}` })
    }
    const decisions = await store.decisions.for(ids)
    expect(decisions.map((d) => d.map((x) => x.action))).toEqual(names.map(() => ['INITIAL_DEPLOY']))
    for (const name of names) {
      const deciders = logs.filter((log) => log.some((line) => line.startsWith(`${name} v1: INITIAL_DEPLOY`)))
      expect(deciders, name).toHaveLength(1)
    }
  })
})
