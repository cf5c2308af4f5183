import { describe, expect, it } from 'vitest'
import { normalCdf, normalQuantile } from './anomaly-stats.ts'
import { exactDistribution, midranks, wilcoxonTest } from './mann-whitney-stats.ts'

/**
 * Worked examples: what R's `wilcox.test(x, y, conf.int = TRUE, conf.level = L)` gives.
 *
 * R is not installed here. Every expected number comes from
 * controller/judges/mann-whitney-reference.py (python3, standard library only), which
 * follows R's wilcox.test.default step by step by other means: the exact null
 * distribution by brute-force enumeration of rank subsets with exact fractions, and the
 * normal path with R's `wdiff` written out literally and `uniroot` replaced by bisection.
 * Run `python3 controller/judges/mann-whitney-reference.py` to reproduce them.
 *
 * One row is also in R's own documentation: ?wilcox.test runs the Hollander & Wolfe
 * depression data with alternative = "greater" and prints W = 35, p-value = 0.1272; the
 * two-sided p-value is twice that, 0.2544.
 *
 * Where R's normal-path interval comes from `uniroot(tol = 1e-4)`, R prints a point within
 * 1e-4 of the difference given here, so those rows compare to 3 decimals.
 */
interface RRow {
  name: string
  r: string
  x: number[]
  y: number[]
  level: number
  method: 'exact' | 'normal'
  W: number
  p: number
  estimate: number
  conf: [number, number]
  /** The level R reports (lower when the requested one is not achievable). */
  achieved?: number
}

const HW_X = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
const HW_Y = [1.15, 0.88, 0.9, 0.74, 1.21]
const SHIFT_X = [12.1, 13.4, 11.8, 14.2, 12.9, 13.7, 12.5, 14.8]
const SHIFT_Y = [10.2, 9.8, 11.1, 10.5, 9.4, 10.9, 11.5, 10.0]
const TIES_X = [3, 4, 4, 5, 6, 6, 7, 8, 8, 9]
const TIES_Y = [1, 2, 2, 3, 4, 5, 5, 6, 7, 7]
const SAME_X = [1, 2, 2, 3, 3, 3, 4, 4, 5]
const SAME_Y = [1, 2, 3, 3, 3, 4, 4, 4, 5]
const OVER_X = [0.21, 0.25, 0.19, 0.3, 0.24, 0.22, 0.27]
const OVER_Y = [0.2, 0.23, 0.18, 0.26, 0.21, 0.24, 0.17]
// 59 and 51 distinct values, no value shared: the normal path because n ≥ 50, without ties.
const LARGE_X = Array.from({ length: 59 }, (_, i) => ((i * 7) % 61) + 0.25)
const LARGE_Y = Array.from({ length: 51 }, (_, i) => ((i * 11) % 67) - 2.5)

