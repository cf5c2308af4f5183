import { describe, expect, it } from 'vitest'
import { quantile, ruleStats } from './report.ts'
import { parseScenario } from './scenarios.ts'
import type { TrialResult } from './trial.ts'

const SCENARIO = {
  name: 'r',
  tickSeconds: 1,
  durationSeconds: 600,
  traffic: { requestsPerSecond: 10 },
  baseline: { errorRate: 0.01, latencyMedianMs: 50, latencySigma: 0.5 },
}

function result(kind: 'rollback' | 'promote' | 'pause' | null, at = 0, bad = 0): TrialResult {
  return { rule: 'x', outcome: kind === null ? null : { kind, at, reason: '' }, tally: { canaryRequests: 100, canaryErrors: bad, badRequests: bad } }
}

describe('report statistics', () => {
  it('nearest-rank quantiles where Infinity is "never"', () => {
    expect(quantile([3, 1, 2], 0.5)).toBe(2)
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9)
    expect(quantile([1, Infinity, Infinity], 0.5)).toBeNull()
    expect(quantile([1, 2, Infinity], 0.5)).toBe(2)
    expect(quantile([], 0.5)).toBeNull()
  })

  it('regressions: detection from the onset, missed runs, rollbacks before the onset, bad requests', () => {
    const scenario = parseScenario({ ...SCENARIO, fault: { onsetSeconds: 30, shape: 'step', errorMultiplier: 5 }, expected: 'rollback' })
    const stats = ruleStats(scenario, 'x', [result('rollback', 40, 5), result('rollback', 90, 9), result('pause', 120, 30), result('rollback', 10, 0), result(null, 0, 50)])
    expect(stats.detectionSeconds).toEqual({ median: null, p90: null })
    expect(stats.missed).toBe(2)
    expect(stats.rolledBackBeforeOnset).toBe(1)
    expect(stats.outcomes).toEqual({ rollback: 3, promote: 0, pause: 1, undecided: 1 })
    expect(stats.badRequests).toMatchObject({ median: 9, p90: 50, mean: 18.8 })
    const fast = ruleStats(scenario, 'x', [result('rollback', 40), result('rollback', 50), result('rollback', 60)])
    expect(fast.detectionSeconds).toEqual({ median: 20, p90: 30 })
  })

  it('healthy canaries: false rollbacks and time to promote', () => {
    const scenario = parseScenario({ ...SCENARIO, expected: 'promote' })
    const stats = ruleStats(scenario, 'x', [result('promote', 60), result('promote', 80), result('rollback', 20), result('pause', 120)])
    expect(stats.falseRollbacks).toEqual({ count: 1, rate: 0.25 })
    expect(stats.promoteSeconds).toEqual({ median: 80, p90: null })
  })
})
