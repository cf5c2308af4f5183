/**
 * The sequential judge evaluated at EVERY tick, the way the controller runs it: simulated
 * requests are recorded into the proxy's real per-second counters (RedMetrics), read by the
 * real built-in provider, and judged by the real evaluateGates, which hands sequential judges
 * the per-tick increments (controller/evaluate.ts: incrementWindow), each added to the gate's
 * run kept between ticks (controller/judge-runs.ts). Ticks fall anywhere inside a second and
 * drift, as a real loop's do.
 *
 * Fixed seeds: these cannot flake. What they show: on healthy (A/A) traffic across weight
 * changes the chance of ever failing stays within alpha although the judge looks every
 * second; every request is counted once (never twice, almost none lost); a ×5 error spike is
 * caught within seconds; a canary exactly at the percentage-point margin passes at most alpha
 * of the time.
 */
import { describe, expect, it, vi } from 'vitest'
import { assertSpec } from '../../schema/spec.ts'
import { evaluateGates, incrementWindow } from '../evaluate.ts'
import { JudgeRuns } from '../judge-runs.ts'
import { RedMetrics } from '../proxy/red-metrics.ts'
import { BuiltinProvider } from '../telemetry/builtin.ts'
import type { TelemetryProvider, WindowQuery, WindowSample } from '../telemetry/provider.ts'
import { binomial, poisson, seededRandom } from './sequential-sim.ts'

// Thousands of judged ticks per test: slow on a busy machine, never flaky (no timing asserted).
vi.setConfig({ testTimeout: 240_000 })

const EPOCH = Date.UTC(2025, 0, 1, 12, 0, 0)

interface Scenario {
  requestsPerSecond: number
  /** Analysis steps, back to back: seconds at a canary weight (percent). */
  steps: readonly { seconds: number; weight: number }[]
  baselineError: number
  canaryError: (t: number) => number
  alpha: number
  margin?: string
}

interface RunResult {
  /** Seconds from the start to the first FAIL / PASS verdict; null when none came. */
  firstFail: number | null
  firstPass: number | null
  canaryRequestsJudged: number
  canaryRequestsServed: number
}

function specFor(s: Scenario) {
  return assertSpec({
    name: 'sim',
    target: { kind: 'process', listen: '127.0.0.1:9', command: ['node', 'x.mjs'] },
    strategy: { canary: { steps: s.steps.flatMap((step) => [{ setWeight: step.weight }, { analyze: { min: '1s' } }]) } },
    gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: s.alpha, ...(s.margin ? { margin: s.margin } : {}) } }],
    interval: '1s',
  })
}

/** One rollout, ticking about once a second (1013 ms: ticks drift through the seconds) until every step is done. */
async function run(random: () => number, s: Scenario, { stopAtFirst = true } = {}): Promise<RunResult> {
  const spec = specFor(s)
  const metrics = new RedMetrics({ retentionSeconds: 900 })
  const providers = new Map([['builtin', new BuiltinProvider(() => metrics)]])
  const runs = new JudgeRuns()
  const history = new Map<string, WindowSample[]>()
  const result: RunResult = { firstFail: null, firstPass: null, canaryRequestsJudged: 0, canaryRequestsServed: 0 }
  // Requests not yet recorded, in time order, so a tick sees exactly what happened before it.
  const pending: { at: number; version: string; error: boolean }[] = []
  let recordedUntil = EPOCH
  const recordUntil = (now: number) => {
    while (recordedUntil < now) {
      // Draw the next second of traffic at the weight in force then.
      const t = (recordedUntil - EPOCH) / 1000
      let elapsed = 0
      const step = s.steps.find((st) => (elapsed += st.seconds) > t) ?? s.steps.at(-1)!
      const w = step.weight / 100
      const canary = poisson(random, s.requestsPerSecond * w)
      const baseline = poisson(random, s.requestsPerSecond * (1 - w))
      const canaryErrors = binomial(random, canary, s.canaryError(t))
      const baselineErrors = binomial(random, baseline, s.baselineError)
      const second: { at: number; version: string; error: boolean }[] = []
      for (let i = 0; i < canary; i++) second.push({ at: recordedUntil + random() * 1000, version: 'v2', error: i < canaryErrors })
      for (let i = 0; i < baseline; i++) second.push({ at: recordedUntil + random() * 1000, version: 'v1', error: i < baselineErrors })
      second.sort((a, b) => a.at - b.at)
      pending.push(...second)
      recordedUntil += 1000
    }
    while (pending.length > 0 && pending[0]!.at <= now) {
      const r = pending.shift()!
      metrics.record(r.version, { status: r.error ? 500 : 200 }, 30, r.at)
      if (r.version === 'v2') result.canaryRequestsServed += 1
    }
  }

  let stepStart = EPOCH + 370 // a step starts wherever a tick happened to fall
  for (const step of s.steps) {
    const stepEnd = stepStart + step.seconds * 1000
    for (let now = stepStart + 1013; now <= stepEnd; now += 1013) {
      recordUntil(now)
      const [evaluation] = await evaluateGates({
        spec,
        canaryVersion: 'v2',
        baselineVersion: 'v1',
        canaryWeight: step.weight,
        stepStartedAt: stepStart,
        now,
        providers,
        history: (p) => history.get(p) ?? [],
        runs,
        timeoutMs: 10_000,
      })
      const { verdict } = evaluation!.verdict
      const at = (now - EPOCH) / 1000
      result.canaryRequestsJudged = Number(evaluation!.verdict.evidence['canaryRequestsTotal'] ?? result.canaryRequestsJudged)
      if (verdict === 'FAIL' && result.firstFail === null) result.firstFail = at
      if (verdict === 'PASS' && result.firstPass === null) result.firstPass = at
      if (stopAtFirst && (result.firstFail !== null || result.firstPass !== null)) return result
    }
    stepStart = stepEnd
  }
  return result
}

