/**
 * The mannWhitney judge: Kayenta's NetflixACAJudge with the Mann-Whitney classifier, for
 * users who come from Spinnaker (the classifier and score: mann-whitney-score.ts).
 *
 * The samples. Kayenta compares two time series, one value per interval for each version
 * over the analysis. Here one value per window: the gate's value for the canary and for the
 * baseline in each window of the rollout's history (the loop keeps up to 600 per provider),
 * keeping only windows that share no second with one another (stats/increments.ts
 * `disjointSamples`), because the loop's windows overlap (each reaches 60 s back) and a
 * rank test fed overlapping windows counts the same requests many times and would
 * overstate its confidence. A window is used when both versions have a finite value and,
 * where the provider counts requests, enough of them for that value (reading.ts
 * `minRequestsFor`: 20, or 60/200 for p95/p99). The most recent `maxSamples` such windows
 * are compared. With the current loop that is one window per tick for a step's first tick,
 * then one per minute, so `minSamples: 10` takes about ten minutes of analysis, close to
 * Kayenta's own advice (about 50 points at 60 s); a loop that keeps each tick's own interval
 * would give one per tick.
 *
 * The latest window must itself carry both values: a gate is never judged on stale samples
 * while its provider returns nothing now.
 *
 * This judge's verdict is the metric's own (High/Low → FAIL, Pass → PASS, NoData →
 * INCONCLUSIVE); the evaluation loop then combines every mannWhitney gate of the
 * application into one Kayenta score (mann-whitney-group.ts), which becomes each of those
 * gates' verdict.
 *
 * Pure: no I/O, no clock.
 */
import type { GateSpec, MannWhitneyJudgeSpec } from '../../schema/spec.ts'
import type { Json } from '../../schema/store/models.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { medianOf } from './anomaly-stats.ts'
import { type ValueUnit, formatValue, labelOf, unitOf, valueKey } from './format.ts'
import type { GateVerdict, Judge } from './judge.ts'
import { type MetricResult, classifyMetric } from './mann-whitney-score.ts'
import { type Thresholds, evidenceOf, finite, minRequestsFor } from './reading.ts'
import { disjointSamples } from './stats/increments.ts'

const KIND = 'mannWhitney'

/** Why a window cannot give a sample, or null when it can. */
function unusable(sample: WindowSample, key: string): string | null {
  const canary = sample.canary.values[key]
  const baseline = sample.baseline.values[key]
  if (typeof canary !== 'number' || !Number.isFinite(canary)) return `no canary value for ${key}`
  if (typeof baseline !== 'number' || !Number.isFinite(baseline)) return `no baseline value for ${key}`
  const needed = minRequestsFor(key)
  for (const [side, requests] of [['canary', sample.canary.requests], ['baseline', sample.baseline.requests]] as const) {
    if (requests !== null && requests < needed) return `only ${requests} ${side} request${requests === 1 ? '' : 's'} in the window; need ${needed}`
  }
  return null
}

function signed(value: number, unit: ValueUnit): string {
  return `${value >= 0 ? '+' : '−'}${formatValue(Math.abs(value), unit)}`
}

/** The metric's sentence with units: "p95 High: shift +160 ms (98 % CI +120 ms to +210 ms) …". */
function sentence(label: string, unit: ValueUnit, r: MetricResult, canaryMedian: number | null, baselineMedian: number | null): string {
  const medians =
    canaryMedian === null || baselineMedian === null
      ? ''
      : `; median ${formatValue(canaryMedian, unit)} vs ${formatValue(baselineMedian, unit)} baseline`
  const counts = `over ${r.canarySamples} canary and ${r.baselineSamples} baseline windows`
  if (r.test === null) return `${label} ${r.classification}: ${r.reason}${medians}`
  const t = r.test
  const level = Number((t.confLevel * 100).toPrecision(4))
  const ratio = r.ratio === null ? '' : `, mean ratio ×${Number(r.ratio.toPrecision(3))}`
  return `${label} ${r.classification}${r.criticalFailure ? ' (critical)' : ''}: shift ${signed(t.estimate, unit)} (${level} % CI ${signed(t.lower, unit)} to ${signed(t.upper, unit)}, p ${Number(t.pValue.toPrecision(3))})${ratio} ${counts}${medians}`
}

