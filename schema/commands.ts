import type { CommandKind, RolloutStatus } from './store/models.ts'

/**
 * Which operator command is legal in which rollout status. The API checks it before
 * recording a command (CONFLICT otherwise); the controller checks it again when it
 * applies the command, since the status may have moved on in between.
 */
const LEGAL: Record<CommandKind, readonly RolloutStatus[]> = {
  PROMOTE: ['PENDING', 'PROGRESSING', 'PAUSED'],
  PAUSE: ['PENDING', 'PROGRESSING'],
  RESUME: ['PAUSED'],
  ROLLBACK: ['PENDING', 'PROGRESSING', 'PAUSED'],
  ABORT: ['PENDING', 'PROGRESSING', 'PAUSED', 'ROLLING_BACK'],
}

/** Null when legal, else the reason in plain words. */
export function commandRefusal(kind: CommandKind, status: RolloutStatus): string | null {
  if (LEGAL[kind].includes(status)) return null
  const allowed = LEGAL[kind].join(', ')
  return `cannot ${kind.toLowerCase()} a rollout that is ${status}; ${kind.toLowerCase()} is allowed when ${allowed}`
}