const rRows: RRow[] = [
  { name: 'Hollander-Wolfe (R docs), 98 %', r: 'wilcox.test(x, y, conf.int=TRUE, conf.level=0.98)', x: HW_X, y: HW_Y, level: 0.98, method: 'exact', W: 35, p: 0.254412254412, estimate: 0.305, conf: [-0.17, 0.9] },
  { name: 'Hollander-Wolfe (R docs), 95 %', r: 'wilcox.test(x, y, conf.int=TRUE)', x: HW_X, y: HW_Y, level: 0.95, method: 'exact', W: 35, p: 0.254412254412, estimate: 0.305, conf: [-0.15, 0.76] },
  { name: 'clear shift, 98 %', r: 'wilcox.test(x, y, conf.int=TRUE, conf.level=0.98)', x: SHIFT_X, y: SHIFT_Y, level: 0.98, method: 'exact', W: 64, p: 0.000155400155, estimate: 2.7, conf: [1.4, 4.0] },
  { name: 'clear shift, 95 %', r: 'wilcox.test(x, y, conf.int=TRUE)', x: SHIFT_X, y: SHIFT_Y, level: 0.95, method: 'exact', W: 64, p: 0.000155400155, estimate: 2.7, conf: [1.8, 3.7] },
  { name: 'three each: 98 % not achievable', r: 'wilcox.test(c(5,6,7), c(1,2,3), conf.int=TRUE, conf.level=0.98)', x: [5, 6, 7], y: [1, 2, 3], level: 0.98, method: 'exact', W: 9, p: 0.1, estimate: 4, conf: [2, 6], achieved: 0.9 },
  { name: 'ties: normal path, 98 %', r: 'wilcox.test(x, y, conf.int=TRUE, conf.level=0.98)', x: TIES_X, y: TIES_Y, level: 0.98, method: 'normal', W: 72.5, p: 0.093924152586, estimate: 2, conf: [-1, 4] },
  { name: 'ties: normal path, 95 %', r: 'wilcox.test(x, y, conf.int=TRUE)', x: TIES_X, y: TIES_Y, level: 0.95, method: 'normal', W: 72.5, p: 0.093924152586, estimate: 2, conf: [0, 4] },
  { name: 'ties, no shift, 98 %', r: 'wilcox.test(x, y, conf.int=TRUE, conf.level=0.98)', x: SAME_X, y: SAME_Y, level: 0.98, method: 'normal', W: 35.5, p: 0.681446392427, estimate: 0, conf: [-2, 1] },
  { name: 'overlapping with ties, 98 %', r: 'wilcox.test(x, y, conf.int=TRUE, conf.level=0.98)', x: OVER_X, y: OVER_Y, level: 0.98, method: 'normal', W: 35, p: 0.200344507272, estimate: 0.03, conf: [-0.03, 0.09] },
  { name: '59 vs 51 values, no ties, 98 %', r: 'wilcox.test(x, y, conf.int=TRUE, conf.level=0.98)', x: LARGE_X, y: LARGE_Y, level: 0.98, method: 'normal', W: 1440, p: 0.701262227466, estimate: -1.25, conf: [-10.25, 7.75] },
]

describe('wilcoxonTest against R (reference values from mann-whitney-reference.py)', () => {
  it.each(rRows)('$name: $r', (row) => {
    const result = wilcoxonTest(row.x, row.y, row.level)
    expect(result.method).toBe(row.method)
    expect(result.statistic).toBe(row.W)
    expect(result.pValue).toBeCloseTo(row.p, 9)
    const digits = row.method === 'exact' ? 9 : 3
    expect(result.estimate).toBeCloseTo(row.estimate, digits)
    expect(result.lower).toBeCloseTo(row.conf[0], digits)
    expect(result.upper).toBeCloseTo(row.conf[1], digits)
    expect(result.confLevel).toBeCloseTo(row.achieved ?? row.level, 12)
  })
})

/**
 * A second, in-test reference for the exact path: the null distribution by enumerating
 * every subset of ranks for x (no recursion), the p-value and R's interval rule from it.
 */
function bruteForce(x: readonly number[], y: readonly number[], level: number): { p: number; lower: number; upper: number } {
  const m = x.length
  const n = y.length
  const counts = new Array<number>(m * n + 1).fill(0)
  let total = 0
  for (let mask = 0; mask < 1 << (m + n); mask++) {
    let bits = 0
    let rankSum = 0
    for (let i = 0; i < m + n; i++) {
      if (mask & (1 << i)) {
        bits++
        rankSum += i + 1
      }
    }
    if (bits !== m) continue
    counts[rankSum - (m * (m + 1)) / 2]! += 1
    total++
  }
  let w = 0
  for (const a of x) for (const b of y) w += a > b ? 1 : 0
  const le = (q: number): number => counts.slice(0, q + 1).reduce((s, c) => s + c, 0) / total
  const p = Math.min(1, 2 * (w > (m * n) / 2 ? 1 - le(w - 1) : le(w)))
  let qu = 0
  while (le(qu) < (1 - level) / 2 - 1e-15) qu++
  if (qu === 0) qu = 1
  const diffs = x.flatMap((a) => y.map((b) => a - b)).sort((a, b) => a - b)
  return { p, lower: diffs[qu - 1]!, upper: diffs[m * n - qu]! }
}

