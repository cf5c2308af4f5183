import { describe, expect, it } from 'vitest'
import type { GateSpec, MannWhitneyJudgeSpec } from '../../schema/spec.ts'
import { MANN_WHITNEY_DEFAULTS } from '../../schema/spec.ts'
import type { Verdict } from '../../schema/store/models.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import type { GateVerdict } from './judge.ts'
import { applyKayentaScore } from './mann-whitney-group.ts'
import { type Classification, type KayentaMetric, type MetricResult, classifyMetric, kayentaScore, scoreMetrics } from './mann-whitney-score.ts'
import { judgeMannWhitney } from './mann-whitney.ts'
import { seededRandom } from './sequential-sim.ts'
import { START, queryGate, signalGate } from './testing.ts'

const spec = (over: Partial<MannWhitneyJudgeSpec> = {}): MannWhitneyJudgeSpec => ({
  kind: 'mannWhitney',
  direction: 'increase',
  allowedIncrease: 1,
  allowedDecrease: 1,
  critical: false,
  tolerance: 0.25,
  confidence: 0.98,
  weight: 1,
  minSamples: 10,
  maxSamples: 60,
  scoreThresholds: { ...MANN_WHITNEY_DEFAULTS.scoreThresholds },
  ...over,
})

/** Twelve values around `center` (a fixed wiggle, distinct values), scaled by `spread`. */
function around(center: number, spread = 0.1, n = 12, phase = 0): number[] {
  return Array.from({ length: n }, (_, i) => center * (1 + spread * Math.sin(1.3 * i + phase + 0.5)))
}

const BASE = around(0.2, 0.1)
const SAME = around(0.2, 0.1, 12, 1.1)
const UP = around(0.3, 0.1, 12, 0.7)
const DOWN = around(0.1, 0.1, 12, 0.3)

interface ClassRow {
  name: string
  metric: Partial<KayentaMetric>
  classification: Classification
  critical?: boolean
  reason?: string
}

const classRows: ClassRow[] = [
  { name: 'same distribution passes', metric: { canary: SAME, baseline: BASE }, classification: 'Pass' },
  { name: 'a clear rise is High', metric: { canary: UP, baseline: BASE }, classification: 'High', reason: 'the interval is above' },
  { name: 'a fall is not bad for direction increase', metric: { canary: DOWN, baseline: BASE }, classification: 'Pass' },
  { name: 'a fall is Low for direction either', metric: { canary: DOWN, baseline: BASE, direction: 'either' }, classification: 'Low' },
  { name: 'a fall is Low for direction decrease', metric: { canary: DOWN, baseline: BASE, direction: 'decrease' }, classification: 'Low' },
  { name: 'a rise is not bad for direction decrease', metric: { canary: UP, baseline: BASE, direction: 'decrease' }, classification: 'Pass' },
  { name: 'a rise below allowedIncrease passes', metric: { canary: UP, baseline: BASE, allowedIncrease: 1.6 }, classification: 'Pass' },
  { name: 'a rise at allowedIncrease fails', metric: { canary: UP, baseline: BASE, allowedIncrease: 1.4 }, classification: 'High' },
  { name: 'a fall above allowedDecrease passes', metric: { canary: DOWN, baseline: BASE, direction: 'either', allowedDecrease: 0.4 }, classification: 'Pass' },
  { name: 'a critical rise is a critical failure', metric: { canary: UP, baseline: BASE, critical: true }, classification: 'High', critical: true },
  { name: 'a critical rise below criticalIncrease is not', metric: { canary: UP, baseline: BASE, critical: true, criticalIncrease: 2 }, classification: 'High', critical: false },
  { name: 'a critical fall at criticalDecrease is', metric: { canary: DOWN, baseline: BASE, direction: 'either', critical: true, criticalDecrease: 0.6 }, classification: 'Low', critical: true },
  { name: 'criticalIncrease is ignored on a normal metric', metric: { canary: UP, baseline: BASE, criticalIncrease: 1 }, classification: 'High', critical: false },
  // Degenerate input: never a pass.
  { name: 'no canary values', metric: { canary: [], baseline: BASE }, classification: 'NoData', reason: '0 canary and 12 baseline values; need 10' },
  { name: 'no baseline values', metric: { canary: UP, baseline: [] }, classification: 'NoData', reason: 'need 10 of each' },
  { name: 'one value each', metric: { canary: [0.5], baseline: [0.1], minSamples: 1 }, classification: 'NoData', reason: 'too few for 98 % confidence' },
  { name: 'below minSamples', metric: { canary: UP.slice(0, 9), baseline: BASE }, classification: 'NoData', reason: '9 canary and 12 baseline values' },
  { name: 'all values equal', metric: { canary: Array(12).fill(0), baseline: Array(12).fill(0) }, classification: 'NoData', reason: 'all 24 values are 0: no spread to test' },
  { name: 'only NaN', metric: { canary: Array(12).fill(Number.NaN), baseline: BASE }, classification: 'NoData', reason: '0 canary' },
  { name: 'NaN dropped, rest judged', metric: { canary: [...UP, Number.NaN, Number.POSITIVE_INFINITY], baseline: BASE }, classification: 'High' },
  { name: 'confidence not achievable with 5 each', metric: { canary: UP.slice(0, 5), baseline: BASE.slice(0, 5), minSamples: 5, confidence: 0.999 }, classification: 'NoData', reason: 'too few for 99.9 % confidence' },
  { name: 'invalid confidence', metric: { canary: UP, baseline: BASE, confidence: 1 }, classification: 'NoData', reason: 'invalid settings' },
]

