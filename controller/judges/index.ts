/**
 * One factory switch from a gate's judge spec to its judge. Judges are pure: the loop
 * gathers the windows, then calls `judgeFor(gate.judge).judge(history, gate)`. The judge
 * uses the spec given to the factory, so pass the gate's own `gate.judge`.
 */
import type { JudgeSpec } from '../../schema/spec.ts'
import { anomalyJudge } from './anomaly.ts'
import type { Judge } from './judge.ts'
import { mannWhitneyJudge } from './mann-whitney.ts'
import { relativeJudge } from './relative.ts'
import { sequentialJudge } from './sequential.ts'
import { thresholdJudge } from './threshold.ts'

export { MIN_REFERENCE, anomalyJudge, anomalyK, judgeAnomaly } from './anomaly.ts'
export type { GateVerdict, Judge } from './judge.ts'
export { applyKayentaScore } from './mann-whitney-group.ts'
export {
  KAYENTA_DEFAULTS,
  KAYENTA_THRESHOLDS,
  type KayentaMetric,
  type KayentaScore,
  type MetricResult,
  type ScoreThresholds,
  classifyMetric,
  kayentaScore,
  scoreMetrics,
} from './mann-whitney-score.ts'
export { type WilcoxonResult, wilcoxonTest } from './mann-whitney-stats.ts'
export { judgeMannWhitney, mannWhitneyJudge } from './mann-whitney.ts'
export { MIN_CANARY_REQUESTS } from './reading.ts'
export { RATIO_FLOORS, judgeRelative, relativeJudge } from './relative.ts'
export {
  SEQUENTIAL_DEFAULTS,
  type SequentialOptions,
  type SequentialState,
  judgeSequential,
  sequentialJudge,
  sequentialSupport,
} from './sequential.ts'
export { judgeThreshold, thresholdJudge } from './threshold.ts'

/** The judge for `spec`. */
export function judgeFor(spec: JudgeSpec): Judge {
  switch (spec.kind) {
    case 'threshold':
      return thresholdJudge(spec)
    case 'relative':
      return relativeJudge(spec)
    case 'sequential':
      return sequentialJudge(spec)
    case 'mannWhitney':
      return mannWhitneyJudge(spec)
    case 'anomaly':
      return anomalyJudge(spec)
  }
}
