import type { RolloutRef, Target } from './target.ts'

/** For tests of the loop: a platform in memory, weights in a map, every call answers at once. */
export function memoryTarget(): Target {
  const weights = new Map<string, number>()
  return {
    kind: 'kubernetes',
    ensureStable: async () => {},
    prepare: async () => {},
    setWeight: async (r: RolloutRef, percent: number) => {
      weights.set(r.rolloutId, percent)
    },
    observedWeight: async (r: RolloutRef) => weights.get(r.rolloutId) ?? 0,
    canaryFailure: async () => null,
    promote: async () => {},
    rollback: async () => {},
    close: async () => {},
  }
}
