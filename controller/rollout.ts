/**
 * The rollout state machine: (state, verdicts, command, canary health, now) -> one decision.
 * Pure: no I/O, no clock, no randomness; the loop owns all of those.
 *
 * Contract with the caller (controller/loop.ts):
 * - Each call takes at most one step. Store `decision.next` (and the decision, when its
 *   action is not null) in one transaction, then actuate (see {@link Action}), then call
 *   again on the next tick. After a non-null action the loop may call again at once: a
 *   setWeight step, a finished pause, or a last step need no telemetry.
 * - ROLLBACK leaves the rollout ROLLING_BACK; the caller runs target.rollback, and the next
 *   call answers ROLLED_BACK. The machine knows nothing of actuation, so an actuation that
 *   fails is simply retried (desired != observed) before that next call.
 * - Blue/green is this same machine over its planned steps: setWeight 0 (the preview),
 *   analyze, [pause], setWeight 100 (the switch), then PROMOTE. Keeping the old version up
 *   for scaleDownDelay after the switch is the target's business, not the machine's.
 *
 * Precedence within one call: a finished rollout never changes; a failed canary rolls back
 * (unless the command itself is a legal ROLLBACK or ABORT); an illegal command is rejected
 * with no state change; a legal command applies at once; otherwise the current step runs.
 */
import { commandRefusal } from '../schema/commands.ts'
import { formatDuration } from '../schema/spec/duration.ts'
import type { RolloutStatus } from '../schema/store/models.ts'
import { finite } from './judges/reading.ts'
import { adaptiveStep } from './rollout/adaptive.ts'
import { analyze, formatElapsed } from './rollout/analysis.ts'
import { readStep } from './rollout/steps.ts'
import type { Action, CommandInput, DecideInput, Decision, DecisionEvidence, MachineState } from './rollout/types.ts'

export { ACTIONS } from './rollout/types.ts'
export type {
  Action,
  CommandInput,
  DecideInput,
  Decision,
  DecisionEvidence,
  GateEvidence,
  GateInput,
  MachineState,
} from './rollout/types.ts'

export const FINISHED_STATUSES: readonly RolloutStatus[] = ['SUCCEEDED', 'ROLLED_BACK', 'ABORTED', 'FAILED']

/** Finished rollouts never change again. */
export function isFinished(status: RolloutStatus): boolean {
  return FINISHED_STATUSES.includes(status)
}

/** Statuses in which a crashed canary means rolling back. */
const CANARY_LIVE: readonly RolloutStatus[] = ['PENDING', 'PROGRESSING', 'PAUSED']

const CONTROLLER = 'controller'

export function decide(input: DecideInput): Decision {
  const { state, command, canaryFailure } = input
  if (isFinished(state.status)) {
    if (command !== null) return reject(input, command, commandRefusal(command.kind, state.status) ?? `the rollout is ${state.status}`)
    return hold(input, `the rollout is ${state.status}; nothing to do`)
  }

  const refusal = command === null ? null : commandRefusal(command.kind, state.status)
  const safeCommand = command !== null && refusal === null && (command.kind === 'ROLLBACK' || command.kind === 'ABORT')
  if (canaryFailure !== null && CANARY_LIVE.includes(state.status) && !safeCommand) {
    // A broken canary outranks any other wish: nothing can be promoted or resumed on it.
    const decision = rollBack(input, CONTROLLER, `the canary failed: ${canaryFailure}`)
    if (command === null) return decision
    return { ...decision, commandOutcome: `REJECTED: ${refusal ?? `the canary failed (${canaryFailure}); rolling back instead`}` }
  }

  if (command !== null) {
    if (refusal !== null) return reject(input, command, refusal)
    return { ...applyCommand(input, command), commandOutcome: 'APPLIED' }
  }
  return step(input)
}

/** Before the rollout's first step: PENDING, or paused before it ever started. */
function notStarted(state: MachineState): boolean {
  return state.status === 'PENDING' || (state.status === 'PAUSED' && state.stepStartedAt === null)
}