/** Pure: classifies the gate's metric over the disjoint windows of `history`. */
export function judgeMannWhitney(spec: MannWhitneyJudgeSpec, history: readonly WindowSample[], gate: GateSpec): GateVerdict {
  const key = valueKey(gate)
  const label = labelOf(gate)
  const unit = unitOf(gate)
  const thresholds: Thresholds = {
    allowedIncrease: spec.allowedIncrease,
    allowedDecrease: spec.allowedDecrease,
    criticalIncrease: spec.critical ? (spec.criticalIncrease ?? 1) : null,
    criticalDecrease: spec.critical ? (spec.criticalDecrease ?? 1) : null,
    tolerance: spec.tolerance,
    confidence: spec.confidence,
    weight: spec.weight,
    minSamples: spec.minSamples,
    maxSamples: spec.maxSamples,
    pass: spec.scoreThresholds.pass,
    marginal: spec.scoreThresholds.marginal,
  }
  const latest = history.at(-1)
  const settings: { [key: string]: Json } = {
    method: "Kayenta's Mann-Whitney classifier on disjoint windows",
    direction: spec.direction,
    critical: spec.critical,
    weight: spec.weight,
  }
  const noData = (reason: string): GateVerdict => ({
    gate: gate.name,
    verdict: 'INCONCLUSIVE',
    value: finite(latest?.canary.values[key]),
    baseline: finite(latest?.baseline.values[key]),
    reason,
    evidence: evidenceOf(KIND, gate, latest, thresholds, { ...settings, classification: 'NoData', criticalFailure: false, state: 'no-data' }),
  })
  if (latest === undefined) return noData(`no telemetry window for ${key} yet`)
  const now = unusable(latest, key)
  if (now !== null) return noData(`${now} in the latest window`)

  const chosen = disjointSamples(history, (sample) => unusable(sample, key) === null)
  const windows = chosen.samples.slice(-spec.maxSamples)
  const canary = windows.map((w) => w.canary.values[key] as number)
  const baseline = windows.map((w) => w.baseline.values[key] as number)
  const result = classifyMetric({
    name: gate.name,
    canary,
    baseline,
    direction: spec.direction,
    allowedIncrease: spec.allowedIncrease,
    allowedDecrease: spec.allowedDecrease,
    critical: spec.critical,
    ...(spec.criticalIncrease !== undefined ? { criticalIncrease: spec.criticalIncrease } : {}),
    ...(spec.criticalDecrease !== undefined ? { criticalDecrease: spec.criticalDecrease } : {}),
    tolerance: spec.tolerance,
    confidence: spec.confidence,
    weight: spec.weight,
    minSamples: spec.minSamples,
  })
  const canaryMedian = finite(medianOf(canary))
  const baselineMedian = finite(medianOf(baseline))
  // Too few windows yet, with data arriving, is progress ("collecting"), not missing data.
  const collecting = result.classification === 'NoData' && (canary.length < spec.minSamples || baseline.length < spec.minSamples)
  const state = result.classification === 'NoData' ? (collecting ? 'collecting' : 'no-data') : result.classification === 'Pass' ? 'pass' : 'regression'
  const t = result.test
  const extra: { [key: string]: Json } = {
    ...settings,
    classification: result.classification,
    criticalFailure: result.criticalFailure,
    state,
    ratio: finite(result.ratio),
    estimate: finite(t?.estimate),
    lower: finite(t?.lower),
    upper: finite(t?.upper),
    pValue: finite(t?.pValue),
    statistic: finite(t?.statistic),
    achievedConfidence: finite(t?.confLevel),
    test: t?.method ?? null,
    bound: finite(result.bound),
    samples: { canary: result.canarySamples, baseline: result.baselineSamples, dropped: result.dropped },
    windows: { used: windows.length, overlapping: chosen.overlapping, unusable: chosen.unusable },
    since: windows[0]?.start.toISOString() ?? null,
    canaryMedian: finite(canaryMedian),
    baselineMedian: finite(baselineMedian),
  }
  const verdict = result.classification === 'Pass' ? 'PASS' : result.classification === 'NoData' ? 'INCONCLUSIVE' : 'FAIL'
  const reason = collecting
    ? `collecting windows: ${label} has ${Math.min(canary.length, baseline.length)} of the ${spec.minSamples} disjoint windows the test needs`
    : sentence(label, unit, result, canaryMedian, baselineMedian)
  return {
    gate: gate.name,
    verdict,
    value: finite(canaryMedian),
    baseline: finite(baselineMedian),
    reason,
    evidence: evidenceOf(KIND, gate, latest, thresholds, extra),
  }
}

export function mannWhitneyJudge(spec: MannWhitneyJudgeSpec): Judge {
  return { kind: KIND, judge: (history, gate) => judgeMannWhitney(spec, history, gate) }
}