describe('Kayenta classifier', () => {
  it.each(classRows)('$name → $classification', ({ metric, classification, critical, reason }) => {
    const result = classifyMetric({ name: 'm', canary: [], baseline: [], ...metric })
    expect(result.classification).toBe(classification)
    if (critical !== undefined) expect(result.criticalFailure).toBe(critical)
    if (reason !== undefined) expect(result.reason).toContain(reason)
    if (classification === 'NoData') expect(result.criticalFailure).toBe(false)
  })

  it('tolerance: the interval must clear a fraction of the estimate (0.25 · |shift|)', () => {
    // Clear shift: estimate 2.7, 98 % interval [1.4, 4.0] (see mann-whitney-stats.test.ts).
    const canary = [12.1, 13.4, 11.8, 14.2, 12.9, 13.7, 12.5, 14.8]
    const baseline = [10.2, 9.8, 11.1, 10.5, 9.4, 10.9, 11.5, 10.0]
    const at = (tolerance: number): Classification => classifyMetric({ name: 'm', canary, baseline, tolerance, minSamples: 8 }).classification
    expect(at(0)).toBe('High')
    expect(at(0.5)).toBe('High') // 1.4 > 0.5 · 2.7 = 1.35
    expect(at(0.52)).toBe('Pass') // 1.4 < 0.52 · 2.7 = 1.404
  })

  it("compat 'kayenta' behaves as Kayenta itself on degenerate input (for benchmarks)", () => {
    const zeros = Array(12).fill(0)
    expect(classifyMetric({ name: 'm', canary: zeros, baseline: zeros, compat: 'kayenta' }).classification).toBe('Pass')
    expect(classifyMetric({ name: 'm', canary: BASE, baseline: [...BASE].reverse(), compat: 'kayenta' })).toMatchObject({ classification: 'Pass', reason: 'the canary and baseline data are identical' })
    // One value each: R's widest interval (level 0 here) is [d, d], so a rise is High, as in Kayenta.
    expect(classifyMetric({ name: 'm', canary: [0.5], baseline: [0.1], compat: 'kayenta' }).classification).toBe('High')
    expect(classifyMetric({ name: 'm', canary: [0.5], baseline: [0.1] }).classification).toBe('NoData')
  })

  it("uses a mean ratio of 1 against a baseline mean of 0 (as Kayenta)", () => {
    const canary = around(0.01, 0.5)
    const result = classifyMetric({ name: 'm', canary, baseline: Array(12).fill(0) })
    expect(result).toMatchObject({ classification: 'High', ratio: 1 })
    expect(classifyMetric({ name: 'm', canary, baseline: Array(12).fill(0), allowedIncrease: 1.1 }).classification).toBe('Pass')
  })
})

function metric(name: string, classification: Classification, weight = 1, criticalFailure = false): MetricResult {
  return { name, classification, criticalFailure, weight, reason: '', ratio: null, test: null, canarySamples: 0, baselineSamples: 0, dropped: 0, bound: null }
}

interface ScoreRow {
  name: string
  metrics: MetricResult[]
  thresholds?: { pass: number; marginal: number }
  verdict: Verdict
  score: number
  outcome: string
}

const passes = (n: number): MetricResult[] => Array.from({ length: n }, (_, i) => metric(`p${i}`, 'Pass'))

