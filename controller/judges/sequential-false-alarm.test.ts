/**
 * False alarms of the sequential judge on seeded simulations of healthy (A/A) traffic
 * (fixed seeds: these cannot flake). The chance that a healthy canary EVER fails, checked
 * at every interval, stays within alpha (Ville's inequality), with weight changes, shared
 * error bursts and the loop's overlapping windows; and a canary exactly at the margin
 * passes at most alpha of the time.
 */
import { describe, expect, it, vi } from 'vitest'
import type { SequentialJudgeSpec } from '../../schema/spec.ts'
import { judgeSequential } from './sequential.ts'
import { type CountScenario, firstFailure, lognormal, loopWindows, seededRandom, simulateSeconds } from './sequential-sim.ts'
import { signalGate } from './testing.ts'

// Thousands of seeded runs: slow on a busy machine, never flaky (no timing asserted).
vi.setConfig({ testTimeout: 240_000 })

const TOTAL_RPS = 200 // 10 canary req/s at 5 %

/** Alarms allowed in `runs` runs at level alpha: alpha·runs plus three binomial standard deviations. */
function allowed(alpha: number, runs: number): number {
  return Math.ceil(alpha * runs + 3 * Math.sqrt(alpha * (1 - alpha) * runs))
}

function alarms(seed: number, runs: number, s: CountScenario, alpha: number, floor: number | null): number {
  const random = seededRandom(seed)
  let count = 0
  for (let r = 0; r < runs; r++) if (firstFailure(random, s, { alpha, margin: 1.5, floor }) !== null) count++
  return count
}

const steps5to50 = (t: number): number => (t < 120 ? 5 : t < 240 ? 25 : 50)

