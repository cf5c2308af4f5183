/**
 * Latency as counts: the share of requests slower than the baseline's quantile, tested with
 * the same error-share test as errors (error-share.ts).
 *
 * Sentra's proxy keeps a latency histogram per version and second on fixed 10 % buckets
 * (controller/proxy/latency-histogram.ts), and the built-in provider hands the window's bucket
 * counts to the judge. For each disjoint interval i the test fixes a threshold bucket Tᵢ from
 * the baseline's requests of the EARLIER intervals only (the bucket holding their q-quantile),
 * then counts, in interval i, the canary's and the baseline's requests in buckets above Tᵢ:
 * "slow" requests. Tᵢ is chosen before interval i's requests are seen, so if both versions'
 * latencies follow the same law in interval i (whatever it is, and however it changes over
 * time), every request of interval i is slow with the same probability, and a slow request
 * comes from the canary with probability p0ᵢ = the canary's share of interval i's requests:
 * exactly the null of the error-share test. A canary that is slower only in its tail (2 % of
 * requests 5 × slower) doubles its share of requests above the baseline's p99 while its p95
 * hardly moves; a canary 50 % slower triples its share above the baseline's p95. The
 * per-request counts carry far more evidence than the three quantiles of a one-second window.
 *
 * Until the earlier baseline requests suffice (the first seconds of a rollout: a p99 needs
 * 500 of them), the threshold comes from the earlier baseline requests together with the
 * current interval's requests of BOTH versions. That is valid too: under the null, given
 * the past and the interval's pooled latencies (a multiset that does not say which request
 * was whose), every way of labelling Nc of them "canary" is equally likely, so the canary's
 * count among the requests above any threshold computed from that multiset is
 * hypergeometric with share p0ᵢ, the same null. It costs some power under the alternative
 * (the canary's slow requests raise the pooled quantile), much less than having no
 * threshold at all for the first seconds.
 *
 * A gate on the g-quantile tests every threshold at or above g (p95: the baseline's p95 and
 * p99; p50: p50, p95 and p99), as the quantile pairs do: a slower p99 is a latency regression
 * for a p95 gate as much as a slower p95. The e-value is the average of the thresholds' e-values
 * (an average of e-processes is one), so looking at every tick keeps the false-alarm bound.
 * What it assumes: given an interval's totals, whether a request is slow is independent of the
 * others (as for errors).
 */
import { type CountIncrement, DEFAULT_FAIL_RATIOS, ErrorShareTest } from './error-share.ts'
import { LatencyShiftTest, type ShiftSummary } from './latency-shift.ts'

/** One version's histogram in one interval: counts per bucket of the proxy's fixed buckets. */
export type BucketCounts = readonly number[]

/**
 * Baseline requests needed before a threshold is used, so that its bucket is a fair estimate
 * of the quantile: about 5 requests above it (p99: 500, p95: 100, p50: 10). Validity does
 * not depend on it (any threshold fixed in advance gives a valid test), only power does.
 */
function minimumBaseline(q: number): number {
  return Math.ceil(5 / (1 - q))
}

/**
 * Requests (earlier baseline plus the current interval's pooled ones) needed before a
 * pooled threshold is used: one expected above the quantile (p99: 100, p95: 20, p50: 2).
 */
function minimumPooled(q: number): number {
  return Math.ceil(1 / (1 - q))
}

/** The bucket that holds the q-quantile of `counts` (rank ⌈q·total⌉), or null when empty. */
export function quantileBucket(counts: ArrayLike<number>, total: number, q: number): number | null {
  if (!(total > 0)) return null
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0
    if (seen >= rank) return i
  }
  return null
}

/** Requests in buckets strictly above `bucket`. */
function above(counts: BucketCounts, bucket: number): number {
  let n = 0
  for (let i = bucket + 1; i < counts.length; i++) n += counts[i] ?? 0
  return n
}

function total(counts: BucketCounts): number {
  let n = 0
  for (const c of counts) n += c
  return n
}

/** Whether `counts` is a usable histogram: finite, non-negative counts. */
export function validBuckets(counts: unknown): counts is BucketCounts {
  return Array.isArray(counts) && counts.length > 0 && counts.every((c) => typeof c === 'number' && Number.isFinite(c) && c >= 0)
}

export interface ThresholdSummary {
  /** The baseline quantile that sets the threshold. */
  quantile: number
  /** Intervals that had a threshold (enough earlier baseline requests). */
  intervals: number
  canaryRequests: number
  canarySlow: number
  baselineRequests: number
  baselineSlow: number
  /** ln e-value of "the canary is more often slower than the threshold than the baseline". */
  logE: number
}

