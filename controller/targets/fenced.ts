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

/**
 * How long a passed fencing check stands for the target calls that follow it. A tick's
 * reconcile makes two idempotent calls (ensureStable, prepare) that are almost always no-ops;
 * one read of the token for both halves what fencing costs a steady tick. The guarantee is
 * unchanged in kind: a check and the call after it were never atomic (the platform is not
 * the store), so a holder paused between them could always act once late; this widens that
 * gap by at most this much, far below any lease TTL (seconds). A slow call (a process
 * starting) outlives it, and the next call checks again.
 */
export const FENCE_CHECK_FRESH_MS = 250

/**
 * `check`, reusing a success that finished less than `freshMs` ago (callers at the same
 * time share one check). A failure is never reused: the next call checks again.
 */
export function reuseRecentCheck(check: () => Promise<void>, freshMs = FENCE_CHECK_FRESH_MS, now: () => number = performance.now.bind(performance)): () => Promise<void> {
  let passedAt = Number.NEGATIVE_INFINITY
  let running: Promise<void> | null = null
  return () => {
    if (now() - passedAt < freshMs) return Promise.resolve()
    running ??= check().then(
      () => {
        passedAt = now()
        running = null
      },
      (error: unknown) => {
        running = null
        throw error
      },
    )
    return running
  }
}