function applyCommand(input: DecideInput, command: CommandInput): Decision {
  const { state, now } = input
  const { actor } = command
  const by = command.reason ? `by ${actor}: ${command.reason}` : `by ${actor}`
  switch (command.kind) {
    case 'PROMOTE':
      if (notStarted(state) && state.initial) return initialDeploy(input, actor)
      if (command.full) return promote(input, actor, `promoted all the way ${by}`)
      if (notStarted(state)) return start(input, actor, `started ${by} (promote to the next step)`)
      return finishStep(input, actor, by)
    case 'PAUSE':
      return make(input, 'PAUSE', actor, `paused ${by}`, { ...state, status: 'PAUSED' })
    case 'RESUME': {
      // Paused before it started: back to PENDING, so the next call STARTs (prepares) it.
      if (state.stepStartedAt === null) return make(input, 'RESUME', actor, `resumed ${by}`, { ...state, status: 'PENDING' })
      const current = state.steps[state.stepIndex]
      const plan = current === undefined ? null : readStep(current)
      // A pause step without a duration waits for exactly this: it is done.
      const pauseDone = plan !== null && typeof plan !== 'string' && plan.kind === 'pause' && plan.durationMs === null
      const next: MachineState = { ...state, status: 'PROGRESSING', stepIndex: state.stepIndex + (pauseDone ? 1 : 0), stepStartedAt: now }
      return make(input, 'RESUME', actor, `resumed ${by}`, next)
    }
    case 'ROLLBACK':
      return rollBack(input, actor, `rolled back ${by}`)
    case 'ABORT':
      return make(input, 'ABORT', actor, `aborted ${by}`, { ...state, status: 'ABORTED', weight: 0, stepStartedAt: null })
  }
}

/** What the rollout does by itself this tick. */
function step(input: DecideInput): Decision {
  const { state, now } = input
  switch (state.status) {
    case 'PENDING':
      return state.initial ? initialDeploy(input, CONTROLLER) : start(input, CONTROLLER, 'rollout started')
    case 'PAUSED':
      return hold(input, 'paused: waiting for a person')
    case 'ROLLING_BACK':
      return make(input, 'ROLLED_BACK', CONTROLLER, 'rolled back: all traffic is on the stable version', {
        ...state,
        status: 'ROLLED_BACK',
        weight: 0,
        stepStartedAt: null,
      })
    default:
      break
  }

  const total = state.steps.length
  const current = state.steps[state.stepIndex]
  if (current === undefined) return promote(input, CONTROLLER, `all ${total} steps done; promoting the new version to 100 %`)
  const plan = readStep(current)
  const label = `step ${state.stepIndex + 1} of ${total}`
  if (typeof plan === 'string') return rollBack(input, CONTROLLER, `${label} cannot be run: ${plan}`)

  const elapsedMs = elapsedOf(state, now)
  switch (plan.kind) {
    case 'setWeight':
      return finishStep(input, CONTROLLER, null)
    case 'pause':
      if (plan.durationMs === null) return make(input, 'PAUSE', CONTROLLER, `${label}: waiting for a person`, { ...state, status: 'PAUSED' })
      if (elapsedMs >= plan.durationMs) return advance(input, CONTROLLER, `${label}: the ${formatDuration(plan.durationMs)} pause is over`)
      return hold(input, `${label}: pausing for ${formatDuration(plan.durationMs)} (${formatElapsed(plan.durationMs - elapsedMs)} left)`)
    case 'analyze': {
      const outcome = analyze(input.gates, { elapsedMs, minMs: plan.minMs, maxMs: plan.maxMs })
      switch (outcome.kind) {
        case 'fail':
          return rollBack(input, CONTROLLER, outcome.reason)
        case 'pass':
          return passed(input, outcome.reason)
        case 'pause':
          return make(input, 'PAUSE', CONTROLLER, outcome.reason, { ...state, status: 'PAUSED' })
        case 'hold':
          return hold(input, outcome.reason)
      }
    }
  }
}

/**
 * The current step is over: a setWeight step applies its weight, any other just ends, and
 * past the last step the rollout is promoted. `by` names the operator who cut it short.
 */
function finishStep(input: DecideInput, actor: string, by: string | null): Decision {
  const { state, now } = input
  const current = state.steps[state.stepIndex]
  if (current === undefined) return promote(input, actor, by === null ? 'promoted' : `promoted ${by}`)
  const plan = readStep(current)
  if (typeof plan !== 'string' && plan.kind === 'setWeight') {
    const change = plan.weight === state.weight ? `weight stays at ${plan.weight} %` : `weight ${state.weight} % → ${plan.weight} %`
    const next: MachineState = { ...state, status: 'PROGRESSING', weight: plan.weight, stepIndex: state.stepIndex + 1, stepStartedAt: now }
    return make(input, 'SET_WEIGHT', actor, by === null ? change : `${change} (promoted to the next step ${by})`, next)
  }
  const label = `step ${state.stepIndex + 1} of ${state.steps.length} (${current.kind})`
  return advance(input, actor, by === null ? `${label} done` : `${label} skipped ${by}`)
}

/**
 * An analysis passed: advance to the next step, or, for an adaptive rollout, take a bigger or
 * smaller weight step than planned (rollout/adaptive.ts says exactly when and how far).
 */
