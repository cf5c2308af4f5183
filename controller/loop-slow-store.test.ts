import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createBus } from '../schema/events/index.ts'
import { beginRollout } from '../schema/rollout-start.ts'
import { assertSpec } from '../schema/spec.ts'
import { createStore, type Store } from '../schema/store/index.ts'
import { openTestStore, TEST_REDIS_URL } from '../test/support/databases.ts'
import { RedisLeases } from './leases.ts'
import { Controller } from './loop.ts'
import { memoryTarget } from './targets/memory-test-support.ts'

vi.setConfig({ testTimeout: 60_000 })

const LEASE_TTL_MS = 1500

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The store, except that `rollouts.activeIds` waits `delay.ms` first when set (a hung database answers only when the statement's deadline fails it). */
function slowListing(store: Store): { store: Store; delay: { ms: number } } {
  const delay = { ms: 0 }
  const rollouts = new Proxy(store.rollouts, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (property !== 'activeIds' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value
      return async (...args: unknown[]) => {
        if (delay.ms > 0) await new Promise((resolve) => setTimeout(resolve, delay.ms))
        return (value as (...a: unknown[]) => Promise<string[]>).apply(target, args)
      }
    },
  })
  return { store: new Proxy(store, { get: (target, property, receiver) => (property === 'rollouts' ? rollouts : Reflect.get(target, property, receiver)) }), delay }
}

describe('a controller whose store read is slow', () => {
  it('renews its Redis leases while it waits, instead of letting them lapse (docs/ha.md, "When the database hangs")', async () => {
    const opened = await openTestStore('sqlite')
    const bus = createBus()
    const leases = new RedisLeases(TEST_REDIS_URL, { prefix: `sentra-slow-${randomBytes(4).toString('hex')}:` })
    cleanups.push(opened.dispose, () => bus.close(), () => leases.close())
    const real = createStore(opened.db)
    const spec = assertSpec({
      name: 'slow',
      target: { kind: 'kubernetes', namespace: 'slow', deployment: 'slow', service: 'slow' },
      strategy: { canary: { steps: [{ setWeight: 10 }, { pause: {} }] } },
      interval: '5m',
    })
    const app = await real.applications.upsert('slow', spec)
    await real.applications.setStableVersion(app.id, 'v1')
    const rollout = await beginRollout(real, bus, (await real.applications.byId(app.id))!, 'v2')
    const { store, delay } = slowListing(real)
    const lines: string[] = []
    const controller = new Controller({ store, bus, leases, targets: memoryTarget, providers: () => new Map(), log: (line) => lines.push(line), scanIntervalMs: 100, leaseTtlMs: LEASE_TTL_MS })
    cleanups.push(() => controller.stop())
    await controller.start()
    expect(controller.owned()).toEqual([rollout.id])

    // Each listing now takes three lease lifetimes; before the fix nothing renewed meanwhile.
    delay.ms = 3 * LEASE_TTL_MS
    const holders: (string | undefined)[] = []
    const until = Date.now() + 2.5 * delay.ms
    while (Date.now() < until) {
      holders.push((await leases.holders([`rollout:${rollout.id}`])).get(`rollout:${rollout.id}`))
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(new Set(holders)).toEqual(new Set([controller.holder]))
    expect(controller.owned()).toEqual([rollout.id])
    expect(lines.filter((line) => /lost the lease|lost rollout/.test(line))).toEqual([])
  })
})
