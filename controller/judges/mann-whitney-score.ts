/**
 * Kayenta's NetflixACAJudge, re-implemented: the Mann-Whitney metric classifier and the
 * weighted score over metrics. Pure, no I/O; also the entry point for benchmarks
 * ({@link kayentaScore}), which call it with plain arrays.
 *
 * Per metric (Kayenta's MannWhitneyClassifier with tolerance 0.25 and confLevel 0.98):
 * 1. Non-finite values are dropped (Kayenta's nanStrategy "remove").
 * 2. NoData when either version has fewer than `minSamples` values, when all pooled values
 *    are equal (nothing to rank), or when the requested confidence is not achievable with
 *    so few values. Kayenta classifies the last two as Pass and still scores a single
 *    value; Sentra never passes on missing or degenerate data.
 * 3. The Wilcoxon rank-sum test of canary against baseline gives the Hodges-Lehmann shift
 *    estimate and its confidence interval (mann-whitney-stats.ts). The mean ratio
 *    canary/baseline is the effect size (1 when the baseline's mean is 0, as Kayenta).
 * 4. High when the direction allows a rise, the interval's lower end is above
 *    tolerance·|estimate|, and the ratio is at least allowedIncrease; Low symmetrically
 *    (upper end below −tolerance·|estimate|, ratio at most allowedDecrease); else Pass.
 * 5. A critical metric's High with ratio ≥ criticalIncrease (Low with ratio ≤
 *    criticalDecrease) is a critical failure: the whole score is 0.
 *
 * The score (Kayenta's WeightedSumScorer with one group per metric, the group weight being
 * the metric's weight): 100 · (weight of Pass metrics) / (total weight). Score ≥ pass →
 * PASS, below marginal → FAIL, in between (Kayenta's "marginal") → INCONCLUSIVE. Where a
 * metric has no data, Kayenta would count it as not passing; Sentra decides only when the
 * missing metrics cannot change the outcome: FAIL when even all of them passing would leave
 * the score below marginal (or a critical metric failed), otherwise INCONCLUSIVE.
 */
import type { Verdict } from '../../schema/store/models.ts'
import { type WilcoxonResult, wilcoxonTest } from './mann-whitney-stats.ts'

export type Direction = 'increase' | 'decrease' | 'either'
export type Classification = 'High' | 'Low' | 'Pass' | 'NoData'

/** Kayenta's defaults, as its NetflixACAJudge uses them (direction aside: see docs/judges.md). */
export const KAYENTA_DEFAULTS = {
  direction: 'increase' as Direction,
  allowedIncrease: 1,
  allowedDecrease: 1,
  criticalIncrease: 1,
  criticalDecrease: 1,
  tolerance: 0.25,
  confidence: 0.98,
  weight: 1,
  minSamples: 10,
}

export interface ScoreThresholds {
  pass: number
  marginal: number
}

export const KAYENTA_THRESHOLDS: Readonly<ScoreThresholds> = { pass: 95, marginal: 75 }

/** One metric to classify: the canary's and the baseline's values (one per interval). */
export interface KayentaMetric {
  name: string
  canary: readonly number[]
  baseline: readonly number[]
  direction?: Direction
  allowedIncrease?: number
  allowedDecrease?: number
  critical?: boolean
  criticalIncrease?: number
  criticalDecrease?: number
  tolerance?: number
  confidence?: number
  weight?: number
  minSamples?: number
  /**
   * 'sentra' (default): degenerate input is NoData, as everywhere in Sentra. 'kayenta': as
   * Kayenta itself, for benchmarks that compare with it: all values equal (or identical
   * samples) is Pass, no minimum beyond one value per side (minSamples defaults to 1), and an
   * unreachable confidence level is used at the level reached (as R does).
   */
  compat?: 'sentra' | 'kayenta'
}

export interface MetricResult {
  name: string
  classification: Classification
  /** A critical metric failed (High ≥ criticalIncrease or Low ≤ criticalDecrease): the score is 0. */
  criticalFailure: boolean
  weight: number
  /** Plain words, without units (the judge adds its own with units). */
  reason: string
  /** Mean ratio canary/baseline (1 when the baseline's mean is 0); null without data. */
  ratio: number | null
  test: WilcoxonResult | null
  canarySamples: number
  baselineSamples: number
  /** Values dropped because they were not finite numbers. */
  dropped: number
  /** tolerance·|estimate|: how far the interval must clear 0. */
  bound: number | null
}

