import { describe, expect, it } from 'vitest'
import { parseScenario } from './scenarios.ts'
import { bernoulliKL, klPerRequestAt, mixtureKL, sprtBound, sprtObservations } from './sprt.ts'

const BASE = {
  name: 'bound',
  tickSeconds: 1,
  durationSeconds: 600,
  traffic: { requestsPerSecond: 100 },
  baseline: { errorRate: 0.005, latencyMedianMs: 100, latencySigma: 0.5 },
  expected: 'rollback',
}

describe('the SPRT bound', () => {
  it('5 % vs 0.5 % errors at alpha 0.01 needs about 65 requests (hand computation)', () => {
    // KL = 0.05·ln(0.05/0.005) + 0.95·ln(0.95/0.995) = 0.11513 − 0.04397 = 0.07116 nats
    const kl = bernoulliKL(0.05, 0.005)
    expect(kl).toBeCloseTo(0.07116, 4)
    // ln(100) / 0.07116 = 4.6052 / 0.07116 = 64.7
    expect(sprtObservations(0.01, kl)).toBeCloseTo(64.7, 1)
  })

  it('at 10 canary requests/s that is about 6.5 s, from the scenario', () => {
    const scenario = parseScenario({ ...BASE, fault: { onsetSeconds: 30, shape: 'step', errorMultiplier: 10 } })
    const bound = sprtBound(scenario, { alpha: 0.01, canaryWeight: 10 })
    expect(bound.canaryRequestsPerSecond).toBe(10)
    expect(bound.requests).toBeCloseTo(64.7, 0)
    expect(bound.seconds).toBeCloseTo(6.47, 1)
  })

  it('a lognormal shift has KL (ln m)² / 2σ², matched by the numerical mixture KL', () => {
    const sigma = 0.5
    const exact = Math.log(1.5) ** 2 / (2 * sigma * sigma)
    expect(mixtureKL([{ weight: 1, mu: Math.log(150), sigma }], { mu: Math.log(100), sigma })).toBeCloseTo(exact, 5)
    expect(mixtureKL([{ weight: 1, mu: Math.log(100), sigma }], { mu: Math.log(100), sigma })).toBe(0)
  })

  it('no fault: no bound; a fault that only ramps up reaches it later than the full step would', () => {
    const healthy = parseScenario({ ...BASE, expected: 'promote' })
    expect(sprtBound(healthy, { canaryWeight: 10 }).seconds).toBeNull()
    const step = parseScenario({ ...BASE, fault: { onsetSeconds: 0, shape: 'step', errorMultiplier: 5 } })
    const ramp = parseScenario({ ...BASE, fault: { onsetSeconds: 0, shape: 'ramp', rampSeconds: 300, errorMultiplier: 5 } })
    const s = sprtBound(step, { canaryWeight: 10 }).seconds!
    const r = sprtBound(ramp, { canaryWeight: 10 }).seconds!
    expect(r).toBeGreaterThan(s)
  })

  it('a fault on one endpoint counts only that endpoint’s share of the canary', () => {
    const partial = parseScenario({ ...BASE, endpoints: [{ name: 'pay', share: 0.1 }], fault: { onsetSeconds: 0, shape: 'step', errorMultiplier: 20, endpoint: 'pay' } })
    // 10 % of requests at 10 %, 90 % at 0.5 %: 1.45 % overall.
    expect(klPerRequestAt(partial, 0)).toBeCloseTo(bernoulliKL(0.1 * 0.1 + 0.9 * 0.005, 0.005), 10)
  })
})
