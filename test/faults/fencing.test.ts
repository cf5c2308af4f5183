import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProxyListenError } from '../../controller/proxy/registry.ts'
import { CannotServeError, tickRollout } from '../../controller/tick.ts'
import { type RolloutRef, type Target, TargetStoppingError } from '../../controller/targets/target.ts'
import type { AppSpec } from '../../schema/spec.ts'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { GroupCommit } from '../../schema/store/group-commit.ts'
import { FencedError } from '../../schema/store/leases.ts'
import { DIALECTS, openTestStore } from '../support/databases.ts'
import { faultSpec } from './support.ts'

/** A target that only records what it was asked to do; `onCall` runs before each call. */
function recordingTarget(onCall: (method: string) => Promise<void> = async () => {}) {
  const calls: string[] = []
  let weight = 0
  const record = async (method: string) => {
    await onCall(method)
    calls.push(method)
  }
  const target: Target = {
    kind: 'process',
    ensureStable: (_app: AppSpec, version: string) => record(`ensureStable ${version}`),
    prepare: (r: RolloutRef) => record(`prepare ${r.canaryVersion}`),
    setWeight: async (_r: RolloutRef, percent: number) => {
      await record(`setWeight ${percent}`)
      weight = percent
    },
    observedWeight: async () => weight,
    canaryFailure: async () => null,
    promote: (r: RolloutRef) => record(`promote ${r.canaryVersion}`),
    rollback: (r: RolloutRef) => record(`rollback ${r.canaryVersion}`),
    close: async () => {},
  }
  return { target, calls }
}

/**
 * Issue #9, item 1: the fencing token. Each holder of a rollout takes a token from the store
 * (LeaseRepository.takeFence) after its lease; the store checks it in every tick's
 * transaction and before every target call, so an old owner that was paused or cut off
 * while a newer one took over writes nothing and moves no traffic.
 */
