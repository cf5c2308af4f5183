/**
 * One factory switch from a gate's judge spec to its judge. Judges are pure: the loop
 * gathers the windows, then calls `judgeFor(gate.judge).judge(history, gate)`. The judge
 * uses the spec given to the factory, so pass the gate's own `gate.judge`.
 */
import type { JudgeSpec } from '../../schema/spec.ts'
import type { Judge } from './judge.ts'
import { relativeJudge } from './relative.ts'
import { thresholdJudge } from './threshold.ts'

export type { GateVerdict, Judge } from './judge.ts'
export { MIN_CANARY_REQUESTS } from './reading.ts'
export { RATIO_FLOORS, judgeRelative, relativeJudge } from './relative.ts'
export { judgeThreshold, thresholdJudge } from './threshold.ts'

/**
 * The judge for `spec`.
 *
 * @throws Error for `sequential`: that judge arrives with its own issue. It throws rather
 * than returning a stand-in, because a stand-in that is always INCONCLUSIVE would pause
 * every rollout for a reason that is not the rollout's fault, and one that passes would
 * break "no data is not a pass". The loop should turn the error into a FAILED rollout (or
 * refuse to start it) with this message.
 */
export function judgeFor(spec: JudgeSpec): Judge {
  switch (spec.kind) {
    case 'threshold':
      return thresholdJudge(spec)
    case 'relative':
      return relativeJudge(spec)
    case 'sequential':
      throw new Error('the sequential judge is not available yet; use a threshold or relative judge for this gate')
  }
}
