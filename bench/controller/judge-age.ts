import v8 from 'node:v8'
import vm from 'node:vm'
import { judgeFor } from '../../controller/judges/index.ts'
import { LATENCY_BUCKETS, bucketOf } from '../../controller/proxy/latency-histogram.ts'
import type { WindowSample } from '../../controller/telemetry/provider.ts'
import { benchSpec } from './seed.ts'
import { CANARY_VERSION, STABLE_VERSION } from './traffic.ts'

/** Analysis ages in increments: 1 minute, 10 minutes, 1 hour, 5 hours and a day of 5 s ticks. */
export const AGES = [12, 120, 720, 3600, 17_280] as const

/** Re-judging every increment each tick is measured up to this age only (it is the slow baseline). */
const RECOMPUTE_AGES_UP_TO = 3600

/** A latency histogram in the proxy's buckets of `requests` latencies spread evenly over 15–25 ms (as bench/controller/traffic.ts). */
function histogram(requests: number, offset: number): number[] {
  const counts = new Array<number>(LATENCY_BUCKETS).fill(0)
  for (let i = 0; i < requests; i++) counts[bucketOf(15 + ((i * 7919 + offset) % 1000) / 100)]! += 1
  return counts
}

/** The interval a tick adds, as the built-in provider gives it: counts, quantiles and the latency histograms. */
function increment(index: number, intervalMs: number): WindowSample {
  const start = new Date(1_800_000_000_000 + index * intervalMs)
  const end = new Date(start.getTime() + intervalMs)
  const seconds = intervalMs / 1000
  const version = (name: string, requests: number) => ({
    version: name,
    requests,
    errors: Math.round(requests * 0.002),
    values: { requestRate: requests / seconds, errorRate: 0.002, latencyP50: 0.02, latencyP95: 0.024, latencyP99: 0.025 },
    latencyHistogram: histogram(requests, index),
  })
  // The split varies from tick to tick as a weighted random draw does (about ±2 standard deviations), so the canary's share differs per increment.
  const jitter = Math.round(Math.sqrt(0.25 * 0.75 * 100 * seconds) * (((index * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 4)
  const canary = 25 * seconds + jitter
  return { provider: 'builtin', start, end, canaryWeight: 25, canary: version(CANARY_VERSION, canary), baseline: version(STABLE_VERSION, 100 * seconds - canary) }
}

export interface JudgeAgeResult {
  /** CPU ms per tick of the two gates' runs (what the controller does): one increment added and judged. */
  run: Record<string, number>
  /** The same tick judged by re-reading every increment (the pure `judge(history)`, the loop before runs): the baseline. */
  recompute: Record<string, number>
  /** KiB of heap a rollout's two runs hold at each age (up to 3,600). */
  runKiB: Record<string, number>
  /** KiB of heap the increments themselves take at each age: what re-judging had to keep (it kept at most 3,600). */
  keptIncrementsKiB: Record<string, number>
}

/** The heap's garbage collector, for measuring what stays reachable (exposed at run time). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

/** KiB of heap each of `copies` objects from `make` keeps reachable. */
function retainedKiB(gc: () => void, copies: number, make: () => unknown): number {
  gc()
  gc()
  const before = v8.getHeapStatistics().used_heap_size
  const kept = Array.from({ length: copies }, make)
  gc()
  gc()
  const after = v8.getHeapStatistics().used_heap_size
  if (kept.length !== copies) throw new Error('unreachable')
  return Math.round((after - before) / copies / 1024)
}

/**
 * CPU milliseconds the benchmark's two sequential gates take per tick once the analysis holds
 * `n` increments, both ways: a run kept between ticks (constant in n) and, as the baseline in
 * the same process, re-judging the whole history (linear in n). The ramp itself measures young
 * analyses (a new controller starts with no evidence); this shows what older ones cost.
 */
export function judgeMsPerTickByAge(intervalSeconds: number, repeats = 5): JudgeAgeResult {
  const spec = benchSpec('bench-judge-age', intervalSeconds)
  const result: JudgeAgeResult = { run: {}, recompute: {}, runKiB: {}, keptIncrementsKiB: {} }
  const gc = collector()
  const judges = spec.gates.map((gate) => ({ gate, judge: judgeFor(gate.judge) }))
  const ms = (used: NodeJS.CpuUsage, ticks: number): number => Math.round(((used.user + used.system) / 1000 / ticks) * 1000) / 1000
  /** Both gates' runs, fed increments 0 … n − 1. */
  const fed = (n: number, at: (i: number) => WindowSample = (i) => increment(i, intervalSeconds * 1000)) =>
    judges.map(({ gate, judge }) => {
      const run = judge.start!(gate)
      for (let i = 0; i < n; i++) run.add(at(i))
      return run
    })
  // Warm-up, so the first age does not pay for compiling the judges (a cold run's first
  // few hundred verdicts cost ten times a warm one's).
  for (let round = 0; round < 3; round++) {
    for (const { gate, judge } of judges) {
      const run = judge.start!(gate)
      for (let i = 0; i < 720; i++) {
        run.add(increment(i, intervalSeconds * 1000))
        run.verdict()
      }
    }
  }
  // Memory first, before the timing loops leave garbage behind; up to 3,600 (flat by then).
  for (const n of AGES) {
    if (n > RECOMPUTE_AGES_UP_TO) continue
    result.runKiB[String(n)] = retainedKiB(gc, 10, () => fed(n))
    result.keptIncrementsKiB[String(n)] = retainedKiB(gc, 2, () => Array.from({ length: n }, (_, i) => increment(i, intervalSeconds * 1000)))
  }
  for (const n of AGES) {
    const samples = Array.from({ length: n + repeats }, (_, i) => increment(i, intervalSeconds * 1000))
    const runs = fed(n, (i) => samples[i]!)
    const before = process.cpuUsage()
    for (let r = 0; r < repeats; r++) {
      for (const run of runs) {
        run.add(samples[n + r]!)
        run.verdict()
      }
    }
    result.run[String(n)] = ms(process.cpuUsage(before), repeats)
    if (n > RECOMPUTE_AGES_UP_TO) continue
    const history = samples.slice(0, n)
    for (const { gate, judge } of judges) judge.judge(history, gate)
    const start = process.cpuUsage()
    for (let r = 0; r < repeats; r++) for (const { gate, judge } of judges) judge.judge(history, gate)
    result.recompute[String(n)] = ms(process.cpuUsage(start), repeats)
  }
  return result
}