describe.each(DIALECTS)('fencing tokens on %s', (dialect) => {
  let store: Store
  let bus: Bus
  let dispose: () => Promise<void>
  let n = 0

  beforeAll(async () => {
    const opened = await openTestStore(dialect)
    store = createStore(opened.db)
    dispose = opened.dispose
    bus = createBus()
  })
  afterAll(async () => {
    await bus?.close()
    await dispose?.()
  })

  async function pendingRollout(): Promise<string> {
    const name = `fenced-${++n}`
    const app = await store.applications.upsert(name, faultSpec(name, 9, { interval: '1s', analyzeMin: '3s' }))
    await store.applications.setStableVersion(app.id, 'v1')
    return (await beginRollout(store, bus, (await store.applications.byId(app.id))!, 'v3')).id
  }
  const ctx = (target: Target, fence: { name: string; token: number }) => ({ store, bus, holder: 'test', targets: () => target, providers: () => new Map(), fence })

  it('gives every new holder a larger token, and refuses every older one', async () => {
    const first = await store.leases.takeFence('rollout:x', 'a')
    const second = await store.leases.takeFence('rollout:x', 'b')
    expect(second).toBe(first + 1)
    await expect(store.leases.checkFence('rollout:x', second)).resolves.toBeUndefined()
    await expect(store.leases.checkFence('rollout:x', first)).rejects.toThrow(FencedError)
    await expect(store.leases.checkFence('rollout:x', second + 1)).rejects.toThrow(/stale/)
    await expect(store.leases.checkFence('rollout:never-taken', 1)).rejects.toThrow(FencedError)
    // A fence row is never mistaken for a live lease of the same name.
    expect(await store.leases.holderOf('fence:rollout:x')).toBeNull()
    expect(await store.leases.acquire('rollout:x', 'c', 1000)).toMatchObject({ holder: 'c', token: 1 })
  })

  it('lets exactly one token stay valid when many holders take the fence at once', async () => {
    const tokens = await Promise.all(Array.from({ length: 6 }, (_, i) => store.leases.takeFence('rollout:race', `h${i}`).catch(() => null)))
    const taken = tokens.filter((t): t is number => t !== null)
    expect(new Set(taken).size).toBe(taken.length)
    const valid = await Promise.all(taken.map((t) => store.leases.checkFence('rollout:race', t).then(() => t, () => null)))
    expect(valid.filter((t) => t !== null)).toEqual([Math.max(...taken)])
  })

  it('an old holder whose token was superseded writes no decision and calls no target', async () => {
    const id = await pendingRollout()
    const before = await store.rollouts.byId(id)
    const old = await store.leases.takeFence(`rollout:${id}`, 'old')
    const current = await store.leases.takeFence(`rollout:${id}`, 'new')
    const stale = recordingTarget()
    await expect(tickRollout(ctx(stale.target, { name: `rollout:${id}`, token: old }), id, { history: new Map() })).rejects.toThrow(FencedError)
    expect(stale.calls).toEqual([])
    expect(await store.decisions.for([id])).toEqual([[]])
    expect(await store.rollouts.byId(id)).toEqual(before)
    // The newest holder acts as usual.
    const fresh = recordingTarget()
    await tickRollout(ctx(fresh.target, { name: `rollout:${id}`, token: current }), id, { history: new Map() })
    expect((await store.decisions.for([id]))[0]?.map((d) => d.action)).toEqual(['START'])
    expect(fresh.calls).toContain('prepare v3')
  })

  it('a holder that loses the rollout in the middle of its tick stops there: no decision, no further target call', async () => {
    const id = await pendingRollout()
    const mine = await store.leases.takeFence(`rollout:${id}`, 'slow')
    let takenOver = false
    // While the slow holder starts its canary, its lease runs out and another controller takes the rollout.
    const slow = recordingTarget(async (method) => {
      if (method.startsWith('prepare') && !takenOver) {
        takenOver = true
        await store.leases.takeFence(`rollout:${id}`, 'fast')
      }
    })
    await expect(tickRollout(ctx(slow.target, { name: `rollout:${id}`, token: mine }), id, { history: new Map() })).rejects.toThrow(FencedError)
    expect(takenOver).toBe(true)
    // Calls made before the takeover stand; none after it (prepare had passed its check already).
    expect(slow.calls).toEqual(['ensureStable v1', 'prepare v3'])
    expect(await store.decisions.for([id])).toEqual([[]])
    expect((await store.rollouts.byId(id))?.status).toBe('PENDING')
  })

  it('two ticks committed together: the one whose holder lost the rollout after its target calls writes nothing, the other commits', async () => {
    const [lost, kept] = [await pendingRollout(), await pendingRollout()]
    const [lostToken, keptToken] = [await store.leases.takeFence(`rollout:${lost}`, 'me'), await store.leases.takeFence(`rollout:${kept}`, 'me')]
    const lostBefore = await store.rollouts.byId(lost)
    // The last thing reconcile asks before the decision: take the rollout over right then, so
    // only the check inside the (shared) transaction can notice.
    const takenOver = recordingTarget()
    takenOver.target.observedWeight = async () => {
      await store.leases.takeFence(`rollout:${lost}`, 'other')
      return 0
    }
    // Both ticks reach their commit before the batch starts, so they share it.
    const commits = new GroupCommit(store)
    let arrived = 0
    let bothArrived = () => {}
    const together = new Promise<void>((resolve) => (bothArrived = resolve))
    const transaction = async <T,>(fn: (tx: Store) => Promise<T>): Promise<T> => {
      if (++arrived === 2) bothArrived()
      await together
      return commits.run(fn)
    }
    const [lostTick, keptTick] = await Promise.allSettled([
      tickRollout({ ...ctx(takenOver.target, { name: `rollout:${lost}`, token: lostToken }), transaction }, lost, { history: new Map() }),
      tickRollout({ ...ctx(recordingTarget().target, { name: `rollout:${kept}`, token: keptToken }), transaction }, kept, { history: new Map() }),
    ])
    expect(commits.stats).toEqual({ batches: 1, runs: 2 })
    expect(lostTick.status === 'rejected' && lostTick.reason).toBeInstanceOf(FencedError)
    expect(keptTick.status).toBe('fulfilled')
    expect(await store.decisions.for([lost, kept])).toEqual([[], [expect.objectContaining({ action: 'START' })]])
    expect(await store.rollouts.byId(lost)).toEqual(lostBefore)
    expect((await store.rollouts.byId(kept))?.status).toBe('PROGRESSING')
  })

  it('a holder that cannot serve the address (another controller still does) hands the rollout back: no rollback of a good canary', async () => {
    const id = await pendingRollout()
    const token = await store.leases.takeFence(`rollout:${id}`, 'second')
    const before = await store.rollouts.byId(id)
    const busy = recordingTarget(async (method) => {
      if (method.startsWith('prepare')) throw new ProxyListenError('busy', { host: '127.0.0.1', port: 9 }, Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }))
    })
    const ticked = tickRollout(ctx(busy.target, { name: `rollout:${id}`, token }), id, { history: new Map() })
    await expect(ticked).rejects.toThrow(CannotServeError)
    await expect(ticked).rejects.toThrow(/cannot listen on 127.0.0.1:9: address already in use/)
    expect(await store.decisions.for([id])).toEqual([[]])
    expect(await store.rollouts.byId(id)).toEqual(before)
  })

  it('a target that is stopping with Sentra (a stop signal) ends the tick without deciding: no rollback of a good canary', async () => {
    const id = await pendingRollout()
    const token = await store.leases.takeFence(`rollout:${id}`, 'third')
    const before = await store.rollouts.byId(id)
    const stopping = recordingTarget(async (method) => {
      if (method.startsWith('ensureStable')) throw new TargetStoppingError('fenced: Sentra is stopping, so v1 is not started')
    })
    await tickRollout(ctx(stopping.target, { name: `rollout:${id}`, token }), id, { history: new Map() })
    expect(await store.decisions.for([id])).toEqual([[]])
    expect(await store.rollouts.byId(id)).toEqual(before)
    expect(stopping.calls).toEqual([])
  })
})
