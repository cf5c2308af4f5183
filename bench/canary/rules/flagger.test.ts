import { describe, expect, it } from 'vitest'
import { FLAGGER, FlaggerAnalysis, type FlaggerMetrics } from './flagger.ts'

const GOOD: FlaggerMetrics = { successRatePercent: 99.6, p99Ms: 300 }
const ERRORS: FlaggerMetrics = { successRatePercent: 97, p99Ms: 300 }
const SLOW: FlaggerMetrics = { successRatePercent: 100, p99Ms: 650 }
const NONE: FlaggerMetrics = { successRatePercent: null, p99Ms: null }

/** Runs iterations over `sequence` (one metrics reading per iteration after the first) and returns the actions. */
function walk(sequence: readonly FlaggerMetrics[]): { actions: string[]; analysis: FlaggerAnalysis } {
  const analysis = new FlaggerAnalysis()
  const actions = [analysis.iterate(() => GOOD)]
  for (const m of sequence) actions.push(analysis.iterate(() => m))
  return { actions, analysis }
}

describe('Flagger rule, as documented', () => {
  it('a healthy canary walks 5 → 15 → 30 → 50 % one interval at a time and is promoted after the last step passes', () => {
    const analysis = new FlaggerAnalysis()
    expect(analysis.weight).toBe(0)
    expect(analysis.iterate(() => GOOD)).toBe('start')
    expect(analysis.weight).toBe(5)
    const weights: number[] = []
    for (let i = 0; i < 3; i++) {
      expect(analysis.iterate(() => GOOD)).toBe('advance')
      weights.push(analysis.weight)
    }
    expect(weights).toEqual([15, 30, 50])
    expect(analysis.iterate(() => GOOD)).toBe('promote')
    expect(analysis.weight).toBe(100)
    expect(analysis.iterate(() => GOOD)).toBe('halt')
  })

  it('does not check metrics on the first iteration (no traffic yet)', () => {
    const analysis = new FlaggerAnalysis()
    let read = 0
    analysis.iterate(() => {
      read++
      return NONE
    })
    expect(read).toBe(0)
  })

  it('rolls back at the iteration after the 5th failed check: 6 intervals after the start', () => {
    const { actions, analysis } = walk([ERRORS, ERRORS, ERRORS, ERRORS, ERRORS, ERRORS])
    expect(actions).toEqual(['start', 'halt', 'halt', 'halt', 'halt', 'halt', 'rollback'])
    expect(analysis.failedChecks).toBe(FLAGGER.threshold)
    expect(analysis.weight).toBe(0)
  })

  it('failed checks halt advancement and are never reset by passing ones', () => {
    const { actions, analysis } = walk([ERRORS, GOOD, SLOW, GOOD, NONE, ERRORS, ERRORS, GOOD])
    expect(actions).toEqual(['start', 'halt', 'advance', 'halt', 'advance', 'halt', 'halt', 'halt', 'rollback'])
    expect(analysis.done).toBe('rollback')
  })

  it('fails a check on each documented limit: success rate below 99 %, p99 above 500 ms, no values', () => {
    const analysis = new FlaggerAnalysis()
    expect(analysis.failures({ successRatePercent: 99, p99Ms: 500 })).toEqual([])
    expect(analysis.failures({ successRatePercent: 98.99, p99Ms: 500 })).toHaveLength(1)
    expect(analysis.failures({ successRatePercent: 99, p99Ms: 500.1 })).toHaveLength(1)
    expect(analysis.failures(NONE)).toEqual(['request-success-rate: no values found', 'request-duration: no values found'])
  })
})
