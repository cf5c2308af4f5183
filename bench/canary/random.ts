/**
 * The benchmark's randomness: one seeded stream per run, and the draws the simulator needs.
 *
 * The generator is mulberry32 from controller/judges/sequential-sim.ts (a 32-bit state,
 * period 2^32, passes the usual small-crush style checks; plenty for a simulation whose
 * runs each take well under a million draws), reused so the judges' tests and this
 * benchmark share one PRNG. A run's stream is seeded from (seed, scenario, run) through
 * {@link streamSeed}, so any single run can be replayed on its own. No Math.random anywhere.
 *
 * Exact samplers only (the judges are tested on the tails, so approximations would show):
 * Poisson by inversion below 30 and by Hörmann's PTRS transformed rejection above; Gamma by
 * Marsaglia–Tsang; the negative binomial as a gamma–Poisson mixture; the binomial is the
 * judges' simulator's (geometric skips, exact).
 */
import { binomial as binomialDraw, seededRandom } from '../../controller/judges/sequential-sim.ts'

export type Random = () => number

/** A fresh uniform [0, 1) stream. */
export function randomStream(seed: number): Random {
  return seededRandom(seed)
}

/** A 32-bit seed for one (seed, scenario, run): an FNV-1a hash of the three, mixed once more. */
export function streamSeed(seed: number, scenario: string, run: number): number {
  let h = 0x811c9dc5
  const feed = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i)
      h = Math.imul(h, 0x01000193) >>> 0
    }
  }
  feed(`${seed >>> 0}|${scenario}|${run}`)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  return h >>> 0
}

/** Standard normal (Box–Muller; one of the pair is dropped to keep the stream simple). */
export function normal(random: Random): number {
  const u1 = Math.max(random(), 1e-300)
  const u2 = random()
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/** Lognormal with the given median and log-scale sigma. */
export function lognormal(random: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(random))
}

/** Exact Binomial(n, p). */
export function binomial(random: Random, n: number, p: number): number {
  return binomialDraw(random, n, p)
}

const LOG_FACTORIAL_CACHE: number[] = [0]
function logFactorial(k: number): number {
  if (k < 256) {
    for (let i = LOG_FACTORIAL_CACHE.length; i <= k; i++) LOG_FACTORIAL_CACHE[i] = LOG_FACTORIAL_CACHE[i - 1]! + Math.log(i)
    return LOG_FACTORIAL_CACHE[k]!
  }
  // Stirling's series: exact to double precision this far out.
  const x = k + 1
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3)
}

/** Exact Poisson(λ): inversion below 30, PTRS (Hörmann 1993) above. */
export function poisson(random: Random, lambda: number): number {
  if (!(lambda > 0)) return 0
  if (lambda < 30) {
    const limit = Math.exp(-lambda)
    let k = 0
    let product = random()
    while (product > limit) {
      k += 1
      product *= random()
    }
    return k
  }
  const slam = Math.sqrt(lambda)
  const loglam = Math.log(lambda)
  const b = 0.931 + 2.53 * slam
  const a = -0.059 + 0.02483 * b
  const invalpha = 1.1239 + 1.1328 / (b - 3.4)
  const vr = 0.9277 - 3.6224 / (b - 2)
  for (;;) {
    const u = random() - 0.5
    const v = random()
    const us = 0.5 - Math.abs(u)
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43)
    if (us >= 0.07 && v <= vr) return k
    if (k < 0 || (us < 0.013 && v > us)) continue
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k
  }
}

/** Gamma(shape, scale) by Marsaglia–Tsang (with the boost for shape < 1). */
export function gamma(random: Random, shape: number, scale = 1): number {
  if (!(shape > 0) || !(scale > 0)) return 0
  if (shape < 1) return gamma(random, shape + 1, scale) * random() ** (1 / shape)
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = normal(random)
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = random()
    if (u < 1 - 0.0331 * x ** 4) return d * v * scale
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale
  }
}

/**
 * Negative binomial with mean `mean` and shape `k` (variance mean + mean²/k), as a
 * gamma–Poisson mixture: the rate itself is Gamma(k, mean/k). k = Infinity is Poisson.
 */
export function negativeBinomial(random: Random, mean: number, k: number): number {
  if (!(mean > 0)) return 0
  if (!Number.isFinite(k)) return poisson(random, mean)
  return poisson(random, gamma(random, k, mean / k))
}