export interface KayentaScore {
  verdict: Verdict
  outcome: 'pass' | 'marginal' | 'fail' | 'no-data'
  /** Kayenta's score: metrics without data count as not passing; 0 after a critical failure. */
  score: number
  /** The score if every metric without data passed: what Sentra's FAIL rests on. */
  bestScore: number
  thresholds: ScoreThresholds
  metrics: MetricResult[]
  reason: string
}

function mean(values: readonly number[]): number {
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

function shown(value: number): string {
  return String(Number(value.toPrecision(4)))
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  const x = [...a].sort((p, q) => p - q)
  const y = [...b].sort((p, q) => p - q)
  return x.every((v, i) => v === y[i])
}

/** Whether a two-sided interval at `confidence` is achievable for samples of m and n (exact path). */
function achievable(m: number, n: number, confidence: number): boolean {
  // The widest exact interval, [min D, max D], has level 1 − 2·P(W = 0) = 1 − 2/C(m+n, m).
  let arrangements = 1
  for (let i = 1; i <= Math.min(m, n); i++) arrangements = (arrangements * (Math.max(m, n) + i)) / i
  return 1 - 2 / arrangements >= confidence - 1e-12
}

/** Kayenta's Mann-Whitney classification of one metric. */
export function classifyMetric(metric: KayentaMetric): MetricResult {
  const direction = metric.direction ?? KAYENTA_DEFAULTS.direction
  const allowedIncrease = metric.allowedIncrease ?? KAYENTA_DEFAULTS.allowedIncrease
  const allowedDecrease = metric.allowedDecrease ?? KAYENTA_DEFAULTS.allowedDecrease
  const criticalIncrease = metric.criticalIncrease ?? KAYENTA_DEFAULTS.criticalIncrease
  const criticalDecrease = metric.criticalDecrease ?? KAYENTA_DEFAULTS.criticalDecrease
  const tolerance = metric.tolerance ?? KAYENTA_DEFAULTS.tolerance
  const confidence = metric.confidence ?? KAYENTA_DEFAULTS.confidence
  const weight = metric.weight ?? KAYENTA_DEFAULTS.weight
  const kayenta = metric.compat === 'kayenta'
  const minSamples = Math.max(1, metric.minSamples ?? (kayenta ? 1 : KAYENTA_DEFAULTS.minSamples))
  const canary = metric.canary.filter(Number.isFinite)
  const baseline = metric.baseline.filter(Number.isFinite)
  const dropped = metric.canary.length - canary.length + (metric.baseline.length - baseline.length)
  const base = { name: metric.name, weight, canarySamples: canary.length, baselineSamples: baseline.length, dropped }
  const noData = (reason: string, ratio: number | null = null): MetricResult => ({
    ...base,
    classification: 'NoData',
    criticalFailure: false,
    reason,
    ratio,
    test: null,
    bound: null,
  })

  if (!(confidence > 0 && confidence < 1) || !(tolerance >= 0) || !(weight > 0)) {
    return noData(`invalid settings (confidence ${confidence}, tolerance ${tolerance}, weight ${weight})`)
  }
  if (canary.length < minSamples || baseline.length < minSamples) {
    return noData(`${canary.length} canary and ${baseline.length} baseline values; need ${minSamples} of each`)
  }
  const ratio = mean(baseline) === 0 ? 1 : mean(canary) / mean(baseline)
  const first = canary[0]!
  if (kayenta && sameValues(canary, baseline)) return { ...noData('the canary and baseline data are identical', 1), classification: 'Pass' }
  if ([...canary, ...baseline].every((v) => v === first)) {
    const reason = `all ${canary.length + baseline.length} values are ${shown(first)}: no spread to test`
    return kayenta ? { ...noData(reason, 1), classification: 'Pass' } : noData(reason, ratio)
  }
  if (!kayenta && !achievable(canary.length, baseline.length, confidence)) {
    return noData(`${canary.length} canary and ${baseline.length} baseline values are too few for ${shown(confidence * 100)} % confidence`, ratio)
  }

  const test = wilcoxonTest(canary, baseline, confidence)
  const bound = tolerance * Math.abs(test.estimate)
  const interval = `shift ${shown(test.estimate)} (${shown(test.confLevel * 100)} % CI ${shown(test.lower)} to ${shown(test.upper)}, p ${shown(test.pValue)}), mean ratio ×${shown(ratio)}`
  const high = direction !== 'decrease' && test.lower > bound && ratio >= allowedIncrease
  const low = direction !== 'increase' && test.upper < -bound && ratio <= allowedDecrease
  const result = (classification: Classification, criticalFailure: boolean, reason: string): MetricResult => ({
    ...base,
    classification,
    criticalFailure,
    reason,
    ratio,
    test,
    bound,
  })
  if (high) {
    const critical = metric.critical === true && ratio >= criticalIncrease
    return result('High', critical, `High${critical ? ' (critical)' : ''}: ${interval}; the interval is above +${shown(bound)} and the ratio at least ×${shown(allowedIncrease)}`)
  }
  if (low) {
    const critical = metric.critical === true && ratio <= criticalDecrease
    return result('Low', critical, `Low${critical ? ' (critical)' : ''}: ${interval}; the interval is below −${shown(bound)} and the ratio at most ×${shown(allowedDecrease)}`)
  }
  return result('Pass', false, `Pass: ${interval}`)
}

function roundScore(score: number): number {
  return Math.round(score * 100) / 100
}

/** Kayenta's weighted score over classified metrics, and Sentra's verdict on it. */
export function scoreMetrics(metrics: readonly MetricResult[], thresholds: ScoreThresholds = KAYENTA_THRESHOLDS): KayentaScore {
  const summary = metrics.map((m) => `${m.name} ${m.classification}${m.criticalFailure ? ' (critical)' : ''}`).join(', ')
  const limits = `pass ≥ ${thresholds.pass}, marginal ≥ ${thresholds.marginal}`
  const out = (verdict: Verdict, outcome: KayentaScore['outcome'], score: number, bestScore: number, why: string): KayentaScore => ({
    verdict,
    outcome,
    score: roundScore(score),
    bestScore: roundScore(bestScore),
    thresholds: { ...thresholds },
    metrics: [...metrics],
    reason: `Kayenta score ${why} (${limits})${summary === '' ? '' : `: ${summary}`}`,
  })
  if (metrics.length === 0) return out('INCONCLUSIVE', 'no-data', 0, 0, 'has no metrics')
  if (metrics.some((m) => m.criticalFailure)) return out('FAIL', 'fail', 0, 0, '0: a critical metric failed')

  let total = 0
  let passing = 0
  let missing = 0
  for (const m of metrics) {
    total += m.weight
    if (m.classification === 'Pass') passing += m.weight
    if (m.classification === 'NoData') missing += m.weight
  }
  // Multiply first: 100·19/20 is exactly 95, 0.95·100 is not.
  const score = (100 * passing) / total
  const bestScore = (100 * (passing + missing)) / total
  const text = shown(roundScore(score))
  if (bestScore < thresholds.marginal) {
    const why = missing > 0 ? `${text}, at most ${shown(roundScore(bestScore))} whatever the metrics without data show, below marginal` : `${text} below marginal`
    return out('FAIL', 'fail', score, bestScore, why)
  }
  if (missing > 0) return out('INCONCLUSIVE', 'no-data', score, bestScore, `not decided: some metrics have no data yet (${text} so far)`)
  if (score >= thresholds.pass) return out('PASS', 'pass', score, bestScore, `${text} passes`)
  return out('INCONCLUSIVE', 'marginal', score, bestScore, `${text} is marginal`)
}

/**
 * Kayenta's judgement of a set of metrics, for benchmarks and tools:
 * `kayentaScore([{ name: 'errors', canary: [...], baseline: [...], direction: 'increase' }], { pass: 95, marginal: 75 })`.
 */
export function kayentaScore(metrics: readonly KayentaMetric[], thresholds: ScoreThresholds = KAYENTA_THRESHOLDS): KayentaScore {
  return scoreMetrics(metrics.map(classifyMetric), thresholds)
}
