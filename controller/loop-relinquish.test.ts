import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest'
import { createBus } from '../schema/events/index.ts'
import { beginRollout } from '../schema/rollout-start.ts'
import { createStore, type Store } from '../schema/store/index.ts'
import { openTestStore } from '../test/support/databases.ts'
import { StoreLeases, type Lease, type LeaseManager } from './leases.ts'
import { Controller } from './loop.ts'
import { ProxyRegistry } from './proxy/index.ts'
import { ProcessTarget } from './targets/process.ts'
import { TargetStoppingError } from './targets/target.ts'
import { REPO_ROOT, demoApp, eventually, proxyUrl, versionsServed } from './targets/process-test-support.ts'

interface LosableLeases extends LeaseManager {
  /** The lease expired during a stall and another controller took it: renewals fail, nothing can be taken. */
  lost: boolean
  /** Another controller holds the leases: nothing can be taken (renewals of ours still work). */
  othersHold: boolean
}

/** Store leases whose renewals and acquisitions can be made to fail; every other call goes to the real ones. */
function losable(inner: LeaseManager): LosableLeases {
  const flags = { lost: false, othersHold: false }
  const acquire = (name: string, holder: string, ttlMs: number): Promise<Lease | null> =>
    flags.lost || flags.othersHold ? Promise.resolve(null) : inner.acquire(name, holder, ttlMs)
  const renew = (lease: Lease, ttlMs: number): Promise<boolean> => (flags.lost ? Promise.resolve(false) : inner.renew(lease, ttlMs))
  const renewMany = (leases: readonly Lease[], ttlMs: number): Promise<string[]> =>
    flags.lost ? Promise.resolve(leases.map((lease) => lease.name)) : inner.renewMany(leases, ttlMs)
  return new Proxy(flags, {
    get(target, key) {
      if (key === 'lost' || key === 'othersHold') return target[key]
      if (key === 'acquire') return acquire
      if (key === 'renew') return renew
      if (key === 'renewMany') return renewMany
      const value: unknown = Reflect.get(inner, key)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(inner) : value
    },
    set(target, key, value: boolean) {
      if (key !== 'lost' && key !== 'othersHold') return false
      target[key] = value
      return true
    },
  }) as unknown as LosableLeases
}

const cleanups: (() => Promise<void>)[] = []
/** The controller's log, printed when a test fails. */
const lines: string[] = []
beforeEach(() => {
  lines.length = 0
  onTestFailed(() => console.log(lines.join('\n')))
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A controller with a real process target, holding one rollout of the demo at 50 % (a canary step, then a pause for a person). */
async function holdingAtFifty(): Promise<{ store: Store; controller: Controller; target: ProcessTarget; leases: LosableLeases; url: string; rolloutId: string; spec: Awaited<ReturnType<typeof demoApp>> }> {
  const opened = await openTestStore('sqlite')
  const store = createStore(opened.db)
  const bus = createBus()
  const target = new ProcessTarget({ proxies: new ProxyRegistry(), cwd: REPO_ROOT, log: (line) => lines.push(line) })
  cleanups.push(opened.dispose, () => bus.close(), () => target.close())
  const spec = await demoApp({ name: 'held' })
  const app = await store.applications.upsert('held', { ...spec, interval: '1s', intervalMs: 1000, strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } } })
  await store.applications.setStableVersion(app.id, 'v1')
  await target.ensureStable(spec, 'v1')
  const leases = losable(new StoreLeases(store.leases))
  const controller = new Controller({ store, bus, leases, targets: () => target, providers: () => new Map(), log: (line) => lines.push(line), scanIntervalMs: 200, leaseTtlMs: 5000 })
  cleanups.push(() => controller.stop())
  await controller.start()
  const rollout = await beginRollout(store, bus, (await store.applications.byId(app.id))!, 'v2')
  const atFifty = await eventually(async () => (await store.rollouts.byId(rollout.id))?.canaryWeight === 50, 20_000)
  if (!atFifty) throw new Error(`the rollout did not reach 50 %: ${JSON.stringify(await store.rollouts.byId(rollout.id))}`)
  return { store, controller, target, leases, url: proxyUrl(spec), rolloutId: rollout.id, spec }
}