const scoreRows: ScoreRow[] = [
  { name: 'all pass', metrics: passes(3), verdict: 'PASS', score: 100, outcome: 'pass' },
  { name: '19 of 20 is exactly the pass threshold', metrics: [...passes(19), metric('h', 'High')], verdict: 'PASS', score: 95, outcome: 'pass' },
  { name: '3 of 4 is exactly marginal', metrics: [...passes(3), metric('h', 'High')], verdict: 'INCONCLUSIVE', score: 75, outcome: 'marginal' },
  { name: '2 of 3 is below marginal', metrics: [...passes(2), metric('h', 'High')], verdict: 'FAIL', score: 66.67, outcome: 'fail' },
  { name: 'weights count, not metrics', metrics: [metric('p', 'Pass', 3), metric('h', 'High', 1)], verdict: 'INCONCLUSIVE', score: 75, outcome: 'marginal' },
  { name: 'a heavy failing metric', metrics: [metric('p', 'Pass', 1), metric('h', 'Low', 3)], verdict: 'FAIL', score: 25, outcome: 'fail' },
  { name: 'a critical failure scores 0', metrics: [...passes(9), metric('c', 'High', 1, true)], verdict: 'FAIL', score: 0, outcome: 'fail' },
  { name: 'no data never passes', metrics: [...passes(19), metric('n', 'NoData')], verdict: 'INCONCLUSIVE', score: 95, outcome: 'no-data' },
  { name: 'no data cannot rescue a failed score', metrics: [metric('h1', 'High'), metric('h2', 'High'), metric('n', 'NoData')], verdict: 'FAIL', score: 0, outcome: 'fail' },
  { name: 'all no data', metrics: [metric('n', 'NoData')], verdict: 'INCONCLUSIVE', score: 0, outcome: 'no-data' },
  { name: 'no metrics', metrics: [], verdict: 'INCONCLUSIVE', score: 0, outcome: 'no-data' },
  { name: 'own thresholds', metrics: [...passes(4), metric('h', 'High')], thresholds: { pass: 80, marginal: 50 }, verdict: 'PASS', score: 80, outcome: 'pass' },
  { name: 'pass equal to marginal: no marginal band', metrics: [...passes(3), metric('h', 'High')], thresholds: { pass: 80, marginal: 80 }, verdict: 'FAIL', score: 75, outcome: 'fail' },
]

describe("Kayenta's weighted score", () => {
  it.each(scoreRows)('$name → $verdict ($score)', ({ metrics, thresholds, verdict, score, outcome }) => {
    const result = scoreMetrics(metrics, thresholds)
    expect(result.verdict).toBe(verdict)
    expect(result.score).toBe(score)
    expect(result.outcome).toBe(outcome)
    expect(result.reason).toMatch(/^Kayenta score/)
  })

  it('kayentaScore judges plain arrays (the benchmark entry point)', () => {
    const result = kayentaScore(
      [
        { name: 'errors', canary: SAME, baseline: BASE, direction: 'increase' },
        { name: 'p95', canary: UP, baseline: BASE, direction: 'increase' },
      ],
      { pass: 95, marginal: 75 },
    )
    expect(result).toMatchObject({ verdict: 'FAIL', score: 50, outcome: 'fail' })
    expect(result.metrics.map((m) => m.classification)).toEqual(['Pass', 'High'])
    expect(result.reason).toContain('errors Pass, p95 High')
  })
})

/** Per-minute windows (disjoint), one per value, for `key`; requests large unless given. */
function minutes(canary: readonly (number | null)[], baseline: readonly (number | null)[], key = 'latencyP95', requests = 10_000): WindowSample[] {
  return canary.map((value, i) => ({
    provider: 'builtin',
    start: new Date(START.getTime() + i * 60_000),
    end: new Date(START.getTime() + (i + 1) * 60_000),
    canaryWeight: 10,
    canary: { version: 'v2', requests, errors: 0, values: { [key]: value } },
    baseline: { version: 'v1', requests: requests * 9, errors: 0, values: { [key]: baseline[i] ?? null } },
  }))
}

interface JudgeRow {
  name: string
  history: WindowSample[]
  spec?: Partial<MannWhitneyJudgeSpec>
  verdict: Verdict
  state: string
  reason: string
}

const p95 = (s: MannWhitneyJudgeSpec): GateSpec => signalGate('latencyP95', s)

