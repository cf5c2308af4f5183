import { describe, expect, it } from 'vitest'
import type { WindowSample } from '../../telemetry/provider.ts'
import { binomial, lognormal, seededRandom } from '../sequential-sim.ts'
import { betaBinomialLogPmf, betaBinomialLogUpperTail } from './beta-binomial.ts'
import { type CountIncrement, ErrorShareTest } from './error-share.ts'
import { countIncrements, disjointSamples } from './increments.ts'
import { PairedBets, type QuantileWindow, failPairs, notSlowerLogE, passPairs, slowerLogE } from './latency-exceedance.ts'
import { logGamma, logSumExp, logSumExp2 } from './special.ts'

describe('special functions', () => {
  it('logGamma matches log((n-1)!) and Γ(1/2) = √π', () => {
    let logFactorial = 0
    for (let n = 1; n <= 170; n++) {
      expect(logGamma(n)).toBeCloseTo(logFactorial, 9)
      logFactorial += Math.log(n)
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12)
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 12) // ln Γ(0.1), from tables
    expect(Number.isNaN(logGamma(0))).toBe(true)
  })

  it('logSumExp does not overflow', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 12)
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY)
    expect(logSumExp([Number.NEGATIVE_INFINITY, 0])).toBe(0)
  })
})

/**
 * The exceedance count's null law, checked against brute force: place n canary and m
 * baseline values in every possible order (all C(n+m, n) equally likely for exchangeable
 * continuous values) and count the canary values above the baseline's k-th smallest.
 */
function bruteForceExceedance(n: number, m: number, k: number): number[] {
  const counts = new Array<number>(n + 1).fill(0)
  const total = n + m
  let arrangements = 0
  for (let mask = 0; mask < 1 << total; mask++) {
    let ones = 0
    for (let i = 0; i < total; i++) if (mask & (1 << i)) ones++
    if (ones !== n) continue
    arrangements++
    // Position i (ascending) is canary when its bit is set.
    let baselineSeen = 0
    let above = 0
    for (let i = 0; i < total; i++) {
      const canary = (mask & (1 << i)) !== 0
      if (canary) {
        if (baselineSeen >= k) above++
      } else baselineSeen++
    }
    counts[above]! += 1
  }
  return counts.map((c) => c / arrangements)
}

describe('beta-binomial null of exceedance counts', () => {
  it.each([
    [4, 6, 5],
    [5, 7, 7],
    [6, 5, 1],
    [3, 9, 9],
  ])('n=%i canary, m=%i baseline, k=%i: matches every arrangement', (n, m, k) => {
    const exact = bruteForceExceedance(n, m, k)
    for (let x = 0; x <= n; x++) {
      expect(Math.exp(betaBinomialLogPmf(x, n, m - k + 1, k))).toBeCloseTo(exact[x]!, 12)
      const tail = exact.slice(x).reduce((a, b) => a + b, 0)
      expect(Math.exp(betaBinomialLogUpperTail(x, n, m - k + 1, k))).toBeCloseTo(tail, 12)
    }
  })

  it('tails at the edges', () => {
    expect(betaBinomialLogUpperTail(0, 10, 2, 3)).toBe(0)
    expect(betaBinomialLogUpperTail(11, 10, 2, 3)).toBe(Number.NEGATIVE_INFINITY)
    // Large n: the tail is a probability and decreasing.
    const a = betaBinomialLogUpperTail(150, 2000, 101, 1900)
    const b = betaBinomialLogUpperTail(300, 2000, 101, 1900)
    expect(a).toBeLessThan(0)
    expect(b).toBeLessThan(a)
  })
})

function inc(cr: number, ce: number, br: number, be: number): CountIncrement {
  return { canaryRequests: cr, canaryErrors: ce, baselineRequests: br, baselineErrors: be }
}

