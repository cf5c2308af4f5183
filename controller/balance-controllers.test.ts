import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createBus } from '../schema/events/index.ts'
import type { Bus } from '../schema/events/bus.ts'
import { beginRollout } from '../schema/rollout-start.ts'
import { assertSpec } from '../schema/spec.ts'
import { createStore, type Store } from '../schema/store/index.ts'
import { openTestStore, TEST_REDIS_URL } from '../test/support/databases.ts'
import { waitFor } from '../test/support/rollouts.ts'
import { RedisLeases, StoreLeases, type LeaseManager } from './leases.ts'
import { Controller } from './loop.ts'
import { memoryTarget } from './targets/memory-test-support.ts'
import { BuiltinProvider } from './telemetry/builtin.ts'

vi.setConfig({ testTimeout: 90_000 })

const SCAN_MS = 100
/** Long enough that a loaded two-core machine never lets a live controller's lease lapse. */
const LEASE_TTL_MS = 3000

/** A canary that stays in its analysis (a day long, one tick in five minutes): only takeovers tick it. */
function spec(name: string, kind: 'kubernetes' | 'process') {
  return assertSpec({
    name,
    target: kind === 'kubernetes' ? { kind, namespace: 'balance', deployment: name, service: name } : { kind, listen: '127.0.0.1:29999', command: ['true'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '24h' } }] } },
    gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.05 } }],
    interval: '5m',
    inconclusiveLimit: 1000,
  })
}

/** A lease manager that fails every call once `cut` is set: a controller cut off from Redis (or the leases table). */
function severable(inner: LeaseManager): { leases: LeaseManager; cut: boolean } {
  const handle = { cut: false, leases: inner }
  handle.leases = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || property === 'close') return value
      return (...args: unknown[]) => (handle.cut ? Promise.reject(new Error('cut off')) : (value as (...a: unknown[]) => unknown).apply(target, args))
    },
  })
  return handle
}

const setups: { name: string; open(): Promise<{ store: Store; leases: () => LeaseManager; close(): Promise<void> }> }[] = [
  {
    name: 'Redis leases (store on SQLite)',
    open: async () => {
      const opened = await openTestStore('sqlite')
      const prefix = `sentra-balance-${randomBytes(4).toString('hex')}:`
      const made: LeaseManager[] = []
      return {
        store: createStore(opened.db),
        // One connection per controller, as separate processes would have.
        leases: () => {
          const leases = new RedisLeases(TEST_REDIS_URL, { prefix })
          made.push(leases)
          return leases
        },
        close: async () => {
          await Promise.all(made.map((l) => l.close()))
          await opened.dispose()
        },
      }
    },
  },
  {
    name: 'store leases on MySQL',
    open: async () => {
      const opened = await openTestStore('mysql')
      const store = createStore(opened.db)
      return { store, leases: () => new StoreLeases(store.leases), close: opened.dispose }
    },
  },
]

/**
 * Issue #9, item 1: rollouts are spread across live controllers by fair share, move gradually
 * when one joins, and are taken over when one stops; at no moment do two controllers hold one.
 */
