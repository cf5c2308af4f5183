/**
 * Detection by the sequential judge on seeded simulations (fixed seeds): how many canary
 * requests it needs against Wald's SPRT floor, ln(1/alpha) / KL per canary request.
 */
import { describe, expect, it, vi } from 'vitest'
import type { SequentialJudgeSpec } from '../../schema/spec.ts'
import { judgeSequential } from './sequential.ts'
import { type CountScenario, firstFailure, loopWindows, seededRandom, simulateSeconds } from './sequential-sim.ts'
import { signalGate } from './testing.ts'

// Seeded simulations: slow on a busy machine, never flaky (no timing asserted).
vi.setConfig({ testTimeout: 120_000 })

const TOTAL_RPS = 200 // 10 canary req/s at 5 %
const alpha = 0.01
const base = 0.005
const weight = 5

/** Wald's bound as the issue states it: ln(1/alpha) / KL(canary ‖ baseline) per canary request (baseline rate known). */
function sprtOneSample(multiplier: number): number {
  const q1 = base * multiplier
  const kl = q1 * Math.log(q1 / base) + (1 - q1) * Math.log((1 - q1) / (1 - base))
  return Math.log(1 / alpha) / kl
}

/** The same floor for the share test with the multiplier known: its expected drift per canary request. */
function sprtShare(multiplier: number): number {
  const p0 = weight / 100
  const q1 = base * multiplier
  const drift = q1 * Math.log(multiplier) - (q1 + (base * (1 - p0)) / p0) * Math.log1p((multiplier - 1) * p0)
  return Math.log(1 / alpha) / drift
}

function medianDetection(seed: number, multiplier: number, runs: number, seconds: number): { median: number; p90: number; missed: number } {
  const random = seededRandom(seed)
  const found: number[] = []
  let missed = 0
  const scenario: CountScenario = { requestsPerSecond: TOTAL_RPS, seconds, weightAt: () => weight, baselineErrorAt: () => base, canaryErrorAt: () => base * multiplier }
  for (let r = 0; r < runs; r++) {
    const at = firstFailure(random, scenario, { alpha, margin: 1.5, floor: 0.001 })
    if (at === null) missed++
    else found.push(at)
  }
  found.sort((a, b) => a - b)
  const at = (q: number): number => found[Math.floor(q * found.length)] ?? Number.POSITIVE_INFINITY
  return { median: at(0.5), p90: at(0.9), missed }
}

describe('detection', () => {
  it('0.5 % → 5 % at 10 canary req/s: median within 1.5 × the SPRT bound', () => {
    const { median, p90, missed } = medianDetection(10, 10, 500, 120)
    const bound = sprtOneSample(10)
    console.log(`0.5 % → 5 %: median detection after ${median} canary requests, p90 ${p90} (SPRT bound ${bound.toFixed(0)}; share-test SPRT ${sprtShare(10).toFixed(0)}); ${missed} of 500 missed within 120 s`)
    expect(missed).toBe(0)
    expect(median).toBeLessThanOrEqual(1.5 * bound)
  })

  it('×2, ×5, ×10 error multipliers at alpha 0.01 (a measurement)', () => {
    const rows = [2, 5, 10].map((m) => {
      const { median, p90, missed } = medianDetection(20 + m, m, 200, m === 2 ? 1200 : 300)
      return { multiplier: m, medianCanaryRequests: median, p90CanaryRequests: p90, sprtOneSample: Math.round(sprtOneSample(m)), sprtShare: Math.round(sprtShare(m)), missed }
    })
    console.log(`detection at alpha 0.01, 0.5 % baseline, 5 % weight of ${TOTAL_RPS} req/s, 1 s intervals: ${JSON.stringify(rows)}`)
    for (const row of rows) {
      expect(row.missed).toBe(0)
      expect(row.medianCanaryRequests).toBeLessThanOrEqual(1.6 * row.sprtShare)
    }
  })

  it('through the judge and the loop’s windows (5 s ticks): 0.5 % → 5 % fails within the first ticks', () => {
    const spec: SequentialJudgeSpec = { kind: 'sequential', alpha }
    const gate = signalGate('errorRate', spec)
    const random = seededRandom(30)
    const times: number[] = []
    for (let r = 0; r < 100; r++) {
      const seconds = simulateSeconds(random, { requestsPerSecond: TOTAL_RPS, weightAt: () => weight, baselineErrorAt: () => base, canaryErrorAt: () => base * 10 }, 120)
      const windows = loopWindows(seconds, [{ start: 0, seconds: 120, weight }])
      const tick = windows.findIndex((_, i) => judgeSequential(spec, windows.slice(0, i + 1), gate).verdict === 'FAIL')
      times.push(tick < 0 ? Number.POSITIVE_INFINITY : (tick + 1) * 5)
    }
    times.sort((a, b) => a - b)
    console.log(`judge on loop windows, 0.5 % → 5 %: median ${times[50]} s to FAIL (5 s ticks), p90 ${times[90]} s, worst ${times[99]} s`)
    expect(times[50]).toBeLessThanOrEqual(15)
    expect(times[99]).toBeLessThan(Number.POSITIVE_INFINITY)
  })
})
