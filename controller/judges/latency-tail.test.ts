/**
 * The sequential judge's latency FAIL from per-request counts (stats/latency-tail.ts): the
 * share of requests slower than the baseline's earlier p95/p99, on the proxy's real histograms
 * (RedMetrics) through the real built-in provider. Seeded; no timing asserted.
 */
import { describe, expect, it, vi } from 'vitest'
import type { SequentialJudgeSpec } from '../../schema/spec.ts'
import { RedMetrics } from '../proxy/red-metrics.ts'
import { BuiltinProvider } from '../telemetry/builtin.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { judgeSequential } from './sequential.ts'
import { lognormal, seededRandom } from './sequential-sim.ts'
import { LatencyTailTest, quantileBucket } from './stats/latency-tail.ts'
import { poolIncrements, type TimedIncrement } from './stats/increments.ts'
import { signalGate } from './testing.ts'

vi.setConfig({ testTimeout: 120_000 })

const EPOCH = Date.UTC(2025, 0, 1, 12)
const spec: SequentialJudgeSpec = { kind: 'sequential', alpha: 0.01 }
const p95 = signalGate('latencyP95', spec)

interface Plan {
  seconds: number
  requestsPerSecond: number
  weight: number
  /** Canary latency (seconds) from the same draw the baseline would take. */
  canary: (base: number, random: () => number) => number
}

/** One-second increments of a rollout through the real proxy metrics and built-in provider. */
async function increments(random: () => number, plan: Plan): Promise<WindowSample[]> {
  const metrics = new RedMetrics()
  const provider = new BuiltinProvider(() => metrics)
  const latency = lognormal(0.1, 0.6)
  const out: WindowSample[] = []
  for (let t = 0; t < plan.seconds; t++) {
    const n = Math.round(plan.requestsPerSecond * (0.5 + random()))
    for (let i = 0; i < n; i++) {
      const base = latency(random)
      const canary = random() < plan.weight / 100
      metrics.record(canary ? 'v2' : 'v1', { status: 200 }, (canary ? plan.canary(base, random) : base) * 1000, EPOCH + t * 1000 + 500)
    }
    const q = { application: 'app', canaryVersion: 'v2', baselineVersion: 'v1', start: new Date(EPOCH + t * 1000), end: new Date(EPOCH + (t + 1) * 1000), canaryWeight: plan.weight, gates: [p95], intervalMs: 1000 }
    out.push(await provider.sample(q, new AbortController().signal))
  }
  return out
}

/** The first second at which the judge fails, judging every second as the loop does; null if never. */
function firstFail(windows: readonly WindowSample[], every = 1): number | null {
  for (let t = every; t <= windows.length; t += every) {
    if (judgeSequential(spec, windows.slice(0, t), p95).verdict === 'FAIL') return t
  }
  return null
}