const judgeRows: JudgeRow[] = [
  { name: 'no windows', history: [], verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'no telemetry window for latencyP95 yet' },
  { name: 'healthy canary', history: minutes(SAME, BASE), verdict: 'PASS', state: 'pass', reason: 'p95 Pass: shift' },
  { name: 'slower canary', history: minutes(UP, BASE), verdict: 'FAIL', state: 'regression', reason: 'p95 High: shift +' },
  { name: 'reason carries units', history: minutes(UP, BASE), verdict: 'FAIL', state: 'regression', reason: 'ms (98 % CI +' },
  { name: 'too few windows: collecting', history: minutes(UP.slice(0, 6), BASE), verdict: 'INCONCLUSIVE', state: 'collecting', reason: 'collecting windows: p95 has 6 of the 10 disjoint windows' },
  { name: 'latest window without a canary value', history: minutes([...UP, null], [...BASE, 0.2]), verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'no canary value for latencyP95 in the latest window' },
  { name: 'latest window without a baseline value', history: minutes([...SAME, 0.2], [...BASE, null]), verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'no baseline value' },
  { name: 'latest window NaN', history: minutes([...SAME, Number.NaN], [...BASE, 0.2]), verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'no canary value' },
  { name: 'thin windows are not samples', history: minutes(UP, BASE, 'latencyP95', 30), verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'only 30 canary requests in the window; need 60' },
  { name: 'all equal (zero errors everywhere)', history: minutes(Array(12).fill(0), Array(12).fill(0), 'errorRate'), verdict: 'INCONCLUSIVE', state: 'no-data', reason: 'no spread to test' },
  { name: 'maxSamples keeps the most recent', history: minutes([...UP, ...SAME], [...BASE, ...BASE]), spec: { maxSamples: 12 }, verdict: 'PASS', state: 'pass', reason: 'over 12 canary and 12 baseline windows' },
]

describe('mannWhitney judge', () => {
  it.each(judgeRows)('$name → $verdict', ({ history, spec: over, verdict, state, reason }) => {
    const s = spec(over)
    const gate = history[0]?.canary.values['errorRate'] !== undefined ? signalGate('errorRate', s) : p95(s)
    const result = judgeMannWhitney(s, history, gate)
    expect(result.verdict).toBe(verdict)
    expect(result.evidence['state']).toBe(state)
    expect(result.reason).toContain(reason)
    expect(JSON.parse(JSON.stringify(result.evidence))).toEqual(result.evidence)
  })

  it('uses only windows that share no second (the loop overlaps its windows)', () => {
    // The loop's windows: every 5 s, each reaching back 60 s. Only every twelfth is disjoint.
    const history: WindowSample[] = []
    for (let t = 60; t <= 60 * 15; t += 5) {
      const i = Math.floor(t / 60) % 12
      history.push({
        provider: 'builtin',
        start: new Date(START.getTime() + (t - 60) * 1000),
        end: new Date(START.getTime() + t * 1000),
        canaryWeight: 10,
        canary: { version: 'v2', requests: 1000, errors: 0, values: { latencyP95: SAME[i]! } },
        baseline: { version: 'v1', requests: 9000, errors: 0, values: { latencyP95: BASE[i]! } },
      })
    }
    const result = judgeMannWhitney(spec(), history, p95(spec()))
    expect(result.evidence['windows']).toEqual({ used: 15, overlapping: history.length - 15, unusable: 0 })
    expect(result.verdict).toBe('PASS')
  })

  it('judges a provider query by the gate name', () => {
    const s = spec()
    const history = minutes(UP, BASE, 'saturation')
    const result = judgeMannWhitney(s, history, queryGate('saturation', s))
    expect(result).toMatchObject({ verdict: 'FAIL', gate: 'saturation' })
    expect(result.reason).toContain('saturation High')
  })
})

