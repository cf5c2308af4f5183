/**
 * Numeric helpers for the anomaly and Mann-Whitney judges: the normal distribution, a
 * Student-t quantile, and robust location and scale (median, MAD). Pure, no dependencies.
 *
 * Accuracy: `normalCdf` is within ~1e-15 absolute (series below |x| = 2.8 in erf's
 * argument, a continued fraction above); `normalQuantile` is refined by Newton steps on it,
 * so it is as accurate; `studentQuantile` uses the Cornish-Fisher expansion in 1/ν, within
 * 3 % of the exact t quantile for ν ≥ 3 and 0.5 % for ν ≥ 5 at the tail levels used here
 * (checked in the tests against published t tables).
 */

const SQRT2 = Math.SQRT2
const SQRT_PI = Math.sqrt(Math.PI)

/** erfc(x) for x ≥ 0. */
function erfcPositive(x: number): number {
  if (x < 2) {
    // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)); terms shrink fast enough below 2.
    let term = x
    let sum = x
    const x2 = x * x
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n
      const add = term / (2 * n + 1)
      sum += add
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break
    }
    return 1 - (2 / SQRT_PI) * sum
  }
  // Continued fraction erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + 2/(x + …))))),
  // evaluated from the tail; 80 levels are far more than x ≥ 2 needs.
  let fraction = x
  for (let k = 80; k >= 1; k--) fraction = x + k / 2 / fraction
  return Math.exp(-x * x) / SQRT_PI / fraction
}

/** Φ(z), the standard normal distribution function. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN
  if (z === Number.POSITIVE_INFINITY) return 1
  if (z === Number.NEGATIVE_INFINITY) return 0
  const x = Math.abs(z) / SQRT2
  const tail = 0.5 * erfcPositive(x)
  return z < 0 ? tail : 1 - tail
}

/** φ(z), the standard normal density. */
function normalDensity(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)
}

/** Φ⁻¹(p) for 0 < p < 1: Acklam's rational start, then Newton steps on {@link normalCdf}. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY
    if (p === 1) return Number.POSITIVE_INFINITY
    return Number.NaN
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const low = 0.02425
  let z: number
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p))
    z = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  } else if (p <= 1 - low) {
    const q = p - 0.5
    const r = q * q
    z = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    z = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  }
  for (let step = 0; step < 3; step++) {
    // Work on the smaller tail so that 1 − Φ does not lose the digits that matter.
    const error = p < 0.5 ? normalCdf(z) - p : (1 - p) - normalCdf(-z)
    const density = normalDensity(z)
    if (density === 0) break
    z -= error / density
  }
  return z
}

/**
 * The p quantile of Student's t with ν degrees of freedom, by the Cornish-Fisher expansion
 * in 1/ν around the normal quantile (Abramowitz & Stegun 26.7.5). Used for tail levels
 * (p ≥ 0.9) and ν ≥ 1; for ν below 3 it is only a rough guide (the anomaly judge never
 * goes below ν = 3).
 */
export function studentQuantile(p: number, nu: number): number {
  const z = normalQuantile(p)
  if (!Number.isFinite(nu)) return z
  const z2 = z * z
  const g1 = (z * z2 + z) / 4
  const g2 = (5 * z2 * z2 * z + 16 * z2 * z + 3 * z) / 96
  const g3 = (3 * z2 * z2 * z2 * z + 19 * z2 * z2 * z + 17 * z2 * z - 15 * z) / 384
  const g4 = (79 * z2 * z2 * z2 * z2 * z + 776 * z2 * z2 * z2 * z + 1482 * z2 * z2 * z - 1920 * z2 * z - 945 * z) / 92160
  return z + g1 / nu + g2 / nu ** 2 + g3 / nu ** 3 + g4 / nu ** 4
}

/** The median of `values` (NaN for none). */
export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Scales the MAD to estimate σ for normal data: 1 / Φ⁻¹(3/4). */
export const MAD_TO_SIGMA = 1.482602218505602

/** The median absolute deviation from the median (unscaled). */
export function madOf(values: readonly number[], center = medianOf(values)): number {
  return medianOf(values.map((v) => Math.abs(v - center)))
}
