/**
 * Which operator command is legal in which rollout status, for enabling the controls.
 * The same table as schema/commands.ts (the API refuses an illegal command with CONFLICT,
 * and the controller checks again); web/ knows only the printed schema, so it is repeated
 * here, and test/web/commands.test.ts checks the two agree.
 */
import type { CommandKind, RolloutStatus, TokenScope } from '../gql/graphql.ts'

export const LEGAL: Readonly<Record<CommandKind, readonly RolloutStatus[]>> = {
  PROMOTE: ['PENDING', 'PROGRESSING', 'PAUSED'],
  PAUSE: ['PENDING', 'PROGRESSING'],
  RESUME: ['PAUSED'],
  ROLLBACK: ['PENDING', 'PROGRESSING', 'PAUSED'],
  ABORT: ['PENDING', 'PROGRESSING', 'PAUSED', 'ROLLING_BACK'],
}

/** One button of the controls. */
export interface Control {
  id: 'promote-step' | 'promote-full' | 'pause' | 'resume' | 'rollback' | 'abort'
  kind: CommandKind
  full: boolean
  label: string
  /** Pause, roll back and abort take a reason; the API has none for promote and resume. */
  takesReason: boolean
  danger: boolean
  explain: string
}

export const CONTROLS: readonly Control[] = [
  { id: 'promote-step', kind: 'PROMOTE', full: false, label: 'Promote step', takesReason: false, danger: false, explain: 'Skip to the next step now.' },
  { id: 'promote-full', kind: 'PROMOTE', full: true, label: 'Promote fully', takesReason: false, danger: false, explain: 'Send all traffic to the new version and make it stable.' },
  { id: 'pause', kind: 'PAUSE', full: false, label: 'Pause', takesReason: true, danger: false, explain: 'Hold the rollout where it is until someone resumes it.' },
  { id: 'resume', kind: 'RESUME', full: false, label: 'Resume', takesReason: false, danger: false, explain: 'Continue with the current step.' },
  { id: 'rollback', kind: 'ROLLBACK', full: false, label: 'Roll back', takesReason: true, danger: true, explain: 'Send all traffic back to the stable version and remove the canary.' },
  { id: 'abort', kind: 'ABORT', full: false, label: 'Abort', takesReason: true, danger: true, explain: 'Stop the rollout where it is; all traffic goes to the stable version.' },
]

/** Null when the command is legal now, else why not, in plain words. */
export function commandRefusal(kind: CommandKind, status: RolloutStatus): string | null {
  if (LEGAL[kind].includes(status)) return null
  const words = (s: string) => s.toLowerCase().replace(/_/g, ' ')
  return `Not while ${words(status)}; allowed when ${LEGAL[kind].map(words).join(', ')}.`
}

/** Operate and admin tokens may command rollouts; read tokens see no controls. */
export function canOperate(scope: TokenScope | null | undefined): boolean {
  return scope === 'OPERATE' || scope === 'ADMIN'
}
