import { describe, expect, it } from 'vitest'
import type { AnomalyJudgeSpec, GateSpec } from '../../schema/spec.ts'
import type { BuiltinSignal } from '../../schema/spec/signals.ts'
import type { Verdict } from '../../schema/store/models.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { MIN_REFERENCE, anomalyK, judgeAnomaly } from './anomaly.ts'
import { normalQuantile, studentQuantile } from './anomaly-stats.ts'
import { lognormal, loopWindows, seededRandom, simulateSeconds } from './sequential-sim.ts'
import { START, queryGate, signalGate } from './testing.ts'

const spec = (over: Partial<AnomalyJudgeSpec> = {}): AnomalyJudgeSpec => ({
  kind: 'anomaly',
  subject: 'canary',
  direction: 'increase',
  falseAlarmRate: 0.001,
  window: '10m',
  windowMs: 600_000,
  ...over,
})

/** A fixed wiggle around `center` (±spread·center), distinct values. */
function around(center: number, spread: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => center * (1 + spread * Math.sin(1.7 * i + 0.3)))
}

interface Minute {
  canary?: number | null
  baseline?: number | null
  requests?: number | null
}

/** One window per minute, minute 0 first; `seconds` shortens every window (for overlap rows). */
function minutes(rows: readonly Minute[], key: string, seconds = 60): WindowSample[] {
  return rows.map((row, i) => ({
    provider: 'builtin',
    start: new Date(START.getTime() + (i * 60 + 60 - seconds) * 1000),
    end: new Date(START.getTime() + (i + 1) * 60_000),
    canaryWeight: 100,
    canary: { version: 'v2', requests: row.requests === undefined ? 10_000 : row.requests, errors: 0, values: { [key]: row.canary ?? null } },
    baseline: { version: 'v1', requests: 10_000, errors: 0, values: { [key]: row.baseline ?? null } },
  }))
}

const series = (values: readonly (number | null)[], key = 'latencyP95'): WindowSample[] => minutes(values.map((canary) => ({ canary })), key)

const P95 = around(0.2, 0.05, 11)

interface Row {
  name: string
  signal?: BuiltinSignal
  history: WindowSample[]
  spec?: Partial<AnomalyJudgeSpec>
  verdict: Verdict
  state: string
  reason: string
}

const rows: Row[] = [
  { name: 'no windows', history: [], verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'no telemetry window for latencyP95 yet' },
  { name: 'steady, then usual', history: series([...P95, 0.205]), verdict: 'PASS', state: 'pass', reason: "no anomaly: canary's p95 205 ms; usual 20" },
  { name: 'steady, then twice as slow', history: series([...P95, 0.4]), verdict: 'FAIL', state: 'regression', reason: "anomaly: canary's p95 400 ms; usual 20" },
  { name: 'the reason states the false-alarm rate', history: series([...P95, 0.4]), verdict: 'FAIL', state: 'regression', reason: '(0.1 % false alarms per check)' },
  { name: 'faster is fine for direction increase', history: series([...P95, 0.1]), verdict: 'PASS', state: 'pass', reason: 'no anomaly' },
  { name: 'faster alarms for direction decrease', history: series([...P95, 0.1]), spec: { direction: 'decrease' }, verdict: 'FAIL', state: 'regression', reason: 'limit' },
  { name: 'either direction, drop', history: series([...P95, 0.1]), spec: { direction: 'either' }, verdict: 'FAIL', state: 'regression', reason: 'range' },
  { name: 'either direction, rise', history: series([...P95, 0.4]), spec: { direction: 'either' }, verdict: 'FAIL', state: 'regression', reason: 'range' },
  { name: 'too little history', history: series([...P95.slice(0, 5), 0.4]), verdict: 'INCONCLUSIVE', state: 'collecting', reason: `collecting history: 5 of the ${MIN_REFERENCE} earlier windows` },
  { name: 'latest value missing', history: series([...P95, null]), verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'no canary data for latencyP95 in the window' },
  { name: 'latest value NaN', history: series([...P95, Number.NaN]), verdict: 'INCONCLUSIVE', state: 'no-data', reason: '(got NaN)' },
  { name: 'gaps in the history are skipped', history: series([...P95, null, null, ...P95.slice(0, 3), 0.4]), verdict: 'FAIL', state: 'regression', reason: 'anomaly' },
  { name: 'thin latest window', history: minutes([...P95.map((canary) => ({ canary })), { canary: 0.4, requests: 12 }], 'latencyP95'), verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'only 12 canary requests in the window; need 60' },
  { name: 'older than window is not reference', history: series([...P95, 0.4]), spec: { window: '5m', windowMs: 300_000 }, verdict: 'INCONCLUSIVE', state: 'collecting', reason: 'from the last 5 min' },
  { name: 'minDeviation suppresses a small shift', history: series([...P95, 0.25]), spec: { minDeviation: 0.1 }, verdict: 'PASS', state: 'pass', reason: 'no anomaly' },
  { name: 'minDeviation lets a large one through', history: series([...P95, 0.4]), spec: { minDeviation: 0.1 }, verdict: 'FAIL', state: 'regression', reason: 'anomaly' },
  // The baseline's own series (e.g. the stable version during a blue/green switch).
  {
    name: 'subject baseline: its spike alarms',
    history: minutes([...P95.map((v) => ({ canary: v, baseline: v })), { canary: 0.2, baseline: 0.5 }], 'latencyP95'),
    spec: { subject: 'baseline' },
    verdict: 'FAIL',
    state: 'regression',
    reason: "anomaly: baseline's p95 500 ms",
  },
  {
    name: 'subject baseline: a canary spike is not its business',
    history: minutes([...P95.map((v) => ({ canary: v, baseline: v })), { canary: 0.9, baseline: 0.2 }], 'latencyP95'),
    spec: { subject: 'baseline' },
    verdict: 'PASS',
    state: 'pass',
    reason: "no anomaly: baseline's p95",
  },
  {
    name: 'subject baseline with no baseline at all',
    history: minutes([...P95.map((v) => ({ canary: v })), { canary: 0.2 }], 'latencyP95'),
    spec: { subject: 'baseline' },
    verdict: 'INCONCLUSIVE',
    state: 'no-data',
    reason: 'no baseline data for latencyP95',
  },
  // Error rates: a series of zeros has no spread; binomial noise sets the floor.
  { name: 'zero errors, then one in 10 000', signal: 'errorRate', history: series([...Array(11).fill(0), 0.0001], 'errorRate'), verdict: 'PASS', state: 'pass', reason: 'no anomaly' },
  { name: 'zero errors, then 5 %', signal: 'errorRate', history: series([...Array(11).fill(0), 0.05], 'errorRate'), verdict: 'FAIL', state: 'regression', reason: "anomaly: canary's error rate 5.0 %" },
]

