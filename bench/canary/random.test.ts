import { describe, expect, it } from 'vitest'
import { binomial, gamma, lognormal, negativeBinomial, normal, poisson, randomStream, streamSeed } from './random.ts'

const DRAWS = 20_000

function moments(draw: () => number, n = DRAWS): { mean: number; variance: number } {
  let sum = 0
  let sq = 0
  for (let i = 0; i < n; i++) {
    const x = draw()
    sum += x
    sq += x * x
  }
  const mean = sum / n
  return { mean, variance: sq / n - mean * mean }
}

/** Within `z` standard errors of the expected mean. */
function expectMean(observed: number, expected: number, variance: number, n = DRAWS, z = 4): void {
  expect(Math.abs(observed - expected)).toBeLessThanOrEqual(z * Math.sqrt(variance / n))
}

describe('the seeded streams', () => {
  it('give the same draws for the same seed and different ones for another', () => {
    const a = randomStream(42)
    const b = randomStream(42)
    const c = randomStream(43)
    const xs = Array.from({ length: 100 }, () => a())
    expect(Array.from({ length: 100 }, () => b())).toEqual(xs)
    expect(Array.from({ length: 100 }, () => c())).not.toEqual(xs)
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
  })

  it('derive one seed per (seed, scenario, run), stable and distinct', () => {
    expect(streamSeed(1, 'healthy', 0)).toBe(streamSeed(1, 'healthy', 0))
    const seeds = new Set([streamSeed(1, 'healthy', 0), streamSeed(1, 'healthy', 1), streamSeed(2, 'healthy', 0), streamSeed(1, 'error-x5', 0)])
    expect(seeds.size).toBe(4)
  })
})

describe('samplers have the right means (fixed seeds, many draws)', () => {
  it('Poisson, small λ (inversion) and large λ (PTRS): mean and variance λ', () => {
    for (const [lambda, seed] of [
      [0.3, 1],
      [4, 2],
      [29.5, 3],
      [45, 4],
      [800, 5],
    ] as const) {
      const random = randomStream(seed)
      const { mean, variance } = moments(() => poisson(random, lambda))
      expectMean(mean, lambda, lambda)
      expect(variance / lambda).toBeGreaterThan(0.9)
      expect(variance / lambda).toBeLessThan(1.1)
    }
    expect(poisson(randomStream(1), 0)).toBe(0)
    expect(poisson(randomStream(1), Number.NaN)).toBe(0)
  })

  it('binomial: mean n·p', () => {
    const random = randomStream(6)
    for (const [n, p] of [
      [100, 0.005],
      [50, 0.7],
      [1000, 0.05],
    ] as const) {
      const { mean } = moments(() => binomial(random, n, p))
      expectMean(mean, n * p, n * p * (1 - p))
    }
  })

  it('lognormal: median and mean e^(μ + σ²/2)', () => {
    const random = randomStream(7)
    const draws = Array.from({ length: DRAWS }, () => lognormal(random, 100, 0.6))
    const sorted = [...draws].sort((a, b) => a - b)
    expect(sorted[DRAWS / 2]! / 100).toBeGreaterThan(0.97)
    expect(sorted[DRAWS / 2]! / 100).toBeLessThan(1.03)
    const mean = draws.reduce((a, b) => a + b, 0) / DRAWS
    const expected = 100 * Math.exp(0.18)
    const variance = (Math.exp(0.36) - 1) * expected * expected
    expectMean(mean, expected, variance)
  })

  it('normal: mean 0, variance 1', () => {
    const random = randomStream(8)
    const { mean, variance } = moments(() => normal(random))
    expectMean(mean, 0, 1)
    expect(variance).toBeGreaterThan(0.95)
    expect(variance).toBeLessThan(1.05)
  })

  it('gamma: mean shape·scale, also for shape below 1', () => {
    const random = randomStream(9)
    for (const [shape, scale] of [
      [0.5, 2],
      [2, 3],
      [9, 0.5],
    ] as const) {
      const { mean } = moments(() => gamma(random, shape, scale))
      expectMean(mean, shape * scale, shape * scale * scale)
    }
  })

  it('negative binomial (gamma–Poisson): mean m, variance m + m²/k', () => {
    const random = randomStream(10)
    for (const [m, k] of [
      [10, 2],
      [100, 5],
    ] as const) {
      const { mean, variance } = moments(() => negativeBinomial(random, m, k))
      const expectedVariance = m + (m * m) / k
      expectMean(mean, m, expectedVariance)
      expect(variance / expectedVariance).toBeGreaterThan(0.85)
      expect(variance / expectedVariance).toBeLessThan(1.15)
    }
    const poissonLike = moments(() => negativeBinomial(random, 10, Infinity))
    expectMean(poissonLike.mean, 10, 10)
  })
})
