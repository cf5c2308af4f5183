import type { Target } from './target.ts'

/**
 * The target as seen by one holder of a rollout: every call that changes the platform first
 * checks the holder's fencing token (`check` throws FencedError once a newer holder took
 * the rollout), so a paused or partitioned old owner stops acting after it lost its lease
 * (docs/ha.md). Reads (observedWeight, canaryFailure) pass straight through.
 */
export function fencedTarget(target: Target, check: () => Promise<void>): Target {
  const guarded =
    <A extends unknown[]>(call: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      await check()
      await call(...args)
    }
  return {
    kind: target.kind,
    ensureStable: guarded((app, version) => target.ensureStable(app, version)),
    prepare: guarded((r) => target.prepare(r)),
    setWeight: guarded((r, percent) => target.setWeight(r, percent)),
    promote: guarded((r) => target.promote(r)),
    rollback: guarded((r) => target.rollback(r)),
    observedWeight: (r) => target.observedWeight(r),
    canaryFailure: (r) => target.canaryFailure(r),
    close: () => target.close(),
  }
}
