import type { AppSpec } from '../../schema/spec.ts'
import type { RolloutRef, Target } from '../../controller/targets/target.ts'

/**
 * A target with no platform behind it: weights are kept in a map, every call answers at once.
 * The controller benchmark measures the controller (scan, leases, store, telemetry, judges,
 * bus); a real target's cost is per platform and measured by `npm run bench -- targets`, and
 * with one here the numbers would be the platform's API latency, not the controller's.
 */
export class BenchTarget implements Target {
  readonly kind = 'bench'
  readonly #weights = new Map<string, number>()
  /** Calls per method, for the benchmark's sanity checks. */
  readonly calls = { ensureStable: 0, prepare: 0, setWeight: 0, observedWeight: 0, canaryFailure: 0, promote: 0, rollback: 0 }

  /** Seeded rollouts start with their canary at `weight`, as if the platform already served it. */
  seed(rolloutId: string, weight: number): void {
    this.#weights.set(rolloutId, weight)
  }

  async ensureStable(_app: AppSpec, _version: string): Promise<void> {
    this.calls.ensureStable++
  }

  async prepare(_r: RolloutRef): Promise<void> {
    this.calls.prepare++
  }

  async setWeight(r: RolloutRef, canaryPercent: number): Promise<void> {
    this.calls.setWeight++
    this.#weights.set(r.rolloutId, canaryPercent)
  }

  async observedWeight(r: RolloutRef): Promise<number | null> {
    this.calls.observedWeight++
    return this.#weights.get(r.rolloutId) ?? 0
  }

  async canaryFailure(_r: RolloutRef): Promise<string | null> {
    this.calls.canaryFailure++
    return null
  }

  async promote(r: RolloutRef): Promise<void> {
    this.calls.promote++
    this.#weights.delete(r.rolloutId)
  }

  async rollback(r: RolloutRef): Promise<void> {
    this.calls.rollback++
    this.#weights.set(r.rolloutId, 0)
  }

  async close(): Promise<void> {
    this.#weights.clear()
  }
}
