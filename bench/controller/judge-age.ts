import { judgeFor } from '../../controller/judges/index.ts'
import type { WindowSample } from '../../controller/telemetry/provider.ts'
import { benchSpec } from './seed.ts'
import { CANARY_VERSION, STABLE_VERSION } from './traffic.ts'

/** Increments a tick keeps after 1 minute, 10 minutes, 1 hour and 5 hours of 5 s ticks (the last is INCREMENT_LIMIT). */
export const AGES = [12, 120, 720, 3600] as const

function increment(index: number, intervalMs: number): WindowSample {
  const start = new Date(1_800_000_000_000 + index * intervalMs)
  const end = new Date(start.getTime() + intervalMs)
  const seconds = intervalMs / 1000
  const version = (name: string, requests: number) => ({
    version: name,
    requests,
    errors: Math.round(requests * 0.002),
    values: { requestRate: requests / seconds, errorRate: 0.002, latencyP50: 0.02, latencyP95: 0.024, latencyP99: 0.025 },
  })
  return { provider: 'builtin', start, end, canaryWeight: 25, canary: version(CANARY_VERSION, 25 * seconds), baseline: version(STABLE_VERSION, 75 * seconds) }
}

/**
 * CPU milliseconds the benchmark's two sequential gates take per tick once the analysis holds
 * `n` increments: the judges re-read every increment of the step on every tick, so a tick's
 * cost grows with the analysis's age. The ramp itself measures young analyses (a new
 * controller starts with no increments); this shows what older ones cost.
 */
export function judgeMsPerTickByAge(intervalSeconds: number, repeats = 5): Record<string, number> {
  const spec = benchSpec('bench-judge-age', intervalSeconds)
  const result: Record<string, number> = {}
  for (const n of AGES) {
    const samples = Array.from({ length: n }, (_, i) => increment(i, intervalSeconds * 1000))
    const judges = spec.gates.map((gate) => ({ gate, judge: judgeFor(gate.judge) }))
    for (const { gate, judge } of judges) judge.judge(samples, gate)
    const before = process.cpuUsage()
    for (let r = 0; r < repeats; r++) for (const { gate, judge } of judges) judge.judge(samples, gate)
    const used = process.cpuUsage(before)
    result[String(n)] = Math.round(((used.user + used.system) / 1000 / repeats) * 100) / 100
  }
  return result
}