describe('the Kayenta score across gates', () => {
  const verdictOf = (gate: GateSpec, history: WindowSample[]): { gate: GateSpec; verdict: GateVerdict } => ({ gate, verdict: judgeMannWhitney(gate.judge as MannWhitneyJudgeSpec, history, gate) })
  const named = (name: string, over: Partial<MannWhitneyJudgeSpec> = {}, dryRun = false): GateSpec => ({ ...p95(spec(over)), name, dryRun })

  it('gives every mannWhitney gate the group verdict, leaving others alone', () => {
    const other = { gate: signalGate('errorRate', { kind: 'threshold', max: 0.05 }), verdict: { gate: 'g', verdict: 'PASS', value: 0, baseline: null, reason: 'fine', evidence: {} } as GateVerdict }
    const good = verdictOf(named('good'), minutes(SAME, BASE))
    const bad = verdictOf(named('bad'), minutes(UP, BASE))
    const out = applyKayentaScore([other, good, bad])
    expect(out[0]).toBe(other)
    expect(out[1]!.verdict.verdict).toBe('FAIL')
    expect(out[2]!.verdict.verdict).toBe('FAIL')
    expect(out[1]!.verdict.reason).toContain('Kayenta score 50 below marginal')
    expect(out[1]!.verdict.reason).toContain('This metric: p95 Pass')
    expect(out[1]!.verdict.evidence['metricVerdict']).toBe('PASS')
    expect(out[1]!.verdict.evidence['kayenta']).toMatchObject({ score: 50, outcome: 'fail', pass: 95, marginal: 75 })
  })

  it('a light failing metric among heavy passing ones passes, as in Kayenta', () => {
    const out = applyKayentaScore([verdictOf(named('good', { weight: 19 }), minutes(SAME, BASE)), verdictOf(named('bad'), minutes(UP, BASE))])
    expect(out.map((e) => e.verdict.verdict)).toEqual(['PASS', 'PASS'])
  })

  it('a marginal score is collecting, not missing data', () => {
    const out = applyKayentaScore([verdictOf(named('good', { weight: 3 }), minutes(SAME, BASE)), verdictOf(named('bad'), minutes(UP, BASE))])
    expect(out.map((e) => e.verdict.verdict)).toEqual(['INCONCLUSIVE', 'INCONCLUSIVE'])
    expect(out[0]!.verdict.evidence['state']).toBe('collecting')
  })

  it('a gate without data keeps the group from passing', () => {
    const missing = { gate: named('missing'), verdict: { gate: 'missing', verdict: 'INCONCLUSIVE', value: null, baseline: null, reason: 'prometheus failed: timeout', evidence: { reason: 'timeout' } } as GateVerdict }
    const out = applyKayentaScore([verdictOf(named('good', { weight: 19 }), minutes(SAME, BASE)), missing])
    expect(out.map((e) => e.verdict.verdict)).toEqual(['INCONCLUSIVE', 'INCONCLUSIVE'])
    expect(out[0]!.verdict.evidence['state']).toBe('no-data')
  })

  it('dry-run gates stay out of the score', () => {
    const dry = verdictOf(named('dry', {}, true), minutes(UP, BASE))
    const out = applyKayentaScore([verdictOf(named('good'), minutes(SAME, BASE)), dry])
    expect(out.map((e) => e.verdict.verdict)).toEqual(['PASS', 'FAIL'])
    expect(out[1]).toBe(dry)
  })

  it('a critical failure fails the whole group', () => {
    const out = applyKayentaScore([verdictOf(named('good', { weight: 99 }), minutes(SAME, BASE)), verdictOf(named('bad', { critical: true, criticalIncrease: 1 }), minutes(UP, BASE))])
    expect(out.map((e) => e.verdict.verdict)).toEqual(['FAIL', 'FAIL'])
    expect(out[0]!.verdict.reason).toContain('a critical metric failed')
  })
})

describe('behaviour on simulated data (fixed seeds)', () => {
  function normalSampler(seed: number): () => number {
    const random = seededRandom(seed)
    return () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random())
  }

  it('a healthy canary is rarely classified High: observed rate within the test level', () => {
    // Same distribution for both: High needs the 98 % interval above 0 (≤ 1 % one-sided) and more.
    const z = normalSampler(7)
    const runs = 2000
    let high = 0
    for (let run = 0; run < runs; run++) {
      const canary = Array.from({ length: 20 }, () => 0.2 + 0.02 * z())
      const baseline = Array.from({ length: 20 }, () => 0.2 + 0.02 * z())
      if (classifyMetric({ name: 'm', canary, baseline }).classification === 'High') high++
    }
    // Expected ≤ 1 % (20 of 2000); 3 binomial standard deviations above that is 33.
    expect(high).toBeLessThanOrEqual(33)
  })

  it('a +20 % latency shift over 20 windows is caught nearly always', () => {
    const z = normalSampler(11)
    let high = 0
    for (let run = 0; run < 200; run++) {
      const canary = Array.from({ length: 20 }, () => 0.24 * Math.exp(0.1 * z()))
      const baseline = Array.from({ length: 20 }, () => 0.2 * Math.exp(0.1 * z()))
      if (classifyMetric({ name: 'p95', canary, baseline }).classification === 'High') high++
    }
    expect(high).toBeGreaterThanOrEqual(190)
  })
})