describe('tail latency from the proxy histograms', () => {
  it('the provider hands the judge each version’s bucket counts', async () => {
    const [w] = await increments(seededRandom(1), { seconds: 1, requestsPerSecond: 100, weight: 50, canary: (b) => b })
    const counts = w!.canary.latencyHistogram!
    expect(counts.reduce((a, b) => a + b, 0)).toBe(w!.canary.requests)
  })

  it('healthy (A/A): false FAILs stay within alpha over many rollouts judged every few seconds', async () => {
    const random = seededRandom(11)
    const runs = 60
    let failed = 0
    for (let r = 0; r < runs; r++) {
      const windows = await increments(random, { seconds: 120, requestsPerSecond: 80, weight: 25, canary: (b) => b })
      if (firstFail(windows, 5) !== null) failed++
    }
    console.log(`tail latency A/A: ${failed}/${runs} rollouts with a false FAIL (alpha 0.01)`)
    // alpha 0.01 over 60 runs: more than 3 would be a 0.3 % event if the level held.
    expect(failed).toBeLessThanOrEqual(3)
  })

  it('catches a p99-only fault (2 % of canary requests 5 × slower) that the p95 quantiles hardly show', async () => {
    const random = seededRandom(12)
    const at: (number | null)[] = []
    for (let r = 0; r < 5; r++) {
      const windows = await increments(random, { seconds: 240, requestsPerSecond: 100, weight: 25, canary: (b, rnd) => (rnd() < 0.02 ? 5 * b : b) })
      at.push(firstFail(windows, 4))
    }
    console.log(`p99-only fault: FAIL after ${at.join(', ')} s`)
    expect(at.every((t) => t !== null)).toBe(true)
  })

  it('catches a 50 % slowdown within seconds, saying how many requests were slower', async () => {
    const windows = await increments(seededRandom(13), { seconds: 60, requestsPerSecond: 100, weight: 25, canary: (b) => 1.5 * b })
    const t = firstFail(windows)
    expect(t).not.toBeNull()
    expect(t!).toBeLessThan(30)
    const v = judgeSequential(spec, windows.slice(0, t!), p95)
    expect(v.reason).toMatch(/[\d.]+ % of canary requests slower than the baseline's earlier p95 vs [\d.]+ % of baseline requests/)
    expect(v.evidence['tail']).toBeInstanceOf(Array)
  })

  it('sets each threshold from the earlier baseline, or the pooled interval while that is too small', () => {
    const test = new LatencyTailTest([0.95], 0.01, 4)
    // No earlier baseline: the pooled interval's p95 (bucket 3, 150 requests) is the threshold, nothing is above it.
    test.add([0, 0, 0, 50], [100, 0, 0, 0])
    expect(test.thresholds()[0]).toMatchObject({ intervals: 1, canarySlow: 0, baselineSlow: 0 })
    // 100 earlier baseline requests, all in bucket 0: from now on that is the threshold, everything above it is slow.
    test.add([0, 0, 0, 50], [100, 0, 0, 0])
    expect(test.thresholds()[0]).toMatchObject({ intervals: 2, canarySlow: 50, baselineSlow: 0 })
    expect(test.logE).toBeGreaterThan(Math.log(100))
  })

  it('a pooled p95 threshold needs 20 requests; the p99 one 100', () => {
    const test = new LatencyTailTest([0.95, 0.99], 0.01, 4)
    test.add([0, 0, 0, 5], [10, 0, 0, 0])
    expect(test.thresholds().map((t) => t.intervals)).toEqual([0, 0])
    test.add([0, 0, 0, 5], [20, 0, 0, 0])
    expect(test.thresholds().map((t) => t.intervals)).toEqual([1, 0])
  })

  it('finds the bucket of a quantile, and none in an empty histogram', () => {
    expect(quantileBucket([10, 80, 10], 100, 0.95)).toBe(2)
    expect(quantileBucket([10, 80, 10], 100, 0.5)).toBe(1)
    expect(quantileBucket([0, 0], 0, 0.5)).toBeNull()
  })

  it('ignores malformed histograms (falls back to the quantile test), never PASS on them', async () => {
    const windows = await increments(seededRandom(14), { seconds: 20, requestsPerSecond: 100, weight: 25, canary: (b) => b })
    const hostile = windows.map((w) => ({ ...w, canary: { ...w.canary, latencyHistogram: [Number.NaN, -1] }, baseline: { ...w.baseline, latencyHistogram: [1e308, 1e308] } }))
    const v = judgeSequential(spec, hostile, p95)
    expect(v.verdict).not.toBe('FAIL')
    expect(v.evidence['tail']).toBeNull()
  })
})

describe('pooled count intervals (low traffic)', () => {
  const inc = (canaryRequests: number, canaryErrors: number, baselineRequests: number, weight = 25): TimedIncrement => ({ start: 0, end: 1000, weight, canaryRequests, canaryErrors, baselineRequests, baselineErrors: 0 })

  it('pools until enough requests, never across a weight change, and leaves an unfinished pool out', () => {
    const pools = poolIncrements([inc(1, 1, 0), inc(0, 0, 3), inc(2, 0, 5), inc(1, 0, 1), inc(0, 0, 1, 50), inc(20, 0, 0, 50), inc(1, 0, 0, 50)], 10)
    expect(pools.map((p) => [p.canaryRequests, p.canaryErrors, p.baselineRequests, p.weight])).toEqual([
      [3, 1, 8, 25],
      [1, 0, 1, 25],
      [20, 0, 1, 50],
    ])
  })

  it('catches a ×20 error rate at 0.5 requests/s, where one-second intervals say nothing', () => {
    const random = seededRandom(21)
    const windows: WindowSample[] = []
    for (let t = 0; t < 600; t++) {
      const n = random() < 0.5 ? 1 : 0
      const canary = n > 0 && random() < 0.25
      const failed = n > 0 && random() < (canary ? 0.1 : 0.005)
      const side = (version: string, mine: boolean) => ({ version, requests: mine ? n : 0, errors: mine && failed ? 1 : 0, values: {} })
      windows.push({ provider: 'builtin', start: new Date(EPOCH + t * 1000), end: new Date(EPOCH + (t + 1) * 1000), canaryWeight: 25, canary: side('v2', canary), baseline: side('v1', n > 0 && !canary) })
    }
    const errors = signalGate('errorRate', spec)
    const v = judgeSequential(spec, windows, errors)
    expect(v.verdict).not.toBe('PASS')
    expect(num(v.evidence['eValue'])).toBeGreaterThan(1)
  })
})

function num(v: unknown): number {
  return v as number
}