/**
 * Accumulates disjoint intervals (oldest first) and answers the combined FAIL e-value. One
 * error-share test per threshold; O(grid + buckets) per interval.
 */
export class LatencyTailTest {
  readonly #quantiles: readonly number[]
  readonly #tests: ErrorShareTest[]
  readonly #tallies: Omit<ThresholdSummary, 'logE' | 'quantile'>[]
  /** Baseline histogram of every interval added so far: where the next thresholds come from. */
  readonly #baseline: Float64Array
  #baselineTotal = 0
  /** Whole-distribution shift (latency-shift.ts): one more e-process in the average. */
  readonly #shift = new LatencyShiftTest()

  constructor(quantiles: readonly number[], alpha: number, buckets: number) {
    if (quantiles.length === 0) throw new RangeError('quantiles must not be empty')
    this.#quantiles = [...quantiles]
    // Margin and pass ratios are unused (FAIL only); the floor is off: latency has no floor.
    this.#tests = this.#quantiles.map(() => new ErrorShareTest({ alpha, margin: 2, floor: null, failRatios: DEFAULT_FAIL_RATIOS }))
    this.#tallies = this.#quantiles.map(() => ({ intervals: 0, canaryRequests: 0, canarySlow: 0, baselineRequests: 0, baselineSlow: 0 }))
    this.#baseline = new Float64Array(buckets)
  }

  /** Adds one interval's histograms (same bucket layout as the constructor's). */
  add(canary: BucketCounts, baseline: BucketCounts): void {
    const nc = total(canary)
    const nb = total(baseline)
    // The pooled fallback, built only when some threshold needs it (the first seconds).
    let pooled: Float64Array | null = null
    for (let j = 0; j < this.#quantiles.length; j++) {
      const q = this.#quantiles[j]!
      let bucket: number | null
      if (this.#baselineTotal >= minimumBaseline(q)) {
        bucket = quantileBucket(this.#baseline, this.#baselineTotal, q)
      } else {
        const pooledTotal = this.#baselineTotal + nc + nb
        if (pooledTotal < minimumPooled(q)) continue
        pooled ??= this.#pooled(canary, baseline)
        bucket = quantileBucket(pooled, pooledTotal, q)
      }
      if (bucket === null) continue
      const inc: CountIncrement = { canaryRequests: nc, canaryErrors: above(canary, bucket), baselineRequests: nb, baselineErrors: above(baseline, bucket) }
      this.#tests[j]!.add(inc)
      const t = this.#tallies[j]!
      t.intervals += 1
      t.canaryRequests += inc.canaryRequests
      t.canarySlow += inc.canaryErrors
      t.baselineRequests += inc.baselineRequests
      t.baselineSlow += inc.baselineErrors
    }
    this.#shift.add(canary, baseline)
    // Only now: interval i's earlier-baseline threshold never depends on interval i itself.
    for (let i = 0; i < baseline.length && i < this.#baseline.length; i++) this.#baseline[i]! += baseline[i] ?? 0
    this.#baselineTotal += nb
  }

  /**
   * The earlier baseline requests plus both versions' requests of the current interval: a
   * histogram that does not depend on which of the current requests were the canary's.
   */
  #pooled(canary: BucketCounts, baseline: BucketCounts): Float64Array {
    const pooled = Float64Array.from(this.#baseline)
    for (let i = 0; i < pooled.length; i++) pooled[i]! += (canary[i] ?? 0) + (baseline[i] ?? 0)
    return pooled
  }

  /** Per threshold: counts and ln e-value. */
  thresholds(): ThresholdSummary[] {
    return this.#quantiles.map((quantile, j) => ({ quantile, ...this.#tallies[j]!, logE: this.#tests[j]!.logEFail() }))
  }

  /** The shift test's counts and ln e-value. */
  shift(): ShiftSummary {
    return this.#shift.summary()
  }

  /**
   * ln of the combined FAIL e-value: the average of the thresholds' e-values and the shift
   * test's (an average of e-processes is one).
   */
  get logE(): number {
    const logs = [...this.#tests.map((t) => t.logEFail()), this.#shift.logE]
    const max = Math.max(...logs)
    if (!Number.isFinite(max)) return max
    return max + Math.log(logs.reduce((s, l) => s + Math.exp(l - max), 0) / logs.length)
  }
}
