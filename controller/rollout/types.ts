/** The state machine's vocabulary: what goes into `decide` and what comes out. */
import type { PlannedStep } from '../../schema/rollout-steps.ts'
import type { AdaptiveSpec } from '../../schema/spec.ts'
import type { CommandKind, Json, RolloutStatus, StepKind, Verdict } from '../../schema/store/models.ts'
import type { GateVerdict } from '../judges/judge.ts'

/** Every action a decision can record; `null` (a hold) records nothing. */
export const ACTIONS = [
  'INITIAL_DEPLOY',
  'START',
  'SET_WEIGHT',
  'ADVANCE',
  'PAUSE',
  'RESUME',
  'ROLLBACK',
  'ROLLED_BACK',
  'ABORT',
  'PROMOTE',
  'COMPLETE',
] as const
/**
 * What the caller actuates after storing the decision (it always brings the canary's
 * traffic to `next.weight`, idempotently):
 * - INITIAL_DEPLOY: deploy the version as the stable one (there is none yet); finished.
 * - START: prepare the canary (the workload exists and is healthy).
 * - ROLLBACK: all traffic to stable, canary removed (target.rollback); the next call
 *   answers ROLLED_BACK. ABORT does the same and is finished at once.
 * - PROMOTE: the canary becomes the stable version (target.promote). For blue/green the
 *   old version stays up for the strategy's scaleDownDelay: the target's business.
 * - SET_WEIGHT, ADVANCE, PAUSE, RESUME, ROLLED_BACK: nothing beyond the weight.
 * - COMPLETE: reserved for the caller's bookkeeping; `decide` never returns it.
 */
export type Action = (typeof ACTIONS)[number]

export interface MachineState {
  status: RolloutStatus
  /** The step being run; `steps.length` once every step is done. */
  stepIndex: number
  /**
   * When the current step's clock started (ms since the epoch). Null before the rollout
   * started (PENDING, or PAUSED before it ever started) and once it left PROGRESSING/PAUSED.
   */
  stepStartedAt: number | null
  /** Desired canary traffic, percent 0..100. */
  weight: number
  /** The steps snapshotted into the rollout (see schema/rollout-steps.ts). */
  steps: readonly PlannedStep[]
  /** The application has no stable version: the rollout deploys directly. */
  initial: boolean
  /** Evidence-driven weights (`strategy.canary.adaptive`; see rollout/adaptive.ts); unset or null = the steps as written. */
  adaptive?: AdaptiveSpec | null
}

/** One gate's verdict on this tick's window, with what the loop knows about its history. */
export interface GateInput {
  verdict: GateVerdict
  /** Recorded and shown, but never blocks, fails or pauses. */
  dryRun: boolean
  /**
   * Consecutive INCONCLUSIVE windows for this gate including this one, counted since the
   * current step's clock (re)started: a RESUME must not pause again on the old streak.
   */
  inconclusiveStreak: number
  inconclusiveLimit: number
}

/** An operator command, as recorded by the API. */
export interface CommandInput {
  kind: CommandKind
  /** PROMOTE only: all the way (true) or to the next step (false). */
  full: boolean
  actor: string
  reason: string | null
}

export interface DecideInput {
  state: MachineState
  /** This tick's verdicts; null when no analysis ran this tick. */
  gates: readonly GateInput[] | null
  command: CommandInput | null
  /** Why the canary is broken (e.g. "canary process exited with code 1"), else null. */
  canaryFailure: string | null
  /** ms since the epoch. */
  now: number
}

/** A gate verdict as stored in a decision's evidence (JSON-safe). */
export type GateEvidence = {
  gate: string
  verdict: Verdict
  dryRun: boolean
  value: number | null
  baseline: number | null
  reason: string
  inconclusiveStreak: number
  inconclusiveLimit: number
  evidence: { [key: string]: Json }
}

/** What a decision rested on; JSON-safe, so it can be stored as the decision's evidence. */
export type DecisionEvidence = {
  /** The step the machine was at when it decided (0-based). */
  stepIndex: number
  /** That step's kind; null before the first or after the last step. */
  step: StepKind | null
  /** How long that step had been running, when it was running. */
  elapsedMs: number | null
  fromWeight: number
  toWeight: number
  gates: GateEvidence[]
  command: { kind: CommandKind; full: boolean; actor: string; reason: string | null } | null
  /** A crashed canary counts as a FAIL; the failure (e.g. its exit code) is kept here. */
  canaryFailure: { verdict: 'FAIL'; reason: string } | null
  /** When an adaptive rollout changed the planned weights: how and by how much (rollout/adaptive.ts). */
  adaptive?: { kind: 'bigger' | 'smaller'; headroom: number; allowance: number; maxStep: number; risk: number; plannedWeight: number }
}

export interface Decision {
  /** What to record and actuate; null = hold (nothing to record). */
  action: Action | null
  /** The command's actor when a command was given, else 'controller'. */
  actor: string
  /** Plain words, shown to people. On a hold it says what the rollout is waiting for. */
  reason: string
  /** The state to store. On a hold it equals `state`, except that a PROGRESSING state without a step clock gets one (`now`). */
  next: MachineState
  /** `next.status` is final: SUCCEEDED, ROLLED_BACK, ABORTED or FAILED. */
  finished: boolean
  /** Only when a command was given: 'APPLIED', or 'REJECTED: why'. */
  commandOutcome?: string
  evidence: DecisionEvidence
}
