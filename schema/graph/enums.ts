import { COMMAND_KINDS, ROLLOUT_STATUSES, STEP_STATUSES, VERDICTS } from '../store/models.ts'
import { builder } from './builder.ts'

export const RolloutStatusEnum = builder.enumType('RolloutStatus', { values: ROLLOUT_STATUSES })
export const VerdictEnum = builder.enumType('Verdict', { values: VERDICTS })
export const StepStatusEnum = builder.enumType('StepStatus', { values: STEP_STATUSES })
export const CommandKindEnum = builder.enumType('CommandKind', { values: COMMAND_KINDS })
export const StepKindEnum = builder.enumType('StepKind', {
  values: { SET_WEIGHT: { value: 'setWeight' }, ANALYZE: { value: 'analyze' }, PAUSE: { value: 'pause' } } as const,
})
export const TokenScopeEnum = builder.enumType('TokenScope', {
  values: { READ: { value: 'read' }, OPERATE: { value: 'operate' }, ADMIN: { value: 'admin' } } as const,
})