describe('anomaly judge', () => {
  it.each(rows)('$name → $verdict', ({ signal = 'latencyP95', history, spec: over, verdict, state, reason }) => {
    const s = spec(over)
    const result = judgeAnomaly(s, history, signalGate(signal, s))
    expect(result.verdict).toBe(verdict)
    expect(result.evidence['state']).toBe(state)
    expect(result.reason).toContain(reason)
    expect(result.baseline).toBeNull()
    expect(JSON.parse(JSON.stringify(result.evidence))).toEqual(result.evidence)
  })

  it('never lets the current window, or one overlapping it, into its own reference', () => {
    // A fault began 40 s ago: the loop's overlapping windows of the last minute already show it.
    const steady = series(P95)
    const last = steady.at(-1)!.end.getTime()
    const overlapping = [20, 40, 60].map((lag, i) => ({
      ...steady[0]!,
      start: new Date(last + lag * 1000 - 60_000),
      end: new Date(last + lag * 1000),
      canary: { ...steady[0]!.canary, values: { latencyP95: 0.4 + i * 0.01 } },
    }))
    const result = judgeAnomaly(spec(), [...steady, ...overlapping], signalGate('latencyP95', spec()))
    expect(result.verdict).toBe('FAIL')
    // Only the steady minutes: the two earlier fault windows overlap the current one.
    expect(result.evidence['referenceWindows']).toBe(P95.length)
  })

  it("waits while the current window is much shorter than the reference's (a step's first ticks)", () => {
    const steady = series(P95)
    const last = steady.at(-1)!
    const short = { ...last, start: new Date(last.end.getTime()), end: new Date(last.end.getTime() + 10_000), canary: { ...last.canary, values: { latencyP95: 0.4 } } }
    const result = judgeAnomaly(spec(), [...steady, short], signalGate('latencyP95', spec()))
    expect(result).toMatchObject({ verdict: 'INCONCLUSIVE', reason: "collecting: the current window is 10 s, the reference's are 60 s" })
    expect(result.evidence['state']).toBe('collecting')
  })

  it('judges a provider query without a unit (no log scale, no floor)', () => {
    const s = spec()
    const history = series([...around(100, 0.05, 11), 180], 'queue')
    const result = judgeAnomaly(s, history, queryGate('queue', s))
    expect(result).toMatchObject({ verdict: 'FAIL', gate: 'queue' })
    expect(result.evidence['logScale']).toBe(false)
    expect(result.reason).toContain("canary's queue 180")
  })

  it('is seasonal-aware: the same phase of earlier seasons is the reference', () => {
    // A 10-minute cycle between 100 and 300 ms, for two hours; the current minute is at a peak.
    const cycle = (minute: number): number => 0.2 + 0.1 * Math.sin((2 * Math.PI * (minute + 0.5)) / 10) * (1 + 0.02 * Math.sin(minute))
    const values = Array.from({ length: 123 }, (_, minute) => cycle(minute))
    const seasonal = spec({ window: '2h', windowMs: 7_200_000, season: '10m', seasonMs: 600_000 })
    const plain = spec({ window: '2h', windowMs: 7_200_000 })
    expect(judgeAnomaly(seasonal, series(values), signalGate('latencyP95', seasonal)).verdict).toBe('PASS')
    // At a trough (minute 117, usually 100 ms) a doubling to 200 ms is a fault. Without the
    // season it looks like the middle of the whole cycle and goes unnoticed; with it, caught.
    const faulty = series([...values.slice(0, 117), 0.2])
    expect(judgeAnomaly(plain, faulty, signalGate('latencyP95', plain)).verdict).toBe('PASS')
    const caught = judgeAnomaly(seasonal, faulty, signalGate('latencyP95', seasonal))
    expect(caught.verdict).toBe('FAIL')
    expect(caught.reason).toContain('the same phase of earlier 10 min seasons')
  })

  it('with a season, too few earlier seasons is collecting', () => {
    const seasonal = spec({ window: '1h', windowMs: 3_600_000, season: '30m', seasonMs: 1_800_000 })
    const result = judgeAnomaly(seasonal, series(around(0.2, 0.05, 40)), signalGate('latencyP95', seasonal))
    expect(result).toMatchObject({ verdict: 'INCONCLUSIVE' })
    expect(result.evidence['state']).toBe('collecting')
    expect(result.reason).toContain('the same phase of earlier 30 min seasons')
  })

  it('invalid settings are inconclusive, never a pass', () => {
    const s = spec({ falseAlarmRate: 0 })
    expect(judgeAnomaly(s, series([...P95, 0.2]), signalGate('latencyP95', s)).verdict).toBe('INCONCLUSIVE')
  })
})