describe('false alarms on healthy (A/A) traffic', () => {
  it('2000 runs × 360 one-second intervals, weights 5 → 25 → 50 %: at most alpha', () => {
    const healthy: CountScenario = { requestsPerSecond: TOTAL_RPS, seconds: 360, weightAt: steps5to50, baselineErrorAt: () => 0.005, canaryErrorAt: () => 0.005 }
    const runs = 2000
    const withFloor = alarms(1, runs, healthy, 0.01, 0.001)
    const ratioOnly = alarms(2, runs, healthy, 0.05, null)
    console.log(`A/A false alarms: ${withFloor}/${runs} at alpha 0.01 (judge defaults), ${ratioOnly}/${runs} at alpha 0.05 (ratio test alone)`)
    expect(withFloor).toBeLessThanOrEqual(allowed(0.01, runs))
    expect(ratioOnly).toBeLessThanOrEqual(allowed(0.05, runs))
  })

  it('weights jumping 5 ↔ 50 % every 10 s with shared error bursts: at most alpha', () => {
    // Both versions see the same error rate at every moment, but it swings from 0.2 % to
    // 10 % in 5 s bursts while the canary's weight jumps: a pooled test would alarm.
    const burst = (t: number): number => (t % 37 < 5 ? 0.1 : 0.002)
    const jumpy: CountScenario = {
      requestsPerSecond: TOTAL_RPS,
      seconds: 600,
      weightAt: (t) => (Math.floor(t / 10) % 2 === 0 ? 5 : 50),
      baselineErrorAt: burst,
      canaryErrorAt: burst,
    }
    const runs = 1000
    const found = alarms(3, runs, jumpy, 0.05, null)
    console.log(`weight jumps + bursts: ${found}/${runs} false alarms at alpha 0.05 (ratio test alone)`)
    expect(found).toBeLessThanOrEqual(allowed(0.05, runs))
  })

  it('through the judge and the loop’s overlapping windows (5 s ticks, 60 s cap): at most alpha, both ways', () => {
    const spec: SequentialJudgeSpec = { kind: 'sequential', alpha: 0.05 }
    const gate = signalGate('errorRate', spec)
    const random = seededRandom(4)
    const runs = 200
    const steps = [
      { start: 0, seconds: 120, weight: 5 },
      { start: 120, seconds: 120, weight: 25 },
      { start: 240, seconds: 120, weight: 50 },
    ]
    const ever = (baseline: number, canary: number, verdict: 'FAIL' | 'PASS'): boolean => {
      const seconds = simulateSeconds(random, { requestsPerSecond: TOTAL_RPS, weightAt: steps5to50, baselineErrorAt: () => baseline, canaryErrorAt: () => canary }, 360)
      const windows = loopWindows(seconds, steps)
      return windows.some((_, tick) => judgeSequential(spec, windows.slice(0, tick + 1), gate, { errorFloor: null }).verdict === verdict)
    }
    let failed = 0
    let passedAtMargin = 0
    let passedAtRatio = 0
    for (let r = 0; r < runs; r++) {
      if (ever(0.01, 0.01, 'FAIL')) failed++
      // A canary exactly at the points margin (baseline + 1 pp, the default) must not pass either.
      if (ever(0.02, 0.03, 'PASS')) passedAtMargin++
      // Nor one exactly at the ratio margin (×2, the default maxRatio) that is well within the points.
      if (ever(0.005, 0.01, 'PASS')) passedAtRatio++
    }
    console.log(`judge on loop windows: ${failed}/${runs} false FAILs, ${passedAtMargin}/${runs} false PASSes at +1 pp, ${passedAtRatio}/${runs} at ×2 (alpha 0.05)`)
    expect(failed).toBeLessThanOrEqual(allowed(0.05, runs))
    expect(passedAtMargin).toBeLessThanOrEqual(allowed(0.05, runs))
    expect(passedAtRatio).toBeLessThanOrEqual(allowed(0.05, runs))
  })

  it('latency: identical versions, disjoint 5 s windows, p50/p95/p99 gates: at most alpha, both ways', () => {
    const spec: SequentialJudgeSpec = { kind: 'sequential', alpha: 0.05 }
    const random = seededRandom(5)
    const runs = 150
    const gates = (['latencyP50', 'latencyP95', 'latencyP99'] as const).map((signal) => signalGate(signal, spec))
    const steps = [
      { start: 0, seconds: 60, weight: 10 },
      { start: 60, seconds: 60, weight: 50 },
    ]
    const weightAt = (t: number): number => (t < 60 ? 10 : 50)
    let failed = 0
    let passedSlower = 0
    for (let r = 0; r < runs; r++) {
      const same = lognormal(0.05, 0.5)
      const healthy = simulateSeconds(random, { requestsPerSecond: 60, weightAt, baselineErrorAt: () => 0, canaryErrorAt: () => 0, baselineLatency: same, canaryLatency: same }, 120)
      const windows = loopWindows(healthy, steps, { disjoint: true })
      if (gates.some((gate) => windows.some((_, i) => judgeSequential(spec, windows.slice(0, i + 1), gate).verdict === 'FAIL'))) failed++
      // A canary exactly 1.5 times slower (every quantile) must not pass its gates.
      const slower = simulateSeconds(random, { requestsPerSecond: 60, weightAt, baselineErrorAt: () => 0, canaryErrorAt: () => 0, baselineLatency: same, canaryLatency: lognormal(0.075, 0.5) }, 120)
      const slowerWindows = loopWindows(slower, steps, { disjoint: true })
      if (gates.some((gate) => slowerWindows.some((_, i) => judgeSequential(spec, slowerWindows.slice(0, i + 1), gate).verdict === 'PASS'))) passedSlower++
    }
    console.log(`latency A/A: ${failed}/${runs} runs with a false FAIL on any of 3 gates, ${passedSlower}/${runs} with a false PASS at ×1.5 (alpha 0.05 per gate)`)
    // Three gates per run: up to 3·alpha per run by the union bound.
    expect(failed).toBeLessThanOrEqual(allowed(0.15, runs))
    expect(passedSlower).toBeLessThanOrEqual(allowed(0.15, runs))
  })
})
