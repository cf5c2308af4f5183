/**
 * An anytime-valid, one-sided latency test from what a window offers: the canary's and the
 * baseline's p50, p95 and p99 as Sentra's proxy reports them, and their request counts.
 *
 * Quantiles cannot be differenced the way counts can, so the test uses whole, disjoint
 * windows only (see increments.ts), and turns quantile comparisons into counts:
 *
 * - The proxy's quantile is interpolated inside the 10 %-wide histogram bucket that holds
 *   the request of rank ⌈q·n⌉ (its ends included). So when the canary's a-quantile is more
 *   than 1.1 times the baseline's q-quantile (and above 1 ms, the first bucket's end, and
 *   the baseline's below 30 s, the overflow bucket), the two requests behind them sit in
 *   different buckets, and at least n_c − ⌈a·n_c⌉ + 1 canary requests were slower than the
 *   baseline's request of rank k = ⌈q·n_b⌉.
 * - If both versions' latencies in the window are exchangeable (the canary is no slower:
 *   same distribution; a faster canary only makes the count smaller), the number of canary
 *   requests slower than the baseline's k-th fastest is BetaBinomial(n_c, n_b − k + 1, k),
 *   distribution-free (beta-binomial.ts). So 1{comparison holds} / P(count ≥ that bound) has
 *   expectation at most 1: an e-value per window, exact for any latency distribution.
 * - Per comparison ("pair"), the windows' e-values are combined by betting half the wealth
 *   each window (factor 1/2 + E/2), and the pairs' products are averaged: an e-process, so
 *   reaching 1/alpha at any window is a false alarm with probability at most alpha. One
 *   window's factor is capped (at about √(pairs/alpha)), so a single odd window (a cold cache, a
 *   GC pause) cannot fail a canary alone: at least two disjoint windows must agree.
 *
 * Pairs for a gate on the g-quantile: FAIL compares the canary's a-quantile with the
 * baseline's q-quantile for every a ≤ g ≤ q (a canary median above the baseline's p95 implies
 * a canary p95 above it too); PASS (non-inferiority at margin m: the canary is not m times
 * slower) mirrors it, with canary/m below the baseline: the canary's a-quantile × 1.1 below
 * the baseline's q-quantile ÷ 1.1 × m (both buckets' widths), for every q ≤ g ≤ a, against
 * BetaBinomial(n_c, k, n_b − k + 1).
 *
 * What it cannot do: see regressions smaller than a bucket (10 %) at the compared quantiles,
 * or regressions beyond p99. It is a detector of clear slowdowns that never cries wolf, not
 * a replacement for the relative judge on small latency margins.
 */
import { betaBinomialLogUpperTail } from './beta-binomial.ts'
import { logSumExp, logSumExp2 } from './special.ts'

const LN_HALF = Math.log(0.5)

export type LatencyQuantile = 0.5 | 0.95 | 0.99

export const LATENCY_QUANTILES: readonly LatencyQuantile[] = [0.5, 0.95, 0.99]

/** One version's quantiles (seconds) and request count in one window. */
export interface QuantileWindow {
  requests: number
  quantiles: Readonly<Record<LatencyQuantile, number>>
}

/** The canary's a-quantile against the baseline's q-quantile. */
export interface QuantilePair {
  canary: LatencyQuantile
  baseline: LatencyQuantile
}

/** Width of one histogram bucket of Sentra's proxy (controller/proxy/latency-histogram.ts), with room for rounding. */
export const BUCKET_GROWTH = 1.1 * (1 + 1e-9)
/** End of the proxy's first bucket, [0, 1 ms). */
const FIRST_BUCKET_END = 0.001
/** Start of the proxy's overflow bucket (~30.8 s); values from here on cannot be told apart. */
const OVERFLOW_START = 30

export function failPairs(g: LatencyQuantile): QuantilePair[] {
  return LATENCY_QUANTILES.flatMap((a) => LATENCY_QUANTILES.filter((q) => a <= g && g <= q).map((q) => ({ canary: a, baseline: q })))
}