function passed(input: DecideInput, reason: string): Decision {
  const { state, now } = input
  if (!state.adaptive) return advance(input, CONTROLLER, reason)
  const plan = adaptiveStep(state, input.gates, state.adaptive)
  if (plan.kind === 'planned') return advance(input, CONTROLLER, plan.note === null ? reason : `${reason}. ${capitalized(plan.note)}`)
  const next: MachineState =
    plan.kind === 'bigger'
      ? { ...state, status: 'PROGRESSING', weight: plan.weight, stepIndex: plan.stepIndex, stepStartedAt: now }
      : { ...state, status: 'PROGRESSING', weight: plan.weight, stepStartedAt: now }
  const decision = make(input, 'SET_WEIGHT', CONTROLLER, `${reason}. ${capitalized(plan.note)}`, next)
  const plannedWeight = plan.kind === 'smaller' ? plan.planned : (plan.skipped[0] ?? plan.weight)
  const { maxStep, risk } = state.adaptive
  return { ...decision, evidence: { ...decision.evidence, adaptive: { kind: plan.kind, headroom: plan.headroom, allowance: plan.allowance, maxStep, risk, plannedWeight } } }
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function advance(input: DecideInput, actor: string, reason: string): Decision {
  const { state, now } = input
  return make(input, 'ADVANCE', actor, reason, { ...state, status: 'PROGRESSING', stepIndex: state.stepIndex + 1, stepStartedAt: now })
}

function start(input: DecideInput, actor: string, reason: string): Decision {
  const { state, now } = input
  return make(input, 'START', actor, reason, { ...state, status: 'PROGRESSING', stepIndex: 0, stepStartedAt: now })
}

function initialDeploy(input: DecideInput, actor: string): Decision {
  const next: MachineState = { ...input.state, status: 'SUCCEEDED', weight: 100, stepStartedAt: null }
  return make(input, 'INITIAL_DEPLOY', actor, 'initial deploy: nothing to compare with', next)
}

function promote(input: DecideInput, actor: string, reason: string): Decision {
  return make(input, 'PROMOTE', actor, reason, { ...input.state, status: 'SUCCEEDED', weight: 100, stepStartedAt: null })
}

function rollBack(input: DecideInput, actor: string, reason: string): Decision {
  return make(input, 'ROLLBACK', actor, reason, { ...input.state, status: 'ROLLING_BACK', weight: 0, stepStartedAt: null })
}

/** Nothing to record. A PROGRESSING state missing its step clock gets one now. */
function hold(input: DecideInput, reason: string): Decision {
  const { state, now } = input
  const next = state.status === 'PROGRESSING' && state.stepStartedAt === null ? { ...state, stepStartedAt: now } : state
  return make(input, null, CONTROLLER, reason, next)
}

function reject(input: DecideInput, command: CommandInput, refusal: string): Decision {
  const decision = make(input, null, command.actor, `${command.kind.toLowerCase()} by ${command.actor} rejected: ${refusal}`, input.state)
  return { ...decision, commandOutcome: `REJECTED: ${refusal}` }
}

/** A step's clock; a missing one (should not happen while PROGRESSING) starts now. */
function elapsedOf(state: MachineState, now: number): number {
  return state.stepStartedAt === null ? 0 : Math.max(0, now - state.stepStartedAt)
}

function make(input: DecideInput, action: Action | null, actor: string, reason: string, next: MachineState): Decision {
  return { action, actor, reason, next, finished: isFinished(next.status), evidence: evidenceOf(input, next) }
}

function evidenceOf(input: DecideInput, next: MachineState): DecisionEvidence {
  const { state, command, canaryFailure, now } = input
  const running = state.status === 'PROGRESSING' || state.status === 'PAUSED'
  return {
    stepIndex: state.stepIndex,
    step: notStarted(state) ? null : (state.steps[state.stepIndex]?.kind ?? null),
    elapsedMs: running && state.stepStartedAt !== null ? elapsedOf(state, now) : null,
    fromWeight: state.weight,
    toWeight: next.weight,
    gates: (input.gates ?? []).map((g) => ({
      gate: g.verdict.gate,
      verdict: g.verdict.verdict,
      dryRun: g.dryRun,
      value: finite(g.verdict.value),
      baseline: finite(g.verdict.baseline),
      reason: g.verdict.reason,
      inconclusiveStreak: g.inconclusiveStreak,
      inconclusiveLimit: g.inconclusiveLimit,
      evidence: g.verdict.evidence,
    })),
    command: command === null ? null : { kind: command.kind, full: command.full, actor: command.actor, reason: command.reason },
    canaryFailure: canaryFailure === null ? null : { verdict: 'FAIL', reason: canaryFailure },
  }
}