describe('a controller that loses a rollout stops sending traffic to its canary', () => {
  it('on a lease it can no longer renew', async () => {
    const { controller, leases, url, rolloutId } = await holdingAtFifty()
    const split = await versionsServed(url, 40)
    expect(split.get('v2:200')).toBeGreaterThan(0)
    leases.lost = true
    expect(await eventually(() => !controller.owned().includes(rolloutId), 10_000)).toBe(true)
    expect(await eventually(async () => (await versionsServed(url, 10)).get('v1:200') === 10, 10_000)).toBe(true)
  })

  it('on a fencing token a newer holder took', async () => {
    const { store, controller, leases, url, rolloutId } = await holdingAtFifty()
    leases.othersHold = true
    await store.leases.takeFence(`rollout:${rolloutId}`, 'a-newer-holder')
    // The next tick (1 s) finds the newer token, drops the rollout and takes the canary off.
    expect(await eventually(() => !controller.owned().includes(rolloutId), 10_000)).toBe(true)
    expect(await eventually(async () => (await versionsServed(url, 10)).get('v1:200') === 10, 10_000)).toBe(true)
  })
})

/** The pid the process target logged for the version's process ("held/v2: started canary process 123 on port …"). */
function pidOf(version: string, role: 'stable' | 'canary'): number {
  const line = lines.find((l) => l.startsWith(`held/${version}: started ${role} process `))
  const pid = Number(line?.split(' ')[4])
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid logged for ${version} (${role})`)
  return pid
}

/** What the rollout's log says after the ticks of `ms` more. */
async function actionsAfter(store: Store, rolloutId: string, ms: number): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, ms))
  const [decisions] = await store.decisions.for([rolloutId])
  return decisions!.map((d) => d.action)
}

describe("a stop signal that reaches the process target's children too (Ctrl-C, systemd)", () => {
  it("quiesced first, the children's exits are no failed canary and no stable to start again", async () => {
    const { store, controller, target, rolloutId, spec } = await holdingAtFifty()
    const before = await actionsAfter(store, rolloutId, 0)
    const logged = lines.length
    // As embedded.ts and controller/main.ts do on SIGINT/SIGTERM (runtime.quiesce()); then the same signal reaches the children.
    controller.halt()
    target.quiesce()
    process.kill(pidOf('v2', 'canary'), 'SIGTERM')
    process.kill(pidOf('v1', 'stable'), 'SIGTERM')
    // Three intervals (1 s ticks): a tick would have judged the canary dead by now.
    expect(await actionsAfter(store, rolloutId, 3000)).toEqual(before)
    const after = lines.slice(logged)
    expect(after.filter((l) => /exited/.test(l))).toHaveLength(2)
    expect(after.filter((l) => /unexpectedly|starting it again|started (stable|canary) process/.test(l))).toEqual([])
    // A tick that was already running when the signal came: the dead stable is not started
    // again (an error that is never the canary's fault), and the dead canary is no failure.
    await expect(target.ensureStable(spec, 'v1')).rejects.toBeInstanceOf(TargetStoppingError)
    expect(await target.canaryFailure({ rolloutId, application: spec, stableVersion: 'v1', canaryVersion: 'v2' })).toBeNull()
  })

  it("without it, the canary's exit reads as a failed canary and is rolled back (what quiescing prevents)", async () => {
    const { store, rolloutId } = await holdingAtFifty()
    process.kill(pidOf('v2', 'canary'), 'SIGTERM')
    expect(await eventually(async () => (await actionsAfter(store, rolloutId, 0)).includes('ROLLBACK'), 10_000)).toBe(true)
    const [decisions] = await store.decisions.for([rolloutId])
    expect(decisions!.find((d) => d.action === 'ROLLBACK')?.reason).toMatch(/canary process v2 exited/)
  })
})