describe('the threshold k and the t quantile', () => {
  // Published Student-t quantiles (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
  it.each([
    [0.975, 10, 2.228],
    [0.99, 20, 2.528],
    [0.995, 5, 4.032],
    [0.9995, 10, 4.587],
    [0.999, 3, 10.215],
  ])('t(%s, ν = %s) ≈ %s', (p, nu, t) => {
    expect(Math.abs(studentQuantile(p, nu) / t - 1)).toBeLessThan(nu >= 5 ? 0.005 : 0.03)
  })

  it('k = t_ν(1 − a)·√(1 + π/(2n)) with ν = 0.37·(n − 1), never below 3', () => {
    expect(anomalyK(30, 0.001)).toBeCloseTo(studentQuantile(0.999, 0.37 * 29) * Math.sqrt(1 + Math.PI / 60), 12)
    expect(anomalyK(8, 0.01)).toBeCloseTo(studentQuantile(0.99, 3) * Math.sqrt(1 + Math.PI / 16), 12)
    // Larger references approach the normal quantile.
    expect(anomalyK(10_000, 0.001)).toBeCloseTo(normalQuantile(0.999), 2)
    expect(anomalyK(10, 0.001)).toBeGreaterThan(anomalyK(30, 0.001))
  })
})

/**
 * The false-alarm rate, measured on simulated healthy data with fixed seeds. The stated
 * bound: the observed per-check rate is at most a + 3 binomial standard deviations for
 * independent windows. On the loop's overlapping windows consecutive checks share data, so
 * alarms come in clusters and the count is far noisier: there the bound is 2·a.
 */