/** Alarms allowed in `runs` runs at level alpha: alpha·runs plus three binomial standard deviations. */
function allowed(alpha: number, runs: number): number {
  return Math.ceil(alpha * runs + 3 * Math.sqrt(alpha * (1 - alpha) * runs))
}

describe('the sequential judge evaluated at every tick (real counters, provider and evaluateGates)', () => {
  it('counts every request once: the judged canary requests never exceed those served, and few are left out', async () => {
    const random = seededRandom(41)
    const r = await run(random, { requestsPerSecond: 200, steps: [{ seconds: 40, weight: 10 }, { seconds: 40, weight: 50 }], baselineError: 0.005, canaryError: () => 0.005, alpha: 0.01, margin: '0.1%' }, { stopAtFirst: false })
    // Overlapping windows would count the same requests about 30 times over (60 s windows, 1 s ticks).
    expect(r.canaryRequestsJudged).toBeLessThanOrEqual(r.canaryRequestsServed)
    // Only the seconds still being filled at a step's start and at the last tick are left out.
    expect(r.canaryRequestsJudged).toBeGreaterThan(0.9 * r.canaryRequestsServed)
  })

  it('healthy (A/A) canary, weights 5 → 25 → 50 %, judged every second: false FAILs within alpha', async () => {
    const random = seededRandom(42)
    const runs = 100
    const alpha = 0.05
    let failed = 0
    for (let i = 0; i < runs; i++) {
      const r = await run(random, { requestsPerSecond: 200, steps: [{ seconds: 30, weight: 5 }, { seconds: 30, weight: 25 }, { seconds: 30, weight: 50 }], baselineError: 0.01, canaryError: () => 0.01, alpha }, { stopAtFirst: false })
      if (r.firstFail !== null) failed++
    }
    console.log(`every-tick A/A: ${failed}/${runs} rollouts with a false FAIL at alpha ${alpha} (allowed ${allowed(alpha, runs)})`)
    expect(failed).toBeLessThanOrEqual(allowed(alpha, runs))
  })

  it('a ×5 error spike (0.5 % → 2.5 %) at 5 % of 200 req/s is caught every time, in about half a minute (median)', async () => {
    const random = seededRandom(43)
    const times: number[] = []
    for (let i = 0; i < 40; i++) {
      const r = await run(random, { requestsPerSecond: 200, steps: [{ seconds: 120, weight: 5 }], baselineError: 0.005, canaryError: () => 0.025, alpha: 0.01 })
      expect(r.firstPass).toBeNull()
      times.push(r.firstFail ?? Number.POSITIVE_INFINITY)
    }
    times.sort((a, b) => a - b)
    console.log(`×5 spike judged every second: median ${times[20]!.toFixed(1)} s to FAIL, worst ${times[39]!.toFixed(1)} s`)
    expect(times[39]).toBeLessThan(Number.POSITIVE_INFINITY)
    expect(times[20]).toBeLessThanOrEqual(60)
  })

  it('a canary exactly at the margin (baseline + 0.5 pp) passes at most alpha of the time', async () => {
    const random = seededRandom(44)
    const runs = 100
    const alpha = 0.05
    let passed = 0
    for (let i = 0; i < runs; i++) {
      const r = await run(random, { requestsPerSecond: 200, steps: [{ seconds: 60, weight: 50 }], baselineError: 0.003, canaryError: () => 0.008, alpha }, { stopAtFirst: false })
      if (r.firstPass !== null) passed++
    }
    console.log(`at the margin: ${passed}/${runs} false PASSes at alpha ${alpha}`)
    expect(passed).toBeLessThanOrEqual(allowed(alpha, runs))
  })

  it('a healthy canary passes on evidence: "≤ baseline + 1 pp and ≤ ×2 the baseline with 99 % confidence"', async () => {
    const random = seededRandom(45)
    // 0.6 errors/s in all: ruling out a doubled error rate takes a few minutes of them.
    const r = await run(random, { requestsPerSecond: 200, steps: [{ seconds: 600, weight: 50 }], baselineError: 0.003, canaryError: () => 0.003, alpha: 0.01 })
    expect(r.firstFail).toBeNull()
    expect(r.firstPass).not.toBeNull()
    console.log(`0.3 % vs 0.3 % at 50 % of 200 req/s: passed after ${r.firstPass} s, ${r.canaryRequestsJudged} canary requests`)
  })
})

