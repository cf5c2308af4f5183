/**
 * Small numeric helpers for the sequential judges: log-gamma, log-sum-exp. Pure, no
 * dependencies; accurate to ~1e-13 relative, which is far below anything a verdict rests on.
 */

/** Lanczos (g = 7, n = 9) coefficients, as in Numerical Recipes / Boost. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI)

/** ln Γ(x) for x > 0 (NaN otherwise). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN
  if (x < 0.5) {
    // Reflection keeps the approximation in its accurate range: Γ(x)Γ(1−x) = π / sin(πx).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  }
  const z = x - 1
  let sum = LANCZOS[0]!
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i)
  const t = z + 7.5
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b)
}

/** ln Σ exp(terms), without overflow; −Infinity for no terms. */
export function logSumExp(terms: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY
  for (const t of terms) if (t > max) max = t
  if (max === Number.NEGATIVE_INFINITY || Number.isNaN(max)) return max
  if (max === Number.POSITIVE_INFINITY) return max
  let sum = 0
  for (const t of terms) sum += Math.exp(t - max)
  return max + Math.log(sum)
}

/** {@link logSumExp} of two terms, without an array (hot loops); the same arithmetic, so the same result. */
export function logSumExp2(a: number, b: number): number {
  let max = Number.NEGATIVE_INFINITY
  if (a > max) max = a
  if (b > max) max = b
  if (max === Number.NEGATIVE_INFINITY || max === Number.POSITIVE_INFINITY) return max
  return max + Math.log(Math.exp(a - max) + Math.exp(b - max))
}

/** ln(Σ wᵢ·exp(termsᵢ)) for weights wᵢ ≥ 0 that sum to 1 (a mixture of likelihood ratios). */
export function logMixture(weights: readonly number[], logTerms: readonly number[]): number {
  const terms: number[] = []
  for (let i = 0; i < logTerms.length; i++) {
    const w = weights[i] ?? 0
    if (w > 0) terms.push(Math.log(w) + logTerms[i]!)
  }
  return logSumExp(terms)
}
