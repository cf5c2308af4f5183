/**
 * Beta-binomial tails, the exact null distribution of a distribution-free exceedance count:
 * among n + m exchangeable continuous values split into n "canary" and m "baseline" ones,
 * the number K of canary values above the baseline's k-th smallest value is
 * BetaBinomial(n, m − k + 1, k) (the baseline order statistic sits at U ~ Beta(k, m − k + 1)
 * on the probability scale, and each canary value exceeds it with probability 1 − U).
 * Likewise the number of canary values below it is BetaBinomial(n, k, m − k + 1).
 */
import { logBeta, logGamma } from './special.ts'

/** ln P(K = x) for K ~ BetaBinomial(n, a, b). */
export function betaBinomialLogPmf(x: number, n: number, a: number, b: number): number {
  if (!Number.isInteger(x) || x < 0 || x > n) return Number.NEGATIVE_INFINITY
  const logChoose = logGamma(n + 1) - logGamma(x + 1) - logGamma(n - x + 1)
  return logChoose + logBeta(x + a, n - x + b) - logBeta(a, b)
}

/**
 * ln P(K ≥ x) for K ~ BetaBinomial(n, a, b), summed upwards from x with the pmf's ratio
 * recurrence (O(n − x), no cancellation). 0 for x ≤ 0, −Infinity for x > n.
 */
export function betaBinomialLogUpperTail(x: number, n: number, a: number, b: number): number {
  const from = Math.max(0, Math.ceil(x))
  if (from === 0) return 0
  if (from > n) return Number.NEGATIVE_INFINITY
  let logTerm = betaBinomialLogPmf(from, n, a, b)
  const first = logTerm
  // Σ exp(logTerm − first), accumulated relative to the first term.
  let sum = 1
  let relative = 0
  const unimodal = a >= 1 && b >= 1
  for (let k = from; k < n; k++) {
    // P(k+1)/P(k) = (n−k)/(k+1) · (k+a)/(n−k−1+b)
    relative += Math.log(((n - k) * (k + a)) / ((k + 1) * (n - k - 1 + b)))
    const term = Math.exp(relative)
    sum += term
    // Unimodal for a, b ≥ 1: once the terms fall below the first and are negligible, the rest are too.
    if (unimodal && term < 1e-17 * sum && relative < 0) break
  }
  logTerm = first + Math.log(sum)
  return Math.min(0, logTerm)
}
