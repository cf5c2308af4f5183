import { describe, expect, it } from 'vitest'
import { ARGO, ArgoAnalysis, argoWeightAt } from './argo.ts'

function feed(values: readonly (number | null)[]): ArgoAnalysis {
  const analysis = new ArgoAnalysis()
  for (const v of values) analysis.measure(v)
  return analysis
}

describe('Argo Rollouts documented example', () => {
  it('fails on the 4th failed measurement (failed > failureLimit 3), not the 3rd', () => {
    expect(feed([0.9, 0.9, 0.9]).phase).toBe('Running')
    expect(feed([0.9, 0.9, 0.9, 0.9]).phase).toBe('Failed')
  })

  it('counts failures over the whole run, between successes too', () => {
    const analysis = feed([0.9, 0.99, 0.94, 0.96, 0.5, 1, 0.949])
    expect(analysis.phase).toBe('Failed')
    expect(analysis.failed).toBe(4)
    expect(analysis.successful).toBe(3)
  })

  it('success rate ≥ 0.95 is a success, exactly 0.95 included', () => {
    expect(feed([0.95, 0.95, 0.95, 0.95, 0.95]).phase).toBe('Running')
  })

  it('errors out after more than 4 consecutive measurements without data; a real measurement resets the streak', () => {
    expect(feed([null, null, null, null]).phase).toBe('Running')
    expect(feed([null, null, null, null, null]).phase).toBe('Error')
    expect(feed([null, null, null, null, 0.99, null, null, null, null]).phase).toBe('Running')
    expect(feed([Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN]).phase).toBe('Error')
  })

  it('stays finished once failed', () => {
    const analysis = feed([0.1, 0.1, 0.1, 0.1])
    expect(analysis.measure(1)).toBe('Failed')
    expect(analysis.successful).toBe(0)
  })

  it('walks the documented steps: 20, 40, 60, 80 % for 10 minutes each, then 100 %', () => {
    expect(ARGO.intervalSeconds).toBe(300)
    expect([0, 599, 600, 1199, 1200, 1800, 2399, 2400].map(argoWeightAt)).toEqual([20, 20, 40, 40, 60, 80, 80, 100])
  })
})
