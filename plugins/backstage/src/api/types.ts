/** What the card shows, as read from Sentra's graph (validated; see parse.ts). */

export const ROLLOUT_STATUSES = ['PENDING', 'PROGRESSING', 'PAUSED', 'SUCCEEDED', 'ROLLING_BACK', 'ROLLED_BACK', 'ABORTED', 'FAILED'] as const
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number]

/** Statuses in which a rollout is still moving traffic or waiting for a person. */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = ['PENDING', 'PROGRESSING', 'PAUSED', 'ROLLING_BACK']

export const STEP_KINDS = ['SET_WEIGHT', 'ANALYZE', 'PAUSE'] as const
export type StepKind = (typeof STEP_KINDS)[number]

export const STEP_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'SKIPPED'] as const
export type StepStatus = (typeof STEP_STATUSES)[number]

export interface RolloutStep {
  index: number
  kind: StepKind
  status: StepStatus
  /** Only for SET_WEIGHT steps. */
  setWeight: number | null
}

export interface RolloutDecision {
  action: string
  reason: string
  /** ISO-8601 UTC. */
  at: string
  /** "controller", or the name of the API token that commanded it. */
  actor: string
}

export interface Rollout {
  /** Sentra's global ID (what the dashboard's /rollouts/<id> takes). */
  id: string
  status: RolloutStatus
  /** Percent of traffic on the new version, as the target last reported it. */
  canaryWeight: number
  /** Null for an initial deploy (there was no stable version). */
  fromVersion: string | null
  toVersion: string
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  currentStepIndex: number
  steps: RolloutStep[]
  lastDecision: RolloutDecision | null
}

export interface ApplicationRollouts {
  name: string
  stableVersion: string | null
  /** The rollout in progress, if any (at most one per application). */
  active: Rollout | null
  /** The latest rollouts, newest first (the active one included). */
  recent: Rollout[]
}