describe.each(setups)('balancing with $name', ({ open }) => {
  let store: Store
  let bus: Bus
  let newLeases: () => LeaseManager
  let close: () => Promise<void>
  let controllers: Controller[] = []
  let watcher: NodeJS.Timeout | null = null
  const doubleHeld: string[] = []

  // A fresh database per test: the other test's rollouts would count in every share.
  beforeEach(async () => {
    ;({ store, leases: newLeases, close } = await open())
    bus = createBus()
    doubleHeld.length = 0
  })
  afterEach(async () => {
    if (watcher) clearInterval(watcher)
    await Promise.all(controllers.map((c) => c.stop()))
    controllers = []
    await bus?.close()
    await close?.()
  })

  async function startRollouts(prefix: string, count: number, kind: 'kubernetes' | 'process'): Promise<string[]> {
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const created = await store.applications.upsert(`${prefix}-${i}`, spec(`${prefix}-${i}`, kind))
      await store.applications.setStableVersion(created.id, 'v1')
      ids.push((await beginRollout(store, bus, (await store.applications.byId(created.id))!, 'v2')).id)
    }
    return ids
  }

  async function startController(name: string, leases: LeaseManager = newLeases()): Promise<Controller> {
    const controller = new Controller({
      store,
      bus,
      leases,
      holder: `${name}-${randomBytes(2).toString('hex')}`,
      targets: memoryTarget,
      providers: () => new Map([['builtin', new BuiltinProvider(() => undefined)]]),
      scanIntervalMs: SCAN_MS,
      leaseTtlMs: LEASE_TTL_MS,
    })
    controllers.push(controller)
    await controller.start()
    return controller
  }

  /** Every 20 ms: no rollout in two controllers' hands. */
  function watchForDoubleHolders(): void {
    watcher = setInterval(() => {
      const seen = new Set<string>()
      for (const c of controllers) {
        for (const id of c.owned()) {
          if (seen.has(id)) doubleHeld.push(id)
          seen.add(id)
        }
      }
    }, 20)
  }

  const counts = (cs: readonly Controller[]) => cs.map((c) => c.owned().length)

  it('spreads 30 rollouts over three controllers, takes over from one that stops or is cut off, and gives a joiner its share', async () => {
    const ids = await startRollouts('even', 30, 'kubernetes')
    const cutOff = severable(newLeases())
    watchForDoubleHolders()
    // Started one after the other: the first takes everything before the others announce themselves.
    const a = await startController('a')
    expect(a.owned()).toHaveLength(30)
    const b = await startController('b')
    const c = await startController('c')
    // Shares of 10 (+1 slack): a gives back a rollout per scan until the three are even.
    await waitFor(async () => counts([a, b, c]), (n) => n.every((x) => x >= 9 && x <= 11) && n.reduce((s, x) => s + x, 0) === 30, { what: 'a third each', everyMs: 50, timeoutMs: 30_000 })

    // c stops (leaves the membership): a and b take its rollouts, 15 each (+1 slack).
    await c.stop()
    controllers = controllers.filter((x) => x !== c)
    await waitFor(async () => counts([a, b]), (n) => n.every((x) => x >= 14 && x <= 16) && n[0]! + n[1]! === 30, { what: 'half each', everyMs: 50, timeoutMs: 30_000 })

    // d joins: within a few scans it gets a share of its own.
    const d = await startController('d', cutOff.leases)
    await waitFor(async () => counts([a, b, d]), (n) => n.every((x) => x >= 9 && x <= 11) && n.reduce((s, x) => s + x, 0) === 30, { what: 'd gets a third', everyMs: 50, timeoutMs: 30_000 })
    expect(new Set([a, b, d].flatMap((x) => x.owned()))).toEqual(new Set(ids))

    // d is cut off from the leases (it neither renews nor announces itself, nor releases):
    // it drops its rollouts, and once its leases and heartbeat expire a and b take them all.
    cutOff.cut = true
    await waitFor(async () => counts([a, b, d]), (n) => n[2] === 0 && n.every((x) => x <= 16) && n[0]! + n[1]! === 30, { what: 'a and b take what d held', everyMs: 50, timeoutMs: 30_000 })
    expect(doubleHeld).toEqual([])
  })

  it('does not move rollouts whose traffic the holder serves itself (process target)', async () => {
    const ids = await startRollouts('local', 6, 'process')
    watchForDoubleHolders()
    const a = await startController('a')
    expect(a.owned().sort()).toEqual([...ids].sort())
    const b = await startController('b')
    // Twenty scans: b is far below its share of 3, a far above, and still nothing moves.
    await new Promise((resolve) => setTimeout(resolve, 20 * SCAN_MS))
    expect(a.owned().sort()).toEqual([...ids].sort())
    expect(b.owned()).toEqual([])
    expect(doubleHeld).toEqual([])
  })
})
