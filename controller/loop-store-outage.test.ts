/**
 * Two controllers on one store with store leases (no Redis), the store gone for longer than
 * the lease TTL (docs/ha.md, "When the database is down"): every lease and heartbeat expires,
 * and nobody can take one meanwhile. When the store comes back each controller keeps the
 * rollouts it held: its leases are still its own (LeaseRepository.renew), and the controller
 * that reaches the store first takes nothing for a lease TTL, so it does not take the other's
 * (with both heartbeats expired, each counts itself alone and its share as everything).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createBus } from '../schema/events/index.ts'
import { beginRollout } from '../schema/rollout-start.ts'
import { assertSpec } from '../schema/spec.ts'
import { createStore, type Store } from '../schema/store/index.ts'
import { openTestStore } from '../test/support/databases.ts'
import { waitFor } from '../test/support/rollouts.ts'
import { rolloutLeaseName, StoreLeases } from './leases.ts'
import { Controller } from './loop.ts'
import { memoryTarget } from './targets/memory-test-support.ts'

vi.setConfig({ testTimeout: 90_000 })

const SCAN_MS = 100
/** Long enough that a loaded two-core machine never lets a live controller's lease lapse. */
const LEASE_TTL_MS = 3000

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The store as one controller's connection sees it: while `down`, every call fails as a refused connection would. */
function downable(store: Store): { store: Store; down: boolean } {
  const handle = { down: false, store }
  const refuse = (): Promise<never> => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }))
  const guard = (fn: (...args: unknown[]) => unknown, self: object) => (...args: unknown[]) => (handle.down ? refuse() : fn.apply(self, args))
  const repositories = new Map<PropertyKey, object>()
  handle.store = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value === 'function') return guard(value as (...args: unknown[]) => unknown, target)
      if (value === null || typeof value !== 'object' || property === 'db') return value
      let repository = repositories.get(property)
      if (!repository) {
        repository = new Proxy(value, {
          get(repo, name, r) {
            const method: unknown = Reflect.get(repo, name, r)
            return typeof method === 'function' ? guard(method as (...args: unknown[]) => unknown, repo) : method
          },
        })
        repositories.set(property, repository)
      }
      return repository
    },
  })
  return handle
}

/** A canary that stays in its analysis (a day long, one tick in five minutes). */
function spec(name: string) {
  return assertSpec({
    name,
    target: { kind: 'kubernetes', namespace: 'outage', deployment: name, service: name },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '24h' } }] } },
    gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.05 } }],
    interval: '5m',
    inconclusiveLimit: 1000,
  })
}

describe('two controllers with store leases through a store outage', () => {
  it('each keeps the rollouts it held: nothing is lost, and the first one back takes nothing of the other', async () => {
    const opened = await openTestStore('sqlite')
    const bus = createBus()
    cleanups.push(opened.dispose, () => bus.close())
    const store = createStore(opened.db)
    const ids: string[] = []
    for (const name of ['o1', 'o2', 'o3', 'o4']) {
      const app = await store.applications.upsert(name, spec(name))
      await store.applications.setStableVersion(app.id, 'v1')
      ids.push((await beginRollout(store, bus, (await store.applications.byId(app.id))!, 'v2')).id)
    }
    const lines: string[] = []
    const start = async (name: string) => {
      const handle = downable(store)
      const controller = new Controller({
        store: handle.store,
        bus,
        leases: new StoreLeases(handle.store.leases),
        targets: memoryTarget,
        providers: () => new Map(),
        log: (line) => lines.push(`${name}: ${line}`),
        scanIntervalMs: SCAN_MS,
        leaseTtlMs: LEASE_TTL_MS,
        holder: name,
      })
      cleanups.push(() => controller.stop())
      await controller.start()
      return { controller, handle }
    }
    const a = await start('a')
    const b = await start('b')
    // Shared once b has its part (a held all four before b joined); 3 and 1 is as stable as 2 and 2 (the share's slack).
    await waitFor(async () => [a.controller.owned().length, b.controller.owned().length], ([x, y]) => x! >= 1 && y! >= 1 && x! + y! === 4, { timeoutMs: 30_000, what: 'rollouts held by both' })
    const before = { a: a.controller.owned().sort(), b: b.controller.owned().sort() }

    a.handle.down = true
    b.handle.down = true
    await new Promise((resolve) => setTimeout(resolve, 2.5 * LEASE_TTL_MS))
    // b reaches the store a third of a TTL before a: long enough for many scans of b.
    b.handle.down = false
    await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS / 3))
    a.handle.down = false
    await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_TTL_MS))

    expect({ a: a.controller.owned().sort(), b: b.controller.owned().sort() }).toEqual(before)
    const holders = await store.leases.holders(ids.map(rolloutLeaseName))
    expect(Object.fromEntries(ids.map((id) => [id, holders.get(rolloutLeaseName(id))]))).toEqual(Object.fromEntries([...before.a.map((id) => [id, 'a']), ...before.b.map((id) => [id, 'b'])]))
    expect(lines.filter((line) => /lost the lease|lost rollout/.test(line))).toEqual([])
    // The outage was seen (the scans could not list the rollouts), not missed.
    expect(lines.some((line) => /^a: controller: cannot list active rollouts/.test(line))).toBe(true)
  })
})
