/**
 * Non-inferiority in percentage points: "the canary's error rate is at most the baseline's
 * plus δ", shown by two one-sided anytime-valid bounds, one per version.
 *
 * Why not the error-share test (error-share.ts)? Its non-inferiority statement is a ratio,
 * and with rare errors a ratio takes forever to pin down: at 0.3 % errors, telling a ratio
 * of 1 from 1.5 needs some 280 errors, about 90,000 requests. An absolute margin is what
 * people mean ("no more than half a point worse") and needs only about
 * ln(1/alpha) / KL(q ‖ q + δ) canary requests: some 2,200 at 0.3 % against 0.8 %.
 *
 * The test. With x errors in n canary requests, the e-value against "the canary's error rate
 * is at least c" is a uniform mixture of binomial likelihood ratios of c·g against c over
 * {@link BELOW_RATIOS} g < 1. Each ratio is decreasing in x, so its expectation is at most 1
 * whenever every request fails with probability at least c (even if that probability moves
 * over time): a nonnegative supermartingale, checkable at every tick (Ville). It is also
 * increasing in c, so "rejects c" implies "rejects every rate above c". The baseline's lower
 * bound L is the mirror image (alternatives q·r, r > 1): every rate below L is rejected.
 *
 * PASS when the canary's test rejects c = L + δ at level alpha/4 while L holds at level
 * alpha/4. If the canary were worse by δ or more (qc ≥ qb + δ) and L ≤ qb (probability at
 * least 1 − alpha/4 at all times), then c ≤ qc and rejecting c means rejecting qc, which
 * happens with probability at most alpha/4: at most alpha/2 in all. The judge spends the
 * other alpha/2 on its ratio test, so a canary worse than both margins passes with
 * probability at most alpha. What it assumes: the baseline's error rate does not drift
 * downwards during the analysis (L bounds its rate over the whole analysis); a burst shared
 * by both versions only makes it more careful.
 */

/** Alternatives of the "canary below c" test, as fractions of c. */
export const BELOW_RATIOS: readonly number[] = [0.8, 2 / 3, 0.5, 1 / 3, 1 / 6, 0]

/** Alternatives of the "baseline above q" test, as multiples of q. */
const ABOVE_RATIOS: readonly number[] = [1.25, 1.5, 2, 3, 5]

/** ln of the below-ratios and above-ratios, computed once: the bounds below evaluate the mixtures dozens of times per tick. */
const LOG_BELOW_RATIOS = BELOW_RATIOS.map((g) => Math.log(g))
const LOG_ABOVE_RATIOS = ABOVE_RATIOS.map((r) => Math.log(r))

/**
 * ln of the mean of exp(terms), terms = x·ln(ratio) + (n−x)·(ln(1−q·ratio) − ln(1−q)) for the
 * given ratios of q (0·ln 0 = 0), skipping ratios with q·ratio ≥ 1; NaN when none is left.
 * One pass, no arrays: the bisections below call it about 50 times per bound.
 */
function logMeanRatio(x: number, n: number, q: number, ratios: readonly number[], logRatios: readonly number[]): number {
  const rest = n - x
  const logRestQ = rest === 0 ? 0 : Math.log1p(-q)
  let max = Number.NEGATIVE_INFINITY
  let sum = 0
  let count = 0
  for (let i = 0; i < ratios.length; i++) {
    const alternative = q * ratios[i]!
    if (alternative >= 1) continue
    count++
    const errors = x === 0 ? 0 : logRatios[i]! * x
    const term = errors + (rest === 0 ? 0 : rest * (Math.log1p(-alternative) - logRestQ))
    if (term === Number.NEGATIVE_INFINITY) continue
    // Running log-sum-exp: rescale the sum whenever a larger term arrives.
    if (term > max) {
      sum = sum * Math.exp(max - term) + 1
      max = term
    } else {
      sum += Math.exp(term - max)
    }
  }
  if (count === 0) return Number.NaN
  if (max === Number.NEGATIVE_INFINITY) return max
  return max + Math.log(sum / count)
}

