/**
 * One factory switch from a gate's judge spec to its judge. Judges are pure: the loop
 * gathers the windows, then calls `judgeFor(gate.judge).judge(history, gate)`. The judge
 * uses the spec given to the factory, so pass the gate's own `gate.judge`.
 */
import type { JudgeSpec } from '../../schema/spec.ts'
import type { Judge } from './judge.ts'
import { relativeJudge } from './relative.ts'
import { sequentialJudge } from './sequential.ts'
import { thresholdJudge } from './threshold.ts'

export type { GateVerdict, Judge } from './judge.ts'
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
  }
}
