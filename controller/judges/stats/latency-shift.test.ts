/**
 * The latency FAIL's validity in one interval, checked exactly: under the null every way of
 * labelling Nc of the interval's requests "canary" is equally likely, so the e-value's average
 * over ALL labellings must be at most 1. Enumerated for small pooled histograms (the shift test
 * and the pooled thresholds of the first seconds), then seeded A/A and detection checks.
 */
import { describe, expect, it } from 'vitest'
import { seededRandom } from '../sequential-sim.ts'
import { LatencyShiftTest } from './latency-shift.ts'
import { LatencyTailTest } from './latency-tail.ts'

/** Every Nc-subset of positions 0..n-1 (n ≤ 14 here). */
function* subsets(n: number, k: number, from = 0, chosen: number[] = []): Generator<number[]> {
  if (chosen.length === k) {
    yield chosen
    return
  }
  for (let i = from; i <= n - (k - chosen.length); i++) yield* subsets(n, k, i + 1, [...chosen, i])
}

/** Splits requests (bucket per request) into the two versions' histograms by the canary positions. */
function split(requests: readonly number[], canary: readonly number[], buckets: number): { c: number[]; b: number[] } {
  const c = new Array<number>(buckets).fill(0)
  const b = new Array<number>(buckets).fill(0)
  const mine = new Set(canary)
  requests.forEach((bucket, i) => (mine.has(i) ? c : b)[bucket]!++)
  return { c, b }
}

/** The average over all labellings of one interval's e-value. */
function averageE(requests: readonly number[], nc: number, buckets: number, eValue: (c: number[], b: number[]) => number): number {
  let sum = 0
  let count = 0
  for (const canary of subsets(requests.length, nc)) {
    const { c, b } = split(requests, canary, buckets)
    sum += eValue(c, b)
    count += 1
  }
  return sum / count
}

const POPULATIONS: { name: string; requests: number[]; nc: number }[] = [
  { name: 'spread, 3 of 8 canary', requests: [0, 1, 2, 3, 4, 5, 6, 7], nc: 3 },
  { name: 'one far outlier, 2 of 9', requests: [2, 2, 2, 3, 3, 3, 3, 4, 11], nc: 2 },
  { name: 'ties, 5 of 10', requests: [1, 1, 1, 1, 2, 2, 2, 5, 5, 9], nc: 5 },
  { name: 'skewed, 1 of 12', requests: [0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 6, 10], nc: 1 },
  { name: 'mostly canary, 10 of 12', requests: [3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9, 12], nc: 10 },
  { name: 'all in one bucket', requests: [4, 4, 4, 4, 4, 4], nc: 2 },
]

describe('latency shift test (permutation e-value)', () => {
  it.each(POPULATIONS)('averages at most 1 over all labellings: $name', ({ requests, nc }) => {
    const avg = averageE(requests, nc, 13, (c, b) => {
      const t = new LatencyShiftTest()
      t.add(c, b)
      return Math.exp(t.logE)
    })
    expect(avg).toBeLessThanOrEqual(1 + 1e-12)
  })

  it.each(POPULATIONS)('the first interval’s pooled thresholds average at most 1 too: $name', ({ requests, nc }) => {
    // No earlier baseline: every threshold comes from the pooled interval (p50 needs 2, p95 20).
    const avg = averageE(requests, nc, 13, (c, b) => {
      const t = new LatencyTailTest([0.5, 0.95, 0.99], 0.01, 13)
      t.add(c, b)
      return Math.exp(t.logE)
    })
    expect(avg).toBeLessThanOrEqual(1 + 1e-12)
  })

  it('grows with a slower canary and shrinks with a faster one', () => {
    const slower = new LatencyShiftTest()
    const faster = new LatencyShiftTest()
    for (let i = 0; i < 20; i++) {
      slower.add([0, 0, 0, 5, 10, 10], [10, 30, 40, 20, 0, 0])
      faster.add([10, 10, 5, 0, 0, 0], [0, 0, 20, 40, 30, 10])
    }
    expect(slower.logE).toBeGreaterThan(Math.log(100))
    expect(faster.logE).toBeLessThan(0)
    expect(slower.summary()).toMatchObject({ intervals: 20, canaryRequests: 500 })
    expect(slower.summary().canaryMeanScore!).toBeGreaterThan(0)
  })

  it('ignores intervals without both versions or with one score for all', () => {
    const t = new LatencyShiftTest()
    t.add([0, 5, 0], [0, 0, 0])
    t.add([0, 0, 0], [0, 5, 0])
    t.add([0, 3, 0], [0, 7, 0])
    expect(t.summary()).toMatchObject({ intervals: 0, canaryRequests: 0, canaryMeanScore: null, logE: 0 })
  })

  it('rejects a bad grid', () => {
    expect(() => new LatencyShiftTest([])).toThrow(/must not be empty/)
    expect(() => new LatencyShiftTest([0.1, -1])).toThrow(/positive/)
  })

  it('A/A at every second from the first: false FAILs within alpha (seeded, 400 rollouts of 60 s)', () => {
    const random = seededRandom(31)
    const buckets = 40
    // A lognormal-like latency on 10 % buckets: the median in bucket 20, sd about 6 buckets.
    const draw = (): number => {
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
      return Math.min(buckets - 1, Math.max(0, Math.round(20 + 6 * z)))
    }
    let failed = 0
    const runs = 400
    for (let r = 0; r < runs; r++) {
      const test = new LatencyTailTest([0.95, 0.99], 0.01, buckets)
      for (let t = 0; t < 60; t++) {
        const c = new Array<number>(buckets).fill(0)
        const b = new Array<number>(buckets).fill(0)
        const n = 60 + Math.floor(80 * random())
        for (let i = 0; i < n; i++) (random() < 0.25 ? c : b)[draw()]!++
        test.add(c, b)
        if (test.logE >= Math.log(100)) {
          failed += 1
          break
        }
      }
    }
    // alpha 0.01 over 400 rollouts: 4 expected at most; more than 10 would be a 0.3 % event.
    expect(failed).toBeLessThanOrEqual(10)
  })
})
