/**
 * The simulator and one trial: deterministic per seed, traffic split by weight, faults where
 * and when the scenario says, and the real controller code deciding on it. Small scenarios
 * (two minutes of traffic) so the whole file runs in seconds.
 */
import { describe, expect, it } from 'vitest'
import { randomStream } from './random.ts'
import { flaggerRule } from './rules/flagger.ts'
import { sentraRule } from './rules/sentra.ts'
import { parseScenario } from './scenarios.ts'
import { CANARY_VERSION, EPOCH_MS, BASELINE_VERSION, TrafficStream, emptyTally, faultEffect, faultIntensity, newMetrics, serveSecond } from './simulator.ts'
import { runTrial } from './trial.ts'

const BASE = {
  name: 'sim',
  tickSeconds: 1,
  durationSeconds: 180,
  traffic: { requestsPerSecond: 100, load: { amplitude: 0.3, periodSeconds: 60 } },
  baseline: { errorRate: 0.005, latencyMedianMs: 100, latencySigma: 0.6 },
  expected: 'promote',
}

describe('the traffic stream', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const scenario = parseScenario({ ...BASE, traffic: { ...BASE.traffic, overdispersion: 3 }, errorBursts: { meanGapSeconds: 20, seconds: 3, multiplier: 10 }, dataGaps: { missingProbability: 0.2 } })
    const take = (seed: number): unknown[] => {
      const stream = new TrafficStream(scenario, randomStream(seed))
      return Array.from({ length: 30 }, () => {
        const s = stream.next()
        return [s.count, s.burst, s.telemetryMissing, Array.from(s.error.slice(0, 3)), Array.from(s.latencyZ.slice(0, 3))]
      })
    }
    expect(take(5)).toEqual(take(5))
    expect(take(5)).not.toEqual(take(6))
  })

  it('sends the canary its weight of the requests, and the rest to the baseline', () => {
    const scenario = parseScenario(BASE)
    const stream = new TrafficStream(scenario, randomStream(1))
    const metrics = newMetrics()
    const tally = emptyTally()
    for (let t = 0; t < 120; t++) serveSecond(scenario, stream.next(), 20, metrics, tally)
    const canary = metrics.window(CANARY_VERSION, EPOCH_MS, EPOCH_MS + 120_000)
    const baseline = metrics.window(BASELINE_VERSION, EPOCH_MS, EPOCH_MS + 120_000)
    const share = canary.requests / (canary.requests + baseline.requests)
    expect(share).toBeGreaterThan(0.18)
    expect(share).toBeLessThan(0.22)
    expect(tally.canaryRequests).toBe(canary.requests)
    // Lognormal median 100 ms: the proxy's histogram p50 is close to it.
    expect(canary.latencyP50!).toBeGreaterThan(0.09)
    expect(canary.latencyP50!).toBeLessThan(0.11)
  })

  it('applies a fault from its onset, growing along a ramp, on its endpoint only', () => {
    const step = parseScenario({ ...BASE, expected: 'rollback', fault: { onsetSeconds: 10, shape: 'step', errorMultiplier: 5 } })
    expect(faultIntensity(step, 9)).toBe(0)
    expect(faultIntensity(step, 10)).toBe(1)
    const ramp = parseScenario({ ...BASE, expected: 'rollback', fault: { onsetSeconds: 0, shape: 'ramp', rampSeconds: 100, errorMultiplier: 11 } })
    expect(faultEffect(ramp, 49, -1).errorMultiplier).toBeCloseTo(6, 10)
    expect(faultEffect(ramp, 500, -1).errorMultiplier).toBe(11)
    const partial = parseScenario({ ...BASE, expected: 'rollback', endpoints: [{ name: 'pay', share: 0.1 }], fault: { onsetSeconds: 0, shape: 'step', latencyMultiplier: 2, endpoint: 'pay' } })
    expect(faultEffect(partial, 5, 0)).toMatchObject({ touched: true, latencyMultiplier: 2 })
    expect(faultEffect(partial, 5, -1)).toMatchObject({ touched: false, latencyMultiplier: 1 })
  })

  it('counts the canary’s bad requests only after the onset', () => {
    const scenario = parseScenario({ ...BASE, expected: 'rollback', fault: { onsetSeconds: 60, shape: 'step', errorMultiplier: 20 } })
    const stream = new TrafficStream(scenario, randomStream(2))
    const metrics = newMetrics()
    const tally = emptyTally()
    for (let t = 0; t < 60; t++) serveSecond(scenario, stream.next(), 50, metrics, tally)
    expect(tally.badRequests).toBe(0)
    expect(tally.canaryErrors).toBeGreaterThan(0)
    for (let t = 60; t < 120; t++) serveSecond(scenario, stream.next(), 50, metrics, tally)
    // About 50 req/s × 60 s × 10 %.
    expect(tally.badRequests).toBeGreaterThan(200)
    expect(tally.badRequests).toBeLessThan(420)
  })
})

describe('a trial', () => {
  it('is deterministic per seed, for every rule', async () => {
    const scenario = parseScenario({ ...BASE, expected: 'rollback', fault: { onsetSeconds: 0, shape: 'step', errorMultiplier: 10 } })
    const rules = [sentraRule(1), flaggerRule()]
    const a = await runTrial(scenario, rules, randomStream(11))
    const b = await runTrial(scenario, rules, randomStream(11))
    expect(a).toEqual(b)
  })

  it('drives the real controller code: Sentra rolls back a canary failing 20× as often, within the two minutes', async () => {
    const scenario = parseScenario({ ...BASE, expected: 'rollback', fault: { onsetSeconds: 0, shape: 'step', errorMultiplier: 20 } })
    const [sentra] = await runTrial(scenario, [sentraRule(1)], randomStream(3))
    expect(sentra!.outcome?.kind).toBe('rollback')
    expect(sentra!.outcome?.reason).toMatch(/errors failed/)
  })

  it('a missing scrape reaches the judges as no data, never as a pass', async () => {
    const scenario = parseScenario({ ...BASE, durationSeconds: 60, dataGaps: { missingProbability: 0, outages: [{ fromSeconds: 0, seconds: 60 }] } })
    const [sentra] = await runTrial(scenario, [sentraRule(1)], randomStream(4))
    // With no telemetry at all the demo plan's analysis can only wait (and then pause): never promote.
    expect(sentra!.outcome?.kind ?? 'undecided').not.toBe('promote')
    expect(sentra!.outcome === null || /no data|waiting for a person/.test(sentra!.outcome.reason)).toBe(true)
  })
})