describe('exact path against brute-force enumeration', () => {
  const cases: Array<[string, number[], number[]]> = [
    ['shift', SHIFT_X, SHIFT_Y],
    ['Hollander-Wolfe', HW_X, HW_Y],
    ['interleaved', [1.5, 3.5, 5.5, 7.5, 9.5], [1, 2, 4, 6, 8, 10]],
    ['lower', [1, 2, 3, 4, 5, 6], [3.5, 7, 8, 9, 10, 11, 12]],
  ]
  it.each(cases)('%s', (_name, x, y) => {
    for (const level of [0.9, 0.95, 0.98]) {
      const expected = bruteForce(x, y, level)
      const result = wilcoxonTest(x, y, level)
      expect(result.method).toBe('exact')
      expect(result.pValue).toBeCloseTo(expected.p, 12)
      expect(result.lower).toBe(expected.lower)
      expect(result.upper).toBe(expected.upper)
    }
  })

  it('the exact distribution sums to 1 and is symmetric', () => {
    for (const [m, n] of [[1, 1], [3, 5], [10, 7], [49, 49]] as const) {
      const dist = exactDistribution(m, n)
      expect(dist.length).toBe(m * n + 1)
      expect(dist.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12)
      for (let w = 0; w <= m * n; w++) expect(dist[w]).toBeCloseTo(dist[m * n - w]!, 14)
    }
    // P(W = 0) = 1 / C(m + n, m): C(8, 4) = 70.
    expect(exactDistribution(4, 4)[0]).toBeCloseTo(1 / 70, 15)
  })
})

describe('properties', () => {
  it('is antisymmetric: swapping the samples negates the shift', () => {
    const a = wilcoxonTest(SHIFT_X, SHIFT_Y, 0.98)
    const b = wilcoxonTest(SHIFT_Y, SHIFT_X, 0.98)
    expect(b.estimate).toBeCloseTo(-a.estimate, 12)
    expect(b.lower).toBeCloseTo(-a.upper, 12)
    expect(b.upper).toBeCloseTo(-a.lower, 12)
    expect(b.pValue).toBeCloseTo(a.pValue, 12)
  })

  it('is shift-equivariant: adding c to x adds c to the estimate and interval', () => {
    const a = wilcoxonTest(TIES_X, TIES_Y, 0.98)
    const b = wilcoxonTest(TIES_X.map((v) => v + 10), TIES_Y, 0.98)
    expect(b.estimate).toBeCloseTo(a.estimate + 10, 9)
    expect(b.lower).toBeCloseTo(a.lower + 10, 9)
    expect(b.upper).toBeCloseTo(a.upper + 10, 9)
  })

  it('the interval contains the estimate', () => {
    for (const [x, y] of [[HW_X, HW_Y], [TIES_X, TIES_Y], [LARGE_X, LARGE_Y], [OVER_X, OVER_Y]] as const) {
      const r = wilcoxonTest(x, y, 0.98)
      expect(r.lower).toBeLessThanOrEqual(r.estimate)
      expect(r.estimate).toBeLessThanOrEqual(r.upper)
    }
  })

  it('constant but different samples give a point interval at the shift', () => {
    const r = wilcoxonTest([2, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1], 0.98)
    expect(r).toMatchObject({ method: 'normal', estimate: 1, lower: 1, upper: 1 })
    expect(r.pValue).toBeLessThan(0.01)
  })

  it('refuses what it cannot rank', () => {
    expect(() => wilcoxonTest([], [1], 0.98)).toThrow(/at least one value/)
    expect(() => wilcoxonTest([1, Number.NaN], [1], 0.98)).toThrow(/finite/)
    expect(() => wilcoxonTest([1, 1], [1, 1], 0.98)).toThrow(/all values are equal/)
    expect(() => wilcoxonTest([1], [2], 1)).toThrow(/confLevel/)
  })

  it('midranks average ties', () => {
    expect(midranks([10, 20, 20, 30])).toEqual({ ranks: [1, 2.5, 2.5, 4], tieSizes: [1, 2, 1] })
  })
})

describe('normal distribution', () => {
  // Reference values: Φ(z) = 0.5·math.erfc(−z/√2) and Φ⁻¹ = statistics.NormalDist().inv_cdf, in python3.
  it.each([
    [-1.96, 0.024997895148220435],
    [0, 0.5],
    [1, 0.8413447460685429],
    [-5, 2.866515718791946e-7],
    [-8.3, 5.2055697448902866e-17],
  ])('Φ(%s) = %s', (z, p) => {
    expect(normalCdf(z) / p).toBeCloseTo(1, 10)
  })

  it.each([
    [0.975, 1.959963984540054],
    [0.99, 2.3263478740408408],
    [0.5, 0],
    [1e-9, -5.9978070150076865],
    [0.9995, 3.2905267314919255],
  ])('Φ⁻¹(%s) = %s', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 10)
  })
})