describe('ErrorShareTest', () => {
  it('is the binomial likelihood ratio of the canary share, computed directly', () => {
    const test = new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: null, failRatios: [3] })
    const intervals = [inc(50, 4, 950, 5), inc(250, 3, 750, 6), inc(500, 9, 500, 3)]
    let direct = 0
    for (const i of intervals) {
      test.add(i)
      const p0 = i.canaryRequests / (i.canaryRequests + i.baselineRequests)
      const p1 = (3 * p0) / (1 + 2 * p0)
      const n = i.canaryErrors + i.baselineErrors
      direct += i.canaryErrors * Math.log(p1 / p0) + (n - i.canaryErrors) * Math.log((1 - p1) / (1 - p0))
    }
    expect(test.summary().logERatio).toBeCloseTo(direct, 10)
  })

  it('estimates the ratio and bounds it', () => {
    const test = new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: null })
    for (let i = 0; i < 100; i++) test.add(inc(1000, 10, 1000, 10))
    const { ratioEstimate, ratioUpperBound } = test.ratios()
    expect(ratioEstimate).toBeCloseTo(1, 4)
    expect(ratioUpperBound).toBeGreaterThan(1)
    expect(ratioUpperBound).toBeLessThan(1.5)
    expect(test.summary().logEPass).toBeGreaterThan(Math.log(100))
  })

  it('keeps the canary shares in bins: bounded memory, and the estimate and bound of the exact shares to 3 digits', () => {
    const random = seededRandom(5)
    const test = new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: null })
    const kept: { p0: number; n: number; x: number }[] = []
    for (let i = 0; i < 20_000; i++) {
      // Every interval its own split: 80–120 canary requests of 1,000–1,500, so many shares fall in each bin.
      const canary = 80 + Math.floor(random() * 41)
      const total = 1000 + Math.floor(random() * 501)
      const canaryErrors = Math.floor(random() * 3)
      const baselineErrors = Math.floor(random() * 12)
      test.add(inc(canary, canaryErrors, total - canary, baselineErrors))
      if (canaryErrors + baselineErrors > 0) kept.push({ p0: canary / total, n: canaryErrors + baselineErrors, x: canaryErrors })
    }
    // The exact maximum-likelihood ratio from every interval's own share, by bisection on ln θ.
    const x = kept.reduce((sum, k) => sum + k.x, 0)
    const excess = (theta: number) => x - kept.reduce((sum, k) => sum + (k.n * theta * k.p0) / (1 + (theta - 1) * k.p0), 0)
    let lo = Math.log(1e-3)
    let hi = Math.log(1e4)
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2
      if (excess(Math.exp(mid)) > 0) lo = mid
      else hi = mid
    }
    const { ratioEstimate, ratioUpperBound } = test.ratios()
    expect(ratioEstimate! / Math.exp(lo)).toBeCloseTo(1, 3)
    expect(ratioUpperBound).toBeGreaterThan(ratioEstimate!)
    // Asked again without a new interval with errors: the same answer, not recomputed.
    expect(test.ratios()).toBe(test.ratios())
  })

  it('has no evidence without errors, and an unbounded ratio', () => {
    const test = new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: null })
    test.add(inc(1000, 0, 1000, 0))
    const s = test.summary()
    expect(s.logERatio).toBe(0)
    expect(s.logEPass).toBe(0)
    expect(test.ratios()).toEqual({ ratioEstimate: null, ratioUpperBound: null })
  })

  it('gains nothing from intervals with traffic on one side only', () => {
    const test = new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: null })
    test.add(inc(1000, 500, 0, 0))
    test.add(inc(0, 0, 1000, 500))
    expect(test.summary().logERatio).toBeCloseTo(0, 12)
    expect(test.summary().logEPass).toBeCloseTo(0, 12)
  })

  it('rejects bad options', () => {
    expect(() => new ErrorShareTest({ alpha: 0, margin: 1.5, floor: null })).toThrow(/alpha/)
    expect(() => new ErrorShareTest({ alpha: 0.01, margin: 1, floor: null })).toThrow(/margin/)
    expect(() => new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: 1 })).toThrow(/floor/)
    expect(() => new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: null, failRatios: [0.5] })).toThrow(/failRatios/)
    expect(() => new ErrorShareTest({ alpha: 0.01, margin: 1.5, floor: null, passRatios: [1.2] })).toThrow(/passRatios/)
  })

  it('passes a canary exactly at the margin at most alpha of the time (the PASS side is anytime-valid too)', () => {
    const random = seededRandom(1515)
    const runs = 400
    let passed = 0
    for (let r = 0; r < runs; r++) {
      const test = new ErrorShareTest({ alpha: 0.05, margin: 1.5, floor: null })
      for (let t = 0; t < 300; t++) {
        const cr = 100
        const br = 100
        test.add(inc(cr, binomial(random, cr, 0.03), br, binomial(random, br, 0.02)))
        if (test.summary().logEPass >= Math.log(20)) {
          passed++
          break
        }
      }
    }
    // alpha·runs = 20; binomial sd ≈ 4.4. Ville's bound is rarely tight: usually far fewer.
    expect(passed).toBeLessThanOrEqual(33)
  })
})