describe('false-alarm rate on healthy data', () => {
  function normal(random: () => number): number {
    return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random())
  }

  function rate(s: AnomalyJudgeSpec, gate: GateSpec, draw: (random: () => number) => number, seeds: number, perSeed: number): { alarms: number; checks: number } {
    let alarms = 0
    let checks = 0
    for (let seed = 1; seed <= seeds; seed++) {
      const random = seededRandom(seed)
      const history: WindowSample[] = []
      for (let i = 0; i < perSeed; i++) {
        history.push(...series([draw(random)], gate.signal ?? gate.name).map((w) => ({ ...w, start: new Date(w.start.getTime() + i * 60_000), end: new Date(w.end.getTime() + i * 60_000) })))
        const v = judgeAnomaly(s, history.slice(-30), gate)
        if (v.verdict === 'INCONCLUSIVE') continue
        checks++
        if (v.verdict === 'FAIL') alarms++
      }
    }
    return { alarms, checks }
  }

  function loopRate(signal: BuiltinSignal, a: number, seeds: number): { alarms: number; checks: number } {
    const s = spec({ falseAlarmRate: a, window: '10m', windowMs: 600_000 })
    let alarms = 0
    let checks = 0
    for (let seed = 1; seed <= seeds; seed++) {
      const random = seededRandom(100 + seed)
      const latency = signal === 'latencyP95' ? { baselineLatency: lognormal(0.1, 0.5), canaryLatency: lognormal(0.1, 0.5) } : {}
      const seconds = simulateSeconds(random, { requestsPerSecond: 20, weightAt: () => 50, baselineErrorAt: () => 0.01, canaryErrorAt: () => 0.01, ...latency }, 3600)
      const windows = loopWindows(seconds, [{ start: 0, seconds: 3600, weight: 50 }])
      for (let i = 0; i < windows.length; i++) {
        const v = judgeAnomaly(s, windows.slice(Math.max(0, i - 160), i + 1), signalGate(signal, s))
        if (v.verdict === 'INCONCLUSIVE') continue
        checks++
        if (v.verdict === 'FAIL') alarms++
      }
    }
    return { alarms, checks }
  }

  it.each([
    ['normal values, a = 0.01, increase', spec({ falseAlarmRate: 0.01 }), 'queue'],
    ['normal values, a = 0.01, either', spec({ falseAlarmRate: 0.01, direction: 'either' }), 'queue'],
    ['lognormal latencies, a = 0.01', spec({ falseAlarmRate: 0.01 }), 'latencyP95'],
    ['normal values, a = 0.001', spec({ falseAlarmRate: 0.001 }), 'queue'],
  ] as const)('%s', (_name, s, key) => {
    const gate = key === 'queue' ? queryGate('queue', s) : signalGate('latencyP95', s)
    const draw = key === 'queue' ? (r: () => number) => 100 + 10 * normal(r) : (r: () => number) => 0.2 * Math.exp(0.2 * normal(r))
    const { alarms, checks } = rate(s, gate, draw, 10, 510)
    expect(checks).toBeGreaterThanOrEqual(5000)
    const a = s.falseAlarmRate
    expect(alarms / checks).toBeLessThanOrEqual(a + 3 * Math.sqrt(a / checks))
  })

  it("the loop's overlapping windows, errorRate at a = 0.01: within a", () => {
    // Binomial noise is the floor of the spread here, so the detector is conservative.
    const { alarms, checks } = loopRate('errorRate', 0.01, 3)
    expect(checks).toBeGreaterThan(1500)
    expect(alarms / checks).toBeLessThanOrEqual(0.01)
  })

  it("the loop's overlapping windows, latencyP95 at a = 0.01: within 2.5·a", () => {
    // A p95 over ~600 requests is right-skewed even on a log scale, and the loop's checks
    // share data, so alarms cluster: over 16 simulated hours (seeds 101–116) the per-check
    // rate was 1.37·a; these 4 hours give 1.85·a, and the bound is 2.5·a.
    const { alarms, checks } = loopRate('latencyP95', 0.01, 4)
    expect(checks).toBeGreaterThan(2000)
    expect(alarms / checks).toBeLessThanOrEqual(0.025)
  })

  it('catches a clear regression on the same simulated traffic within a minute', () => {
    const s = spec({ falseAlarmRate: 0.001 })
    const random = seededRandom(5)
    // Errors go from 1 % to 5 % after 40 minutes (the 30-minute reference is full by then).
    const onset = 2400
    const seconds = simulateSeconds(random, { requestsPerSecond: 20, weightAt: () => 50, baselineErrorAt: () => 0.01, canaryErrorAt: (t) => (t < onset ? 0.01 : 0.05) }, onset + 300)
    const windows = loopWindows(seconds, [{ start: 0, seconds: onset + 300, weight: 50 }])
    const ends = windows.map((w) => (w.end.getTime() - START.getTime()) / 1000)
    const verdicts = windows.map((_, i) => (ends[i]! <= onset ? null : judgeAnomaly(s, windows.slice(Math.max(0, i - 400), i + 1), signalGate('errorRate', s)).verdict))
    const first = verdicts.findIndex((v) => v === 'FAIL')
    expect(first).toBeGreaterThan(0)
    expect(ends[first]! - onset).toBeLessThanOrEqual(60)
  })
})
