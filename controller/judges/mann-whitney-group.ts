/**
 * Kayenta judges a canary by one score over all its metrics, not metric by metric. Each
 * mannWhitney gate is one metric (its weight is the metric's group weight); after the loop
 * has judged every gate, this combines the mannWhitney gates' classifications into the
 * Kayenta score (mann-whitney-score.ts) and gives every one of those gates the score's
 * verdict, so that, as in Kayenta, a minority of failing metrics may still pass (score ≥
 * pass) and a marginal score keeps the analysis going.
 *
 * Dry-run gates stay out of the score (they must never block) and keep their own verdict.
 * A gate whose judge could not run (no provider, no data, an error) counts as NoData.
 *
 * Pure: no I/O.
 */
import type { GateSpec, MannWhitneyJudgeSpec } from '../../schema/spec.ts'
import type { Json } from '../../schema/store/models.ts'
import type { GateVerdict } from './judge.ts'
import { type Classification, type KayentaScore, type MetricResult, KAYENTA_THRESHOLDS, scoreMetrics } from './mann-whitney-score.ts'

const CLASSIFICATIONS: readonly string[] = ['High', 'Low', 'Pass', 'NoData']

function isMannWhitney(gate: GateSpec): gate is GateSpec & { judge: MannWhitneyJudgeSpec } {
  return gate.judge.kind === 'mannWhitney'
}

/** The metric a judged gate stands for, read back from its verdict's evidence. */
function metricOf(gate: GateSpec & { judge: MannWhitneyJudgeSpec }, verdict: GateVerdict): MetricResult {
  const raw = verdict.evidence['classification']
  const classification = (typeof raw === 'string' && CLASSIFICATIONS.includes(raw) ? raw : 'NoData') as Classification
  return {
    name: gate.name,
    classification,
    criticalFailure: classification !== 'NoData' && verdict.evidence['criticalFailure'] === true,
    weight: gate.judge.weight,
    reason: verdict.reason,
    ratio: null,
    test: null,
    canarySamples: 0,
    baselineSamples: 0,
    dropped: 0,
    bound: null,
  }
}

/**
 * Replaces the verdict of every blocking mannWhitney gate in `evaluations` by the verdict of
 * their common Kayenta score; other gates pass through unchanged (same objects, same order).
 */
export function applyKayentaScore<T extends { gate: GateSpec; verdict: GateVerdict }>(evaluations: readonly T[]): T[] {
  const members = evaluations.filter((e) => isMannWhitney(e.gate) && !e.gate.dryRun)
  if (members.length === 0) return [...evaluations]
  const first = members[0]!.gate.judge
  const thresholds = first.kind === 'mannWhitney' ? first.scoreThresholds : KAYENTA_THRESHOLDS
  const metrics = members.map((e) => metricOf(e.gate as GateSpec & { judge: MannWhitneyJudgeSpec }, e.verdict))
  const score = scoreMetrics(metrics, thresholds)
  // Waiting only for windows to accumulate (or on a marginal score) is progress, not missing data.
  const collecting =
    score.verdict === 'INCONCLUSIVE' &&
    members.every((e) => e.verdict.evidence['state'] !== 'no-data' && e.verdict.evidence['classification'] !== undefined)
  const group = groupEvidence(score, collecting)
  const state = collecting ? 'collecting' : score.verdict === 'INCONCLUSIVE' ? 'no-data' : score.verdict === 'FAIL' ? 'regression' : 'pass'
  return evaluations.map((e) => {
    if (!members.includes(e)) return e
    const own = e.verdict
    const verdict: GateVerdict = {
      ...own,
      verdict: score.verdict,
      reason: members.length === 1 ? `${score.reason}. ${own.reason}` : `${score.reason}. This metric: ${own.reason}`,
      evidence: { ...own.evidence, metricVerdict: own.verdict, metricState: own.evidence['state'] ?? null, state, kayenta: group },
    }
    return { ...e, verdict }
  })
}

function groupEvidence(score: KayentaScore, collecting: boolean): { [key: string]: Json } {
  return {
    score: score.score,
    bestScore: score.bestScore,
    outcome: score.outcome,
    pass: score.thresholds.pass,
    marginal: score.thresholds.marginal,
    collecting,
    metrics: score.metrics.map((m) => ({ gate: m.name, classification: m.classification, criticalFailure: m.criticalFailure, weight: m.weight })),
  }
}