/** ln e-value against "the error rate is at least c" (c in (0, 1]), from x errors in n requests. */
export function logEBelow(x: number, n: number, c: number): number {
  if (!(n > 0) || !(c > 0)) return 0
  if (c >= 1) return x < n ? Number.POSITIVE_INFINITY : 0
  return logMeanRatio(x, n, c, BELOW_RATIOS, LOG_BELOW_RATIOS)
}

/** ln e-value against "the error rate is at most q" (q in [0, 1)), from x errors in n requests. */
export function logEAbove(x: number, n: number, q: number): number {
  if (!(n > 0)) return 0
  if (q <= 0) return x > 0 ? Number.POSITIVE_INFINITY : 0
  const logE = logMeanRatio(x, n, q, ABOVE_RATIOS, LOG_ABOVE_RATIOS)
  return Number.isNaN(logE) ? 0 : logE
}

/**
 * Bisection stops when the bracket is this small relative to its upper end: bounds are shown
 * to three digits and compared with margins of a tenth of a point, so 40 halvings (1e-12) were
 * work without effect.
 */
const RELATIVE_TOLERANCE = 1e-7
const MAX_HALVINGS = 60

/** The largest q whose "at most q" is rejected at ln-level `target`: every rate below it is. 0 when none. */
export function lowerBound(x: number, n: number, target: number): number {
  if (!(n > 0) || x <= 0) return 0
  const rate = x / n
  if (logEAbove(x, n, 0) < target) return 0
  let lo = 0
  let hi = rate
  // The e-value falls as q rises towards the observed rate: bisect on q.
  for (let i = 0; i < MAX_HALVINGS && hi - lo > RELATIVE_TOLERANCE * hi; i++) {
    const mid = (lo + hi) / 2
    if (logEAbove(x, n, mid) >= target) lo = mid
    else hi = mid
  }
  return lo
}

/** The smallest c whose "at least c" is rejected at ln-level `target`: every rate above it is. null when none below 1. */
export function upperBound(x: number, n: number, target: number): number | null {
  if (!(n > 0) || x >= n) return null
  let lo = x / n
  let hi = 1
  for (let i = 0; i < MAX_HALVINGS && hi - lo > RELATIVE_TOLERANCE * hi; i++) {
    const mid = (lo + hi) / 2
    if (logEBelow(x, n, mid) >= target) hi = mid
    else lo = mid
  }
  return hi < 1 ? hi : null
}

export interface RateMarginResult {
  /** The canary was shown at most the baseline's rate + δ (at level alpha/2 in all). */
  pass: boolean
  /** ln of the canary's e-value against "at least L + δ", and the ln level it needs. */
  logE: number
  target: number
  /** The baseline's anytime lower bound L and the cap L + δ the canary is tested against. */
  baselineLower: number
  cap: number
  /** The canary's anytime upper bound (same level); null while unbounded. */
  canaryUpper: number | null
}

/**
 * The percentage-point non-inferiority test: PASS when the canary's error rate is shown at
 * most the baseline's + `delta`, spending `alpha`/2 (alpha/4 per version).
 */
export function rateMargin(
  canary: { errors: number; requests: number },
  baseline: { errors: number; requests: number },
  delta: number,
  alpha: number,
): RateMarginResult {
  const target = Math.log(4 / alpha)
  const baselineLower = baseline.requests > 0 ? lowerBound(baseline.errors, baseline.requests, target) : 0
  const cap = Math.min(1, baselineLower + delta)
  const logE = canary.requests > 0 && canary.errors / canary.requests < cap ? logEBelow(canary.errors, canary.requests, cap) : 0
  return { pass: logE >= target, logE, target, baselineLower, cap, canaryUpper: upperBound(canary.errors, canary.requests, target) }
}
