/**
 * Latency as a shift: is the canary's whole latency distribution slower than the baseline's?
 * A permutation e-value on the proxy's histogram buckets, for the latency FAIL next to the
 * threshold counts of latency-tail.ts.
 *
 * Why. The threshold test of latency-tail.ts uses one bit per request (above the baseline's
 * p95 or not). A canary that is 50 % slower everywhere moves every request about four 10 %
 * buckets up; a score that counts how far up uses that, and needs about a third of the
 * requests the p95 threshold needs (measured in the benchmark's `latency-plus50`).
 *
 * The e-value. In one interval i, let the N requests of both versions have scores zⱼ: the
 * request's bucket index, clipped below at the interval's pooled median bucket (only the
 * slower half counts, so a p95 or p99 gate is not failed by faster requests moving around),
 * then standardized by the pooled mean and standard deviation. The scores are a function of
 * the pooled multiset only, which does not say which request was whose. Under the null (both
 * versions' latencies in interval i follow the same law), given the past and that multiset,
 * the canary's Nc requests are a uniformly random subset of the N: S = Σ_canary zⱼ is a sum
 * of Nc draws WITHOUT replacement from {zⱼ}. exp(β·S) is convex in S, so by Hoeffding
 * (1963) its expectation is at most that of Nc draws WITH replacement, m(β)^Nc with
 * m(β) = (1/N)·Σⱼ exp(β·zⱼ). Hence
 *
 *     Eᵢ(β) = exp(β·Sᵢ − Nc·ln m(β))
 *
 * has conditional expectation at most 1, the product over intervals is a nonnegative
 * supermartingale, and a uniform mixture over a grid of β is an e-process: looking at every
 * tick keeps Ville's bound. Against a shift of δ standard deviations with canary share p0,
 * the best β is about (1 − p0)·δ, hence the grid {@link SHIFT_BETAS}: +10 % to +100 % at the
 * benchmark's spread, at shares 5–75 %.
 *
 * What it assumes: as latency-tail.ts, that given an interval's totals the requests'
 * latencies are independent of which version served them under the null. Pure; O(grid +
 * buckets) per interval.
 */
import type { BucketCounts } from './latency-tail.ts'

/** Tilts of the mixture, in standard deviations of the (clipped) score. */
export const SHIFT_BETAS: readonly number[] = [0.1, 0.2, 0.35, 0.6, 1]

export interface ShiftSummary {
  /** Intervals that carried evidence (both versions served, scores not all equal). */
  intervals: number
  canaryRequests: number
  /** Mean standardized score of the canary's requests (0: like the pool; > 0: slower). */
  canaryMeanScore: number | null
  logE: number
}

export class LatencyShiftTest {
  readonly #betas: readonly number[]
  readonly #logs: Float64Array
  #intervals = 0
  #canaryRequests = 0
  #canaryScore = 0

  constructor(betas: readonly number[] = SHIFT_BETAS) {
    if (betas.length === 0) throw new RangeError('betas must not be empty')
    for (const b of betas) if (!(Number.isFinite(b) && b > 0)) throw new RangeError(`betas must be finite and positive, got ${b}`)
    this.#betas = [...betas]
    this.#logs = new Float64Array(betas.length)
  }

  /** Adds one interval's histograms (same bucket layout). */
  add(canary: BucketCounts, baseline: BucketCounts): void {
    const buckets = Math.min(canary.length, baseline.length)
    let nc = 0
    let n = 0
    for (let b = 0; b < buckets; b++) {
      nc += canary[b]!
      n += canary[b]! + baseline[b]!
    }
    if (!(nc > 0) || !(n > nc)) return
    // The pooled median bucket: scores below it are clipped up to it.
    const rank = Math.ceil(n / 2)
    let floor = 0
    for (let b = 0, seen = 0; b < buckets; b++) {
      seen += canary[b]! + baseline[b]!
      if (seen >= rank) {
        floor = b
        break
      }
    }
    const raw = (b: number): number => Math.max(b, floor)
    let sum = 0
    let squares = 0
    for (let b = 0; b < buckets; b++) {
      const m = canary[b]! + baseline[b]!
      sum += m * raw(b)
      squares += m * raw(b) * raw(b)
    }
    const mean = sum / n
    const variance = squares / n - mean * mean
    // All scores equal (every request in one bucket, or below the median): nothing to tell.
    if (!(variance > 1e-12)) return
    const sd = Math.sqrt(variance)
    let s = 0
    for (let b = 0; b < buckets; b++) s += canary[b]! * ((raw(b) - mean) / sd)
    for (let k = 0; k < this.#betas.length; k++) {
      const beta = this.#betas[k]!
      // ln m(β) = ln((1/N)·Σ m_b·exp(β·z_b)), stabilized by the largest exponent.
      let top = Number.NEGATIVE_INFINITY
      for (let b = 0; b < buckets; b++) if (canary[b]! + baseline[b]! > 0) top = Math.max(top, (beta * (raw(b) - mean)) / sd)
      let acc = 0
      for (let b = 0; b < buckets; b++) {
        const m = canary[b]! + baseline[b]!
        if (m > 0) acc += m * Math.exp((beta * (raw(b) - mean)) / sd - top)
      }
      this.#logs[k]! += beta * s - nc * (top + Math.log(acc / n))
    }
    this.#intervals += 1
    this.#canaryRequests += nc
    this.#canaryScore += s
  }

  summary(): ShiftSummary {
    return {
      intervals: this.#intervals,
      canaryRequests: this.#canaryRequests,
      canaryMeanScore: this.#canaryRequests > 0 ? this.#canaryScore / this.#canaryRequests : null,
      logE: this.logE,
    }
  }

  /** ln of the uniform mixture over β of the running products. */
  get logE(): number {
    let max = Number.NEGATIVE_INFINITY
    for (const l of this.#logs) max = Math.max(max, l)
    let acc = 0
    for (const l of this.#logs) acc += Math.exp(l - max)
    return max + Math.log(acc / this.#logs.length)
  }
}