export function passPairs(g: LatencyQuantile): QuantilePair[] {
  return LATENCY_QUANTILES.flatMap((a) => LATENCY_QUANTILES.filter((q) => q <= g && g <= a).map((q) => ({ canary: a, baseline: q })))
}

function rankOf(q: number, n: number): number {
  return Math.max(1, Math.ceil(q * n))
}

/**
 * ln of the e-value of one window for "the canary is slower" on one pair: ln(1/P) when the
 * canary's quantile is a bucket above the baseline's, else −Infinity (the bet is lost).
 */
export function slowerLogE(canary: QuantileWindow, baseline: QuantileWindow, pair: QuantilePair): number {
  const c = canary.quantiles[pair.canary]
  const b = baseline.quantiles[pair.baseline]
  if (!(b < OVERFLOW_START) || !(c > BUCKET_GROWTH * Math.max(b, FIRST_BUCKET_END))) return Number.NEGATIVE_INFINITY
  const nc = canary.requests
  const nb = baseline.requests
  const k = rankOf(pair.baseline, nb)
  const atLeast = nc - rankOf(pair.canary, nc) + 1
  return -betaBinomialLogUpperTail(atLeast, nc, nb - k + 1, k)
}

/**
 * ln of the e-value of one window for "the canary is less than `margin` times slower" on one
 * pair: ln(1/P) when canary/margin is a bucket below the baseline, else −Infinity.
 */
export function notSlowerLogE(canary: QuantileWindow, baseline: QuantileWindow, pair: QuantilePair, margin: number): number {
  const c = canary.quantiles[pair.canary]
  const b = baseline.quantiles[pair.baseline]
  if (!(c < OVERFLOW_START) || !(b > FIRST_BUCKET_END)) return Number.NEGATIVE_INFINITY
  if (!(BUCKET_GROWTH * Math.max(c, FIRST_BUCKET_END) * BUCKET_GROWTH <= margin * b)) return Number.NEGATIVE_INFINITY
  const nc = canary.requests
  const nb = baseline.requests
  const k = rankOf(pair.baseline, nb)
  const atLeast = rankOf(pair.canary, nc)
  return -betaBinomialLogUpperTail(atLeast, nc, k, nb - k + 1)
}

/**
 * Betting e-processes, one per pair, averaged: each window multiplies pair c's wealth by
 * min(cap, 1/2 + Eᶜ/2). Keeps ln wealth per pair.
 */
export class PairedBets {
  readonly #logWealth: number[]
  readonly #logCap: number
  #windows = 0
  /** Windows in which at least one comparison held. */
  #hits = 0

  constructor(pairs: number, alpha: number) {
    this.#logWealth = Array.from({ length: pairs }, () => 0)
    // √(pairs/alpha), 1 % more so that two capped windows of one pair reach 1/alpha despite
    // rounding; one window stays below 1/alpha while alpha < 1/(1.02·pairs) (spec: alpha ≤ 0.2, pairs ≤ 4).
    this.#logCap = 0.5 * Math.log(pairs / alpha) + Math.log(1.01)
  }

  /** Adds one window: the ln e-value of each pair (−Infinity when its comparison did not hold). */
  add(logE: readonly number[]): void {
    this.#windows += 1
    if (logE.some((e) => e > Number.NEGATIVE_INFINITY)) this.#hits += 1
    for (let i = 0; i < this.#logWealth.length; i++) {
      const factor = logSumExp2(LN_HALF, LN_HALF + (logE[i] ?? Number.NEGATIVE_INFINITY))
      this.#logWealth[i]! += Math.min(this.#logCap, factor)
    }
  }

  /** ln of the combined e-value: the average of the pairs' wealth. */
  get logE(): number {
    if (this.#logWealth.length === 0) return 0
    return logSumExp(this.#logWealth) - Math.log(this.#logWealth.length)
  }

  get windows(): number {
    return this.#windows
  }

  get hits(): number {
    return this.#hits
  }
}