describe('per-tick increments (controller/evaluate.ts)', () => {
  const T = Date.UTC(2025, 0, 1, 12, 0, 0)

  it.each<[string, number | null, number, number, [number, number] | null]>([
    ['first tick: from the step start, rounded up to a whole second', null, T + 370, T + 2_400, [T + 1_000, T + 2_000]],
    ['next tick: from where the previous one ended', T + 2_000, T + 370, T + 3_413, [T + 2_000, T + 3_000]],
    ['a new step: from its start when that is later', T + 2_000, T + 5_200, T + 8_100, [T + 6_000, T + 8_000]],
    ['less than a whole second: none yet', null, T + 370, T + 1_900, null],
    ['the same second again: none', T + 3_000, T + 370, T + 3_999, null],
  ])('%s', (_name, previousEnd, stepStart, now, expected) => {
    const w = incrementWindow(previousEnd, stepStart, now)
    expect(w === null ? null : [w.start.getTime(), w.end.getTime()]).toEqual(expected)
  })

  it('a failing increment query makes only the sequential gates INCONCLUSIVE, with the reason', async () => {
    const spec = assertSpec({
      name: 'sim',
      target: { kind: 'process', listen: '127.0.0.1:9', command: ['node', 'x.mjs'] },
      strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '1s' } }] } },
      gates: [
        { name: 'errors', signal: 'errorRate', judge: { kind: 'sequential' } },
        { name: 'slow', signal: 'latencyP95', judge: { kind: 'threshold', max: 1 } },
      ],
    })
    const metrics = new RedMetrics()
    const inner = new BuiltinProvider(() => metrics)
    // Answers the sliding window, fails the (shorter, whole-second) increment.
    const flaky: TelemetryProvider = {
      kind: 'builtin',
      sample: (q: WindowQuery, signal: AbortSignal) => (q.end.getTime() % 1000 === 0 ? Promise.reject(new Error('scrape failed')) : inner.sample(q, signal)),
      ping: async () => undefined,
    }
    for (let i = 0; i < 200; i++) metrics.record(i % 10 === 0 ? 'v2' : 'v1', { status: 200 }, 30, T + i * 20)
    const results = await evaluateGates({ spec, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: T, now: T + 4_500, providers: new Map([['builtin', flaky]]), timeoutMs: 1000 })
    expect(results[0]!.verdict).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'builtin failed: scrape failed' })
    expect(results[0]!.increment).toBeNull()
    expect(results[1]!.verdict.reason).not.toMatch(/scrape failed/)
  })

  /** Counts for any window: 100 requests a second, 10 % on the canary, 1 % errors on both sides, in whole requests. */
  const steady: TelemetryProvider = {
    kind: 'builtin',
    sample: async (q: WindowQuery) => {
      const seconds = (q.end.getTime() - q.start.getTime()) / 1000
      const version = (name: string, requests: number) => ({ version: name, requests, errors: Math.floor(requests / 100), values: { errorRate: 0.01 } })
      return { provider: 'builtin', start: q.start, end: q.end, canaryWeight: q.canaryWeight, canary: version('v2', Math.round(10 * seconds)), baseline: version('v1', Math.round(90 * seconds)) }
    },
    ping: async () => undefined,
  }
  const gateSpec = (alpha: number) =>
    assertSpec({
      name: 'sim',
      target: { kind: 'process', listen: '127.0.0.1:9', command: ['node', 'x.mjs'] },
      strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '1s' } }] } },
      gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha } }],
    })
  const tickAt = async (spec: ReturnType<typeof gateSpec>, runs: JudgeRuns, now: number) => {
    const [result] = await evaluateGates({ spec, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: T, now, providers: new Map([['builtin', steady]]), runs, timeoutMs: 1000 })
    return result!
  }

  it('keeps every increment of a long analysis in one running product: 4,000 ticks, 4,000 intervals (no sliding window)', async () => {
    const spec = gateSpec(0.01)
    const runs = new JudgeRuns()
    let last = null as Awaited<ReturnType<typeof tickAt>> | null
    for (let i = 1; i <= 4000; i++) last = await tickAt(spec, runs, T + i * 1000 + 250)
    expect(last!.verdict.evidence).toMatchObject({ intervals: 4000, canaryRequestsTotal: 40_000, baselineRequestsTotal: 360_000, since: new Date(T).toISOString() })
  })

  it('a gate whose settings change starts a new run; the same settings re-parsed keep it; a gate dropped and re-added starts afresh', async () => {
    const runs = new JudgeRuns()
    for (let i = 1; i <= 10; i++) await tickAt(gateSpec(0.01), runs, T + i * 1000 + 250)
    // A spec parsed again with the same settings (new objects): the run goes on.
    expect((await tickAt(gateSpec(0.01), runs, T + 11_250)).verdict.evidence['intervals']).toBe(11)
    // Another alpha: evidence restarts from this tick's increment, judged at the new settings only.
    const changed = await tickAt(gateSpec(0.05), runs, T + 12_250)
    expect(changed.verdict.evidence).toMatchObject({ intervals: 1, alpha: 0.05, since: new Date(T + 11_000).toISOString() })
    // A tick without the gate forgets its run.
    const none = assertSpec({ ...gateSpec(0.05), gates: [{ name: 'slow', signal: 'latencyP95', judge: { kind: 'threshold', max: 1 } }] })
    await evaluateGates({ spec: none, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: T, now: T + 13_250, providers: new Map([['builtin', steady]]), runs, timeoutMs: 1000 })
    expect((await tickAt(gateSpec(0.05), runs, T + 14_250)).verdict.evidence['intervals']).toBe(1)
  })

  it('the next increment starts where the one asked for ended, whatever end a provider reports (no request counted twice)', async () => {
    const spec = gateSpec(0.01)
    const runs = new JudgeRuns()
    const asked: [number, number][] = []
    // Reports every increment as ending at the epoch, or at an invalid date: neither may move where the next one starts.
    const lying: TelemetryProvider = {
      ...steady,
      sample: async (q: WindowQuery, signal: AbortSignal) => {
        const sample = await steady.sample(q, signal)
        if (q.end.getTime() % 1000 !== 0) return sample
        asked.push([q.start.getTime(), q.end.getTime()])
        return { ...sample, end: asked.length === 1 ? new Date(0) : new Date(Number.NaN) }
      },
    }
    for (const now of [T + 2_250, T + 4_250, T + 6_250]) {
      await evaluateGates({ spec, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: T, now, providers: new Map([['builtin', lying]]), runs, timeoutMs: 1000 })
    }
    expect(asked).toEqual([
      [T, T + 2_000],
      [T + 2_000, T + 4_000],
      [T + 4_000, T + 6_000],
    ])
  })

  it('a provider that does not answer within the timeout is INCONCLUSIVE with the timeout; one that answers has its signal released, not aborted later', async () => {
    const spec = gateSpec(0.01)
    const signals: AbortSignal[] = []
    const hanging: TelemetryProvider = {
      kind: 'builtin',
      sample: (_q: WindowQuery, signal: AbortSignal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      ping: async () => undefined,
    }
    const [hung] = await evaluateGates({ spec, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: T, now: T + 4_500, providers: new Map([['builtin', hanging]]), timeoutMs: 30 })
    expect(hung!.verdict).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'builtin did not answer within 30 ms' })
    const answering: TelemetryProvider = { ...steady, sample: (q: WindowQuery, signal: AbortSignal) => (signals.push(signal), steady.sample(q, signal)) }
    const [answered] = await evaluateGates({ spec, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: T, now: T + 4_500, providers: new Map([['builtin', answering]]), timeoutMs: 30 })
    expect(answered!.verdict.evidence['intervals']).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(signals.length).toBeGreaterThan(0)
    expect(signals.every((signal) => !signal.aborted)).toBe(true)
  })

  it('says "collecting", not missing data, in the first second of a step', async () => {
    const spec = specFor({ requestsPerSecond: 1, steps: [{ seconds: 1, weight: 10 }], baselineError: 0, canaryError: () => 0, alpha: 0.01 })
    const metrics = new RedMetrics()
    const [result] = await evaluateGates({ spec, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: T + 100, now: T + 900, providers: new Map([['builtin', new BuiltinProvider(() => metrics)]]), timeoutMs: 1000 })
    expect(result!.verdict.verdict).toBe('INCONCLUSIVE')
    expect(result!.verdict.evidence['state']).toBe('collecting')
  })
})
