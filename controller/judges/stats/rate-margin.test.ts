/** The percentage-point non-inferiority bounds (rate-margin.ts): monotone, covering, and honest at the edges. */
import { describe, expect, it } from 'vitest'
import { binomial, seededRandom } from '../sequential-sim.ts'
import { logEAbove, logEBelow, lowerBound, rateMargin, upperBound } from './rate-margin.ts'

describe('rate-margin bounds', () => {
  it('the canary e-value grows with the rate tested, the baseline one falls', () => {
    const below = [0.004, 0.006, 0.01, 0.02].map((c) => logEBelow(3, 1000, c))
    expect([...below].sort((a, b) => a - b)).toEqual(below)
    const above = [0.0005, 0.001, 0.002].map((q) => logEAbove(3, 1000, q))
    expect([...above].sort((a, b) => b - a)).toEqual(above)
  })

  it('bounds bracket the observed rate', () => {
    const target = Math.log(400)
    const lower = lowerBound(30, 10_000, target)
    const upper = upperBound(30, 10_000, target)!
    expect(lower).toBeGreaterThan(0)
    expect(lower).toBeLessThan(0.003)
    expect(upper).toBeGreaterThan(0.003)
    expect(upper).toBeLessThan(0.01)
  })

  it('no requests, no errors, all errors: no claim it cannot make', () => {
    const target = Math.log(400)
    expect(lowerBound(0, 10_000, target)).toBe(0)
    expect(upperBound(5, 5, target)).toBeNull()
    expect(rateMargin({ errors: 0, requests: 0 }, { errors: 0, requests: 0 }, 0.005, 0.01).pass).toBe(false)
    expect(rateMargin({ errors: 100, requests: 100 }, { errors: 0, requests: 10_000 }, 0.005, 0.01).pass).toBe(false)
  })

  it('the anytime bounds cover the true rate at every look in at least 1 − alpha/4 of runs (seeded)', () => {
    const random = seededRandom(9)
    const target = Math.log(4 / 0.05)
    const runs = 400
    let missedLow = 0
    let missedHigh = 0
    for (let r = 0; r < runs; r++) {
      let x = 0
      let n = 0
      let low = false
      let high = false
      for (let t = 0; t < 60; t++) {
        x += binomial(random, 100, 0.01)
        n += 100
        if (lowerBound(x, n, target) > 0.01) low = true
        if ((upperBound(x, n, target) ?? 1) < 0.01) high = true
      }
      if (low) missedLow++
      if (high) missedHigh++
    }
    // alpha/4 = 1.25 % each: at most 5 of 400, plus three standard deviations.
    expect(missedLow).toBeLessThanOrEqual(5 + 7)
    expect(missedHigh).toBeLessThanOrEqual(5 + 7)
  })
})