function sample(start: number, end: number, cr: number | null, ce: number | null, br: number | null, be: number | null): WindowSample {
  const base = Date.UTC(2025, 0, 1)
  return {
    provider: 'builtin',
    start: new Date(base + start),
    end: new Date(base + end),
    canaryWeight: 10,
    canary: { version: 'v2', requests: cr, errors: ce, values: {} },
    baseline: { version: 'v1', requests: br, errors: be, values: {} },
  }
}

const read = (s: WindowSample): CountIncrement | string => {
  const { requests: cr, errors: ce } = s.canary
  const { requests: br, errors: be } = s.baseline
  if (cr === null || ce === null || br === null || be === null) return 'no counts'
  return inc(cr, ce, br, be)
}

describe('countIncrements', () => {
  it('differences windows that grow from the same start', () => {
    const cut = countIncrements([sample(0, 5000, 50, 1, 950, 5), sample(0, 10_000, 100, 3, 1900, 9), sample(0, 15_000, 160, 3, 2850, 12)], read)
    expect(cut.increments.map((i) => [i.start, i.end, i.canaryRequests, i.canaryErrors, i.baselineRequests, i.baselineErrors])).toEqual([
      [Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 1) + 5000, 50, 1, 950, 5],
      [Date.UTC(2025, 0, 1) + 5000, Date.UTC(2025, 0, 1) + 10_000, 50, 2, 950, 4],
      [Date.UTC(2025, 0, 1) + 10_000, Date.UTC(2025, 0, 1) + 15_000, 60, 0, 950, 3],
    ])
  })

  it('skips sliding windows until one starts after the last interval used', () => {
    const cut = countIncrements(
      [sample(0, 60_000, 600, 3, 6000, 30), sample(5000, 65_000, 600, 3, 6000, 30), sample(55_000, 115_000, 600, 3, 6000, 30), sample(60_000, 120_000, 600, 4, 6000, 30)],
      read,
    )
    expect(cut.increments).toHaveLength(2)
    expect(cut.overlapping).toBe(2)
    expect(cut.increments[1]!.canaryErrors).toBe(4)
  })

  it('rounds window edges outwards to whole seconds (the proxy counts per second)', () => {
    // [0, 5.5 s] and [5.5 s, 10 s] share the second 5..6 in the proxy's buckets.
    const shared = countIncrements([sample(0, 5500, 50, 1, 950, 5), sample(5500, 10_000, 50, 1, 950, 5)], read)
    expect(shared.increments).toHaveLength(1)
    const apart = countIncrements([sample(0, 5500, 50, 1, 950, 5), sample(6000, 10_000, 50, 1, 950, 5)], read)
    expect(apart.increments).toHaveLength(2)
  })

  it('uses a repeated window once', () => {
    const w = sample(0, 20_000, 100, 5, 1900, 5)
    const cut = countIncrements([w, w, w, { ...w }, w], read)
    expect(cut.increments).toHaveLength(1)
  })

  it('skips invalid windows and shrinking counts, and keeps going', () => {
    const cut = countIncrements(
      [sample(0, 5000, 50, 1, 950, 5), sample(0, 10_000, null, null, 1900, 9), sample(0, 15_000, 40, 1, 2000, 9), sample(0, 20_000, 90, 2, 3000, 10), sample(30_000, 20_000, 1, 1, 1, 1)],
      read,
    )
    expect(cut.invalid).toBe(2)
    expect(cut.inconsistent).toBe(1)
    expect(cut.increments.map((i) => i.canaryRequests)).toEqual([50, 50])
  })
})

describe('latency exceedance', () => {
  const q = (requests: number, p50: number, p95: number, p99: number): QuantileWindow => ({ requests, quantiles: { 0.5: p50, 0.95: p95, 0.99: p99 } })

  it('chooses pairs that imply the gate quantile', () => {
    expect(failPairs(0.95)).toEqual([
      { canary: 0.5, baseline: 0.95 },
      { canary: 0.5, baseline: 0.99 },
      { canary: 0.95, baseline: 0.95 },
      { canary: 0.95, baseline: 0.99 },
    ])
    expect(passPairs(0.5)).toEqual([
      { canary: 0.5, baseline: 0.5 },
      { canary: 0.95, baseline: 0.5 },
      { canary: 0.99, baseline: 0.5 },
    ])
  })

  it('needs more than one histogram bucket between the compared quantiles', () => {
    const b = q(1000, 0.04, 0.08, 0.1)
    expect(slowerLogE(q(100, 0.0881, 0.2, 0.3), b, { canary: 0.5, baseline: 0.95 })).toBeGreaterThan(10)
    expect(slowerLogE(q(100, 0.0879, 0.2, 0.3), b, { canary: 0.5, baseline: 0.95 })).toBe(Number.NEGATIVE_INFINITY)
    // Below 1 ms everything shares the first bucket.
    expect(slowerLogE(q(100, 0.0009, 0.0009, 0.0009), q(100, 0.0001, 0.0002, 0.0003), { canary: 0.5, baseline: 0.95 })).toBe(Number.NEGATIVE_INFINITY)
    // From 30 s on everything shares the overflow bucket.
    expect(slowerLogE(q(100, 60, 90, 99), q(100, 31, 32, 33), { canary: 0.5, baseline: 0.95 })).toBe(Number.NEGATIVE_INFINITY)
    expect(notSlowerLogE(q(100, 0.04, 0.05, 0.06), q(1000, 0.04, 0.05, 0.06), { canary: 0.95, baseline: 0.95 }, 1.5)).toBeGreaterThan(0)
    expect(notSlowerLogE(q(100, 0.04, 0.07, 0.08), q(1000, 0.04, 0.05, 0.06), { canary: 0.95, baseline: 0.95 }, 1.5)).toBe(Number.NEGATIVE_INFINITY)
  })

  it('never fails on one window alone, however slow', () => {
    const bets = new PairedBets(4, 0.01)
    const pairs = failPairs(0.95)
    const c = q(500, 1, 2, 3)
    const b = q(5000, 0.01, 0.02, 0.03)
    bets.add(pairs.map((p) => slowerLogE(c, b, p)))
    expect(bets.logE).toBeLessThan(Math.log(100))
    bets.add(pairs.map((p) => slowerLogE(c, b, p)))
    expect(bets.logE).toBeGreaterThanOrEqual(Math.log(100))
  })

  it('false alarms at most alpha on identical latency distributions (histogram quantiles, small windows)', async () => {
    const { histogramQuantile } = await import('../sequential-sim.ts')
    const random = seededRandom(4242)
    const latency = lognormal(0.05, 0.6)
    const runs = 300
    const alpha = 0.05
    let alarms = 0
    for (let r = 0; r < runs; r++) {
      const bets = new PairedBets(failPairs(0.95).length, alpha)
      for (let w = 0; w < 40; w++) {
        const nc = 5 + Math.floor(random() * 60)
        const nb = 5 + Math.floor(random() * 200)
        const cl = Array.from({ length: nc }, () => latency(random))
        const bl = Array.from({ length: nb }, () => latency(random))
        const win = (xs: number[]): QuantileWindow => q(xs.length, histogramQuantile(xs, 0.5)!, histogramQuantile(xs, 0.95)!, histogramQuantile(xs, 0.99)!)
        const c = win(cl)
        const b = win(bl)
        bets.add(failPairs(0.95).map((p) => slowerLogE(c, b, p)))
        if (bets.logE >= Math.log(1 / alpha)) {
          alarms++
          break
        }
      }
    }
    expect(alarms).toBeLessThanOrEqual(Math.ceil(alpha * runs + 3 * Math.sqrt(alpha * runs)))
  })

  it('uses disjoint whole windows only', () => {
    const s = (a: number, b: number): WindowSample => sample(a, b, 10, 0, 10, 0)
    const cut = disjointSamples([s(0, 5000), s(0, 10_000), s(0, 15_000), s(15_000, 20_000), s(16_000, 21_000), s(21_000, 22_000)], () => true)
    expect(cut.samples.map((x) => x.end.getTime() - Date.UTC(2025, 0, 1))).toEqual([5000, 20_000, 22_000])
    expect(cut.overlapping).toBe(3)
  })
})

describe('logSumExp2', () => {
  it.each([
    [Math.log(0.5), Math.log(0.5) + 3.2],
    [Math.log(0.5), Number.NEGATIVE_INFINITY],
    [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
    [Math.log(0.5), Number.POSITIVE_INFINITY],
    [-700, -710],
    [5, Number.NaN],
    [Number.NaN, 1],
    [0, 0],
  ])('is bit for bit logSumExp([%s, %s])', (a, b) => {
    expect(Object.is(logSumExp2(a, b), logSumExp([a, b]))).toBe(true)
  })
})
