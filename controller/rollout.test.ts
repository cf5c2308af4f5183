import { describe, expect, it } from 'vitest'
import { commandRefusal } from '../schema/commands.ts'
import { type PlannedStep, plannedSteps } from '../schema/rollout-steps.ts'
import { type AppSpec, assertSpec } from '../schema/spec.ts'
import { COMMAND_KINDS, type CommandKind, type Json, ROLLOUT_STATUSES, type RolloutStatus, type Verdict } from '../schema/store/models.ts'
import type { GateVerdict } from './judges/judge.ts'
import {
  ACTIONS,
  type Action,
  type CommandInput,
  type DecideInput,
  type Decision,
  type GateInput,
  type MachineState,
  decide,
  isFinished,
} from './rollout.ts'

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0)
const S = 1000
const MIN = 60 * S

/** The DESIGN.md example application. */
const BASE = {
  name: 'checkout',
  target: { kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'services/checkout.mjs'] },
  gates: [
    { name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.01 } },
    { name: 'p95', provider: 'prometheus', query: 'histogram_quantile(0.95, x{version="{{version}}"})', judge: { kind: 'threshold', max: 0.25 } },
  ],
}
const DESIGN_SPEC: AppSpec = assertSpec({
  ...BASE,
  strategy: {
    canary: {
      steps: [
        { setWeight: 5 },
        { analyze: { min: '20s', max: '5m' } },
        { setWeight: 25 },
        { analyze: { min: '20s' } },
        { pause: {} },
        { setWeight: 50 },
        { analyze: { min: '1m' } },
      ],
    },
  },
})
/** 0 setWeight 5 · 1 analyze 20s..5m · 2 setWeight 25 · 3 analyze 20s · 4 pause {} · 5 setWeight 50 · 6 analyze 1m */
const CANARY = plannedSteps(DESIGN_SPEC)
/** 0 setWeight 10 · 1 pause 1m · 2 analyze (defaults, as stored for blue/green) */
const TIMED: PlannedStep[] = [
  { kind: 'setWeight', spec: { setWeight: 10 } },
  { kind: 'pause', spec: { pause: { duration: '1m', durationMs: 60_000 } } },
  { kind: 'analyze', spec: { analyze: {} } },
]
const BROKEN: PlannedStep[] = [{ kind: 'setWeight', spec: { setWeight: 250 } }]
const BLUE_GREEN = (autoPromote: boolean): PlannedStep[] =>
  plannedSteps(assertSpec({ ...BASE, strategy: { blueGreen: { analyze: { min: '1m' }, autoPromote } } }))

function state(patch: Partial<MachineState> = {}): MachineState {
  return { status: 'PROGRESSING', stepIndex: 0, stepStartedAt: T0, weight: 0, steps: CANARY, initial: false, ...patch }
}

function verdict(gate: string, v: Verdict, reason: string): GateVerdict {
  return { gate, verdict: v, value: v === 'INCONCLUSIVE' ? null : 0.01, baseline: 0.004, reason, evidence: { gate } }
}
const pass = (gate = 'errors'): GateInput => ({ verdict: verdict(gate, 'PASS', `${gate} fine`), dryRun: false, inconclusiveStreak: 0, inconclusiveLimit: 6 })
const fail = (gate = 'errors', reason = 'error rate 7.9 % vs 0.4 % baseline over the last 20 s; limit +1.0 %'): GateInput => ({
  verdict: verdict(gate, 'FAIL', reason),
  dryRun: false,
  inconclusiveStreak: 0,
  inconclusiveLimit: 6,
})
const inconclusive = (gate = 'errors', streak = 1, limit = 6): GateInput => ({
  verdict: verdict(gate, 'INCONCLUSIVE', `no canary data for errorRate in the window`),
  dryRun: false,
  inconclusiveStreak: streak,
  inconclusiveLimit: limit,
})
const dry = (g: GateInput): GateInput => ({ ...g, dryRun: true })

const cmd = (kind: CommandKind, patch: Partial<CommandInput> = {}): CommandInput => ({ kind, full: false, actor: 'alice', reason: null, ...patch })

interface Row {
  name: string
  state: MachineState
  gates?: GateInput[] | null
  command?: CommandInput | null
  canaryFailure?: string | null
  now?: number
  expect: {
    action: Action | null
    status: RolloutStatus
    weight?: number
    stepIndex?: number
    stepStartedAt?: number | null
    reason?: string
    actor?: string
    outcome?: string
  }
}

const p1 = state({ stepIndex: 1, weight: 5 }) // analyze 20s..5m
const p3 = state({ stepIndex: 3, weight: 25 }) // analyze 20s, no max
const paused = (patch: Partial<MachineState> = {}): MachineState => state({ status: 'PAUSED', ...patch })

const rows: Row[] = [
  // PENDING
  { name: 'PENDING, no stable version: initial deploy', state: state({ status: 'PENDING', stepStartedAt: null, initial: true }), expect: { action: 'INITIAL_DEPLOY', status: 'SUCCEEDED', weight: 100, reason: 'initial deploy: nothing to compare with' } },
  { name: 'PENDING: start at step 0', state: state({ status: 'PENDING', stepStartedAt: null }), now: T0 + 7 * S, expect: { action: 'START', status: 'PROGRESSING', weight: 0, stepIndex: 0, stepStartedAt: T0 + 7 * S, reason: 'rollout started' } },

  // setWeight steps
  { name: 'setWeight: 0 → 5, next step', state: state(), now: T0 + 3 * S, expect: { action: 'SET_WEIGHT', status: 'PROGRESSING', weight: 5, stepIndex: 1, stepStartedAt: T0 + 3 * S, reason: 'weight 0 % → 5 %' } },
  { name: 'setWeight: 5 → 25', state: state({ stepIndex: 2, weight: 5 }), expect: { action: 'SET_WEIGHT', status: 'PROGRESSING', weight: 25, stepIndex: 3, reason: 'weight 5 % → 25 %' } },
  { name: 'setWeight to the weight it has', state: state({ stepIndex: 2, weight: 25 }), expect: { action: 'SET_WEIGHT', weight: 25, stepIndex: 3, status: 'PROGRESSING', reason: 'weight stays at 25 %' } },
  { name: 'setWeight ignores verdicts', state: state({ stepIndex: 2, weight: 5 }), gates: [fail()], expect: { action: 'SET_WEIGHT', status: 'PROGRESSING', weight: 25 } },

  // analyze
  { name: 'analyze: all pass at min → advance', state: p1, gates: [pass('errors'), pass('p95')], now: T0 + 20 * S, expect: { action: 'ADVANCE', status: 'PROGRESSING', weight: 5, stepIndex: 2, stepStartedAt: T0 + 20 * S, reason: 'analysis passed after 20s: errors: errors fine; p95: p95 fine' } },
  { name: 'analyze: all pass before min → hold', state: p1, gates: [pass('errors'), pass('p95')], now: T0 + 19_999, expect: { action: null, status: 'PROGRESSING', stepIndex: 1, reason: 'all gates pass; analysis runs at least 20s' } },
  { name: 'analyze: FAIL rolls back at once (before min)', state: p1, gates: [fail(), pass('p95')], now: T0 + S, expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0, stepIndex: 1, stepStartedAt: null, reason: 'errors failed: error rate 7.9 % vs 0.4 % baseline over the last 20 s; limit +1.0 %' } },
  { name: 'analyze: two FAILs name both gates', state: p1, gates: [fail('errors'), fail('p95', 'p95 412 ms over the last 20 s; above the limit of 250 ms')], now: T0 + 30 * S, expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0, reason: 'limit +1.0 %; p95 failed: p95 412 ms over the last 20 s; above the limit of 250 ms' } },
  { name: 'analyze: FAIL beats INCONCLUSIVE at its limit', state: p1, gates: [inconclusive('p95', 6, 6), fail()], now: T0 + 30 * S, expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0 } },
  { name: 'analyze: dry-run FAIL never fails', state: p1, gates: [dry(fail('p95')), pass('errors')], now: T0 + 20 * S, expect: { action: 'ADVANCE', status: 'PROGRESSING', stepIndex: 2 } },
  { name: 'analyze: dry-run FAIL never blocks a hold', state: p1, gates: [dry(fail('p95')), inconclusive('errors')], now: T0 + 30 * S, expect: { action: null, status: 'PROGRESSING', stepIndex: 1 } },
  { name: 'analyze: dry-run INCONCLUSIVE at its limit never pauses', state: p1, gates: [dry(inconclusive('p95', 9, 6)), pass('errors')], now: T0 + 20 * S, expect: { action: 'ADVANCE', status: 'PROGRESSING' } },
  { name: 'analyze: only dry-run gates → advance at min', state: p1, gates: [dry(fail('p95')), dry(inconclusive('errors'))], now: T0 + 20 * S, expect: { action: 'ADVANCE', status: 'PROGRESSING', reason: 'every gate is dry-run' } },
  { name: 'analyze: INCONCLUSIVE never advances', state: p1, gates: [pass('p95'), inconclusive('errors', 2)], now: T0 + 60 * S, expect: { action: null, status: 'PROGRESSING', stepIndex: 1, reason: 'analyzing for 1m: errors: no canary data for errorRate in the window' } },
  { name: 'analyze: INCONCLUSIVE one short of its limit → hold', state: p1, gates: [pass('p95'), inconclusive('errors', 5, 6)], now: T0 + 60 * S, expect: { action: null, status: 'PROGRESSING' } },
  { name: 'analyze: INCONCLUSIVE at its limit → pause', state: p1, gates: [pass('p95'), inconclusive('errors', 6, 6)], now: T0 + 60 * S, expect: { action: 'PAUSE', status: 'PAUSED', weight: 5, stepIndex: 1, stepStartedAt: T0, reason: 'errors: no canary data for errorRate in the window for 6 windows in a row' } },
  { name: 'analyze: gates null → hold', state: p1, gates: null, now: T0 + 60 * S, expect: { action: null, status: 'PROGRESSING', reason: 'no verdicts this window' } },
  { name: 'analyze: no gates → hold', state: p1, gates: [], now: T0 + 60 * S, expect: { action: null, status: 'PROGRESSING', reason: 'no gates to judge' } },
  { name: 'analyze: max reached without all passing → pause', state: p1, gates: [pass('p95'), inconclusive('errors', 1)], now: T0 + 5 * MIN, expect: { action: 'PAUSE', status: 'PAUSED', weight: 5, stepIndex: 1, reason: 'analysis reached its 5m limit without a verdict' } },
  { name: 'analyze: max reached with no verdicts → pause', state: p1, gates: null, now: T0 + 6 * MIN, expect: { action: 'PAUSE', status: 'PAUSED', reason: 'analysis reached its 5m limit without a verdict (no verdicts this window)' } },
  { name: 'analyze: all pass at max → advance, not pause', state: p1, gates: [pass('errors'), pass('p95')], now: T0 + 5 * MIN, expect: { action: 'ADVANCE', status: 'PROGRESSING', stepIndex: 2 } },
  { name: 'analyze: FAIL at max → roll back', state: p1, gates: [fail()], now: T0 + 5 * MIN, expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0 } },
  { name: 'analyze: without max, holds on', state: p3, gates: [inconclusive('errors', 3)], now: T0 + 60 * MIN, expect: { action: null, status: 'PROGRESSING', stepIndex: 3 } },
  { name: 'analyze: defaults ({}) advance on the first all-pass window', state: state({ steps: TIMED, stepIndex: 2, weight: 10 }), gates: [pass()], now: T0, expect: { action: 'ADVANCE', status: 'PROGRESSING', stepIndex: 3 } },

  // pause steps
  { name: 'pause {}: wait for a person', state: state({ stepIndex: 4, weight: 25 }), now: T0 + S, expect: { action: 'PAUSE', status: 'PAUSED', weight: 25, stepIndex: 4, reason: 'step 5 of 7: waiting for a person' } },
  { name: 'pause {duration}: before it ends → hold', state: state({ steps: TIMED, stepIndex: 1, weight: 10 }), now: T0 + 30 * S, expect: { action: null, status: 'PROGRESSING', stepIndex: 1, reason: 'pausing for 1m (30s left)' } },
  { name: 'pause {duration}: when it ends → advance', state: state({ steps: TIMED, stepIndex: 1, weight: 10 }), now: T0 + MIN, expect: { action: 'ADVANCE', status: 'PROGRESSING', stepIndex: 2, weight: 10, stepStartedAt: T0 + MIN, reason: 'the 1m pause is over' } },

  // after the last step
  { name: 'after the last step → promote', state: state({ stepIndex: 7, weight: 50 }), expect: { action: 'PROMOTE', status: 'SUCCEEDED', weight: 100, stepIndex: 7, stepStartedAt: null, reason: 'all 7 steps done' } },
  { name: 'a step that cannot be run → roll back', state: state({ steps: BROKEN }), expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0, reason: 'step 1 of 1 cannot be run: setWeight must be a whole percentage 0..100 (got 250)' } },

  // PAUSED and ROLLING_BACK without commands
  { name: 'PAUSED: hold', state: paused({ stepIndex: 4, weight: 25 }), gates: [fail()], now: T0 + 60 * MIN, expect: { action: null, status: 'PAUSED', weight: 25, reason: 'paused: waiting for a person' } },
  { name: 'ROLLING_BACK → ROLLED_BACK', state: state({ status: 'ROLLING_BACK', stepIndex: 1, stepStartedAt: null }), expect: { action: 'ROLLED_BACK', status: 'ROLLED_BACK', weight: 0, stepIndex: 1, reason: 'rolled back: all traffic is on the stable version' } },

  // a failed canary
  { name: 'canary failure while PROGRESSING → roll back', state: p1, gates: [pass()], canaryFailure: 'canary process exited with code 1', expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0, reason: 'the canary failed: canary process exited with code 1', actor: 'controller' } },
  { name: 'canary failure while PENDING → roll back', state: state({ status: 'PENDING', stepStartedAt: null }), canaryFailure: 'canary never became healthy', expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0 } },
  { name: 'canary failure while PAUSED → roll back', state: paused({ stepIndex: 4, weight: 25 }), canaryFailure: 'exit 137', expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0 } },
  { name: 'canary failure while ROLLING_BACK: rolled back as planned', state: state({ status: 'ROLLING_BACK', stepStartedAt: null }), canaryFailure: 'exit 1', expect: { action: 'ROLLED_BACK', status: 'ROLLED_BACK' } },
  { name: 'canary failure once SUCCEEDED: nothing changes', state: state({ status: 'SUCCEEDED', weight: 100, stepStartedAt: null }), canaryFailure: 'exit 1', expect: { action: null, status: 'SUCCEEDED', weight: 100 } },
  { name: 'canary failure outranks PROMOTE', state: p1, command: cmd('PROMOTE', { full: true }), canaryFailure: 'exit 1', expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0, actor: 'controller', outcome: 'REJECTED: the canary failed (exit 1); rolling back instead' } },
  { name: 'canary failure outranks RESUME', state: paused({ stepIndex: 4 }), command: cmd('RESUME'), canaryFailure: 'exit 1', expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', outcome: 'REJECTED: the canary failed' } },
  { name: 'canary failure with an illegal command: rejected with its refusal', state: p1, command: cmd('RESUME'), canaryFailure: 'exit 1', expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', outcome: 'REJECTED: cannot resume a rollout that is PROGRESSING' } },
  { name: 'canary failure with ROLLBACK: the operator’s rollback', state: p1, command: cmd('ROLLBACK', { reason: 'crashing' }), canaryFailure: 'exit 1', expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0, actor: 'alice', outcome: 'APPLIED', reason: 'rolled back by alice: crashing' } },
  { name: 'canary failure with ABORT: aborted', state: p1, command: cmd('ABORT'), canaryFailure: 'exit 1', expect: { action: 'ABORT', status: 'ABORTED', weight: 0, actor: 'alice', outcome: 'APPLIED' } },

  // PROMOTE, all the way
  { name: 'PROMOTE full while PROGRESSING', state: p1, command: cmd('PROMOTE', { full: true, reason: 'looks good' }), expect: { action: 'PROMOTE', status: 'SUCCEEDED', weight: 100, actor: 'alice', outcome: 'APPLIED', reason: 'promoted all the way by alice: looks good' } },
  { name: 'PROMOTE full while PAUSED', state: paused({ stepIndex: 4, weight: 25 }), command: cmd('PROMOTE', { full: true }), expect: { action: 'PROMOTE', status: 'SUCCEEDED', weight: 100, reason: 'promoted all the way by alice' } },
  { name: 'PROMOTE full while PENDING', state: state({ status: 'PENDING', stepStartedAt: null }), command: cmd('PROMOTE', { full: true }), expect: { action: 'PROMOTE', status: 'SUCCEEDED', weight: 100 } },
  { name: 'PROMOTE full of an initial rollout: initial deploy', state: state({ status: 'PENDING', stepStartedAt: null, initial: true }), command: cmd('PROMOTE', { full: true }), expect: { action: 'INITIAL_DEPLOY', status: 'SUCCEEDED', weight: 100, actor: 'alice', outcome: 'APPLIED' } },
  { name: 'PROMOTE full overrides a FAIL in the same tick', state: p1, gates: [fail()], command: cmd('PROMOTE', { full: true }), expect: { action: 'PROMOTE', status: 'SUCCEEDED', weight: 100 } },

  // PROMOTE, to the next step
  { name: 'PROMOTE step during analysis: skip it', state: p1, gates: [inconclusive()], command: cmd('PROMOTE'), now: T0 + 5 * S, expect: { action: 'ADVANCE', status: 'PROGRESSING', weight: 5, stepIndex: 2, stepStartedAt: T0 + 5 * S, actor: 'alice', outcome: 'APPLIED', reason: 'step 2 of 7 (analyze) skipped by alice' } },
  { name: 'PROMOTE step at a setWeight step: apply it', state: state({ stepIndex: 2, weight: 5 }), command: cmd('PROMOTE', { reason: 'hurry' }), expect: { action: 'SET_WEIGHT', status: 'PROGRESSING', weight: 25, stepIndex: 3, reason: 'weight 5 % → 25 % (promoted to the next step by alice: hurry)' } },
  { name: 'PROMOTE step while PAUSED at a pause step', state: paused({ stepIndex: 4, weight: 25 }), command: cmd('PROMOTE'), now: T0 + MIN, expect: { action: 'ADVANCE', status: 'PROGRESSING', stepIndex: 5, stepStartedAt: T0 + MIN, reason: 'step 5 of 7 (pause) skipped by alice' } },
  { name: 'PROMOTE step while PAUSED in analysis', state: paused({ stepIndex: 1, weight: 5 }), command: cmd('PROMOTE'), expect: { action: 'ADVANCE', status: 'PROGRESSING', stepIndex: 2 } },
  { name: 'PROMOTE step while PENDING: start', state: state({ status: 'PENDING', stepStartedAt: null }), command: cmd('PROMOTE'), expect: { action: 'START', status: 'PROGRESSING', stepIndex: 0, actor: 'alice', outcome: 'APPLIED' } },
  { name: 'PROMOTE step of an initial rollout: initial deploy', state: state({ status: 'PENDING', stepStartedAt: null, initial: true }), command: cmd('PROMOTE'), expect: { action: 'INITIAL_DEPLOY', status: 'SUCCEEDED', weight: 100 } },
  { name: 'PROMOTE step past the last step: promote', state: state({ stepIndex: 7, weight: 50 }), command: cmd('PROMOTE'), expect: { action: 'PROMOTE', status: 'SUCCEEDED', weight: 100, reason: 'promoted by alice' } },
  { name: 'PROMOTE step overrides a FAIL in the same tick', state: p1, gates: [fail()], command: cmd('PROMOTE'), expect: { action: 'ADVANCE', status: 'PROGRESSING', stepIndex: 2 } },

  // PAUSE
  { name: 'PAUSE while PROGRESSING', state: p1, command: cmd('PAUSE', { actor: 'bob', reason: 'checking dashboards' }), expect: { action: 'PAUSE', status: 'PAUSED', weight: 5, stepIndex: 1, stepStartedAt: T0, actor: 'bob', outcome: 'APPLIED', reason: 'paused by bob: checking dashboards' } },
  { name: 'PAUSE without a reason', state: p1, command: cmd('PAUSE', { actor: 'bob' }), expect: { action: 'PAUSE', status: 'PAUSED', reason: 'paused by bob' } },
  { name: 'PAUSE while PENDING: paused before it started', state: state({ status: 'PENDING', stepStartedAt: null }), command: cmd('PAUSE'), expect: { action: 'PAUSE', status: 'PAUSED', weight: 0, stepIndex: 0, stepStartedAt: null } },
  { name: 'PAUSE overrides a FAIL in the same tick', state: p1, gates: [fail()], command: cmd('PAUSE'), expect: { action: 'PAUSE', status: 'PAUSED', weight: 5 } },

  // RESUME
  { name: 'RESUME in analysis: its clock restarts', state: paused({ stepIndex: 1, weight: 5 }), command: cmd('RESUME'), now: T0 + 9 * MIN, expect: { action: 'RESUME', status: 'PROGRESSING', weight: 5, stepIndex: 1, stepStartedAt: T0 + 9 * MIN, outcome: 'APPLIED', reason: 'resumed by alice' } },
  { name: 'RESUME at a pause {} step: it is done', state: paused({ stepIndex: 4, weight: 25 }), command: cmd('RESUME', { reason: 'dashboards fine' }), now: T0 + MIN, expect: { action: 'RESUME', status: 'PROGRESSING', weight: 25, stepIndex: 5, stepStartedAt: T0 + MIN, reason: 'resumed by alice: dashboards fine' } },
  { name: 'RESUME at a timed pause step: its clock restarts', state: paused({ steps: TIMED, stepIndex: 1, weight: 10 }), command: cmd('RESUME'), now: T0 + MIN, expect: { action: 'RESUME', status: 'PROGRESSING', stepIndex: 1, stepStartedAt: T0 + MIN } },
  { name: 'RESUME before it ever started: back to PENDING', state: paused({ stepStartedAt: null }), command: cmd('RESUME'), expect: { action: 'RESUME', status: 'PENDING', stepIndex: 0, stepStartedAt: null } },

  // ROLLBACK
  { name: 'ROLLBACK while PROGRESSING', state: p1, command: cmd('ROLLBACK', { actor: 'carol', reason: 'too slow' }), expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0, stepIndex: 1, stepStartedAt: null, actor: 'carol', outcome: 'APPLIED', reason: 'rolled back by carol: too slow' } },
  { name: 'ROLLBACK while PAUSED', state: paused({ stepIndex: 4, weight: 25 }), command: cmd('ROLLBACK'), expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0 } },
  { name: 'ROLLBACK while PENDING', state: state({ status: 'PENDING', stepStartedAt: null }), command: cmd('ROLLBACK'), expect: { action: 'ROLLBACK', status: 'ROLLING_BACK', weight: 0 } },

  // ABORT
  { name: 'ABORT while PROGRESSING', state: p1, command: cmd('ABORT', { reason: 'wrong build' }), expect: { action: 'ABORT', status: 'ABORTED', weight: 0, stepStartedAt: null, outcome: 'APPLIED', reason: 'aborted by alice: wrong build' } },
  { name: 'ABORT while PAUSED', state: paused({ stepIndex: 4, weight: 25 }), command: cmd('ABORT'), expect: { action: 'ABORT', status: 'ABORTED', weight: 0 } },
  { name: 'ABORT while PENDING', state: state({ status: 'PENDING', stepStartedAt: null }), command: cmd('ABORT'), expect: { action: 'ABORT', status: 'ABORTED', weight: 0 } },
  { name: 'ABORT while ROLLING_BACK', state: state({ status: 'ROLLING_BACK', stepStartedAt: null }), command: cmd('ABORT'), expect: { action: 'ABORT', status: 'ABORTED', weight: 0 } },

  // finished rollouts never change
  ...(['SUCCEEDED', 'ROLLED_BACK', 'ABORTED', 'FAILED'] as const).map(
    (status): Row => ({ name: `${status}: nothing to do`, state: state({ status, stepStartedAt: null, weight: status === 'SUCCEEDED' ? 100 : 0 }), gates: [fail()], expect: { action: null, status, reason: `the rollout is ${status}; nothing to do` } }),
  ),
]

function input(row: Pick<Row, 'state' | 'gates' | 'command' | 'canaryFailure' | 'now'>): DecideInput {
  return { state: row.state, gates: row.gates ?? null, command: row.command ?? null, canaryFailure: row.canaryFailure ?? null, now: row.now ?? T0 + S }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

describe('decide: transitions', () => {
  it.each(rows)('$name', (row) => {
    const given = deepFreeze(input(row))
    const d = decide(given)
    const e = row.expect
    expect(d.action).toBe(e.action)
    expect(d.next.status).toBe(e.status)
    expect(d.finished).toBe(isFinished(e.status))
    if (e.weight !== undefined) expect(d.next.weight).toBe(e.weight)
    if (e.stepIndex !== undefined) expect(d.next.stepIndex).toBe(e.stepIndex)
    if (e.stepStartedAt !== undefined) expect(d.next.stepStartedAt).toBe(e.stepStartedAt)
    if (e.reason !== undefined) expect(d.reason).toContain(e.reason)
    expect(d.actor).toBe(e.actor ?? (row.command && d.commandOutcome === 'APPLIED' ? row.command.actor : 'controller'))
    if (e.outcome !== undefined) expect(d.commandOutcome).toContain(e.outcome)
    if (row.command) expect(d.commandOutcome).toBeDefined()
    else expect(d.commandOutcome).toBeUndefined()
    // A hold changes nothing; the steps snapshot and the initial flag never change.
    if (d.action === null) expect(d.next).toEqual(row.state)
    expect(d.next.steps).toBe(row.state.steps)
    expect(d.next.initial).toBe(row.state.initial)
    expect(d.reason.length).toBeGreaterThan(0)
  })

  it('gives the actor of an applied command, else the controller', () => {
    expect(decide(input({ state: p1, command: cmd('PAUSE', { actor: 'dave' }) })).actor).toBe('dave')
    expect(decide(input({ state: p1, gates: [fail()] })).actor).toBe('controller')
  })
})

/** Every (status, command) the API would refuse, written out rather than derived. */
const ILLEGAL: [RolloutStatus, CommandKind][] = [
  ['PENDING', 'RESUME'],
  ['PROGRESSING', 'RESUME'],
  ['PAUSED', 'PAUSE'],
  ['ROLLING_BACK', 'PROMOTE'],
  ['ROLLING_BACK', 'PAUSE'],
  ['ROLLING_BACK', 'RESUME'],
  ['ROLLING_BACK', 'ROLLBACK'],
  ...(['SUCCEEDED', 'ROLLED_BACK', 'ABORTED', 'FAILED'] as const).flatMap((status) => COMMAND_KINDS.map((kind): [RolloutStatus, CommandKind] => [status, kind])),
]

describe('decide: illegal commands', () => {
  it('lists exactly the pairs commandRefusal refuses', () => {
    const refused = ROLLOUT_STATUSES.flatMap((status) => COMMAND_KINDS.filter((kind) => commandRefusal(kind, status) !== null).map((kind) => `${status} ${kind}`))
    expect(ILLEGAL.map(([status, kind]) => `${status} ${kind}`).sort()).toEqual(refused.sort())
  })

  it.each(ILLEGAL)('%s: %s is rejected and changes nothing', (status, kind) => {
    for (const full of [false, true]) {
      const s = state({ status, stepIndex: 1, weight: 5, stepStartedAt: status === 'PENDING' ? null : T0 })
      const d = decide(deepFreeze(input({ state: s, gates: [fail()], command: cmd(kind, { full, actor: 'erin', reason: 'why not' }) })))
      expect(d.action).toBeNull()
      expect(d.next).toEqual(s)
      expect(d.finished).toBe(isFinished(status))
      expect(d.actor).toBe('erin')
      expect(d.commandOutcome).toBe(`REJECTED: ${commandRefusal(kind, status)}`)
      expect(d.reason).toContain(`${kind.toLowerCase()} by erin rejected: cannot ${kind.toLowerCase()} a rollout that is ${status}`)
      expect(d.evidence.command).toEqual({ kind, full, actor: 'erin', reason: 'why not' })
    }
  })
})

describe('decide: evidence', () => {
  it('includes every gate verdict it rested on, dry-run ones too, JSON-safe', () => {
    const gates = [fail('errors'), dry(pass('p95')), inconclusive('latency', 2, 6)]
    const d = decide(input({ state: p1, gates, now: T0 + 12 * S }))
    expect(d.action).toBe('ROLLBACK')
    expect(d.evidence).toEqual({
      stepIndex: 1,
      step: 'analyze',
      elapsedMs: 12 * S,
      fromWeight: 5,
      toWeight: 0,
      gates: [
        { gate: 'errors', verdict: 'FAIL', dryRun: false, value: 0.01, baseline: 0.004, reason: gates[0]?.verdict.reason, inconclusiveStreak: 0, inconclusiveLimit: 6, evidence: { gate: 'errors' } },
        { gate: 'p95', verdict: 'PASS', dryRun: true, value: 0.01, baseline: 0.004, reason: 'p95 fine', inconclusiveStreak: 0, inconclusiveLimit: 6, evidence: { gate: 'p95' } },
        { gate: 'latency', verdict: 'INCONCLUSIVE', dryRun: false, value: null, baseline: 0.004, reason: 'no canary data for errorRate in the window', inconclusiveStreak: 2, inconclusiveLimit: 6, evidence: { gate: 'latency' } },
      ],
      command: null,
      canaryFailure: null,
    })
    const stored: { [key: string]: Json } = d.evidence
    expect(JSON.parse(JSON.stringify(stored))).toEqual(stored)
  })

  it('keeps a crashed canary as a FAIL in the evidence', () => {
    const d = decide(input({ state: p1, canaryFailure: 'canary process exited with code 1' }))
    expect(d.evidence.canaryFailure).toEqual({ verdict: 'FAIL', reason: 'canary process exited with code 1' })
  })

  it('records the command and no step before the rollout started', () => {
    const d = decide(input({ state: state({ status: 'PENDING', stepStartedAt: null }), command: cmd('PAUSE', { reason: 'later' }) }))
    expect(d.evidence).toMatchObject({ step: null, elapsedMs: null, command: { kind: 'PAUSE', full: false, actor: 'alice', reason: 'later' } })
  })

  it('turns a NaN value into null', () => {
    const g = pass()
    const d = decide(input({ state: p1, gates: [{ ...g, verdict: { ...g.verdict, value: Number.NaN } }], now: T0 + MIN }))
    expect(d.evidence.gates[0]?.value).toBeNull()
  })
})

describe('decide: the step clock', () => {
  it('starts a missing clock on a hold, and says so in next', () => {
    const s = state({ stepIndex: 1, weight: 5, stepStartedAt: null })
    const d = decide(input({ state: s, gates: [pass()], now: T0 + 3 * S }))
    expect(d.action).toBeNull()
    expect(d.next).toEqual({ ...s, stepStartedAt: T0 + 3 * S })
  })
})

describe('exports', () => {
  it('lists every action and the finished statuses', () => {
    expect(ACTIONS).toEqual(['INITIAL_DEPLOY', 'START', 'SET_WEIGHT', 'ADVANCE', 'PAUSE', 'RESUME', 'ROLLBACK', 'ROLLED_BACK', 'ABORT', 'PROMOTE', 'COMPLETE'])
    expect(ROLLOUT_STATUSES.filter(isFinished)).toEqual(['SUCCEEDED', 'ROLLED_BACK', 'ABORTED', 'FAILED'])
  })
})

/**
 * A stand-in loop: ticks every `tickMs`, hands the machine the verdicts `verdicts` gives for
 * the current step, resumes a pause for a person with `resumeAfter` ticks, and stops when
 * the rollout is finished.
 */
function walk(
  steps: readonly PlannedStep[],
  tickMs: number,
  verdicts: (step: PlannedStep, tick: number, now: MachineState) => GateInput[] | null,
  options: { resumeAfter?: number; initial?: boolean } = {},
): { decisions: Decision[]; pausedAt: number[]; final: MachineState } {
  let s: MachineState = { status: 'PENDING', stepIndex: 0, stepStartedAt: null, weight: 0, steps, initial: options.initial ?? false }
  const decisions: Decision[] = []
  const pausedAt: number[] = []
  let pausedTicks = 0
  for (let tick = 0; tick < 10_000 && !isFinished(s.status); tick += 1) {
    const now = T0 + tick * tickMs
    const current = s.steps[s.stepIndex]
    const analyzing = s.status === 'PROGRESSING' && current?.kind === 'analyze'
    let command: CommandInput | null = null
    if (s.status === 'PAUSED') {
      pausedTicks += 1
      if (pausedTicks > (options.resumeAfter ?? 3)) command = cmd('RESUME', { actor: 'ops' })
    }
    const d = decide({ state: s, gates: analyzing && current ? verdicts(current, tick, s) : null, command, canaryFailure: null, now })
    if (d.action !== null) decisions.push(d)
    if (d.action === 'PAUSE') {
      pausedAt.push(d.next.stepIndex)
      pausedTicks = 0
    }
    s = d.next
  }
  return { decisions, pausedAt, final: s }
}

const allPass = (): GateInput[] => [pass('errors'), pass('p95')]

describe('walking a whole rollout', () => {
  it('walks the DESIGN.md canary with all-PASS verdicts: 5 → 25 → 50 → 100, pausing at the pause step', () => {
    const { decisions, pausedAt, final } = walk(CANARY, 5 * S, allPass)
    expect(decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ADVANCE', 'PAUSE', 'RESUME', 'SET_WEIGHT', 'ADVANCE', 'PROMOTE'])
    expect(decisions.filter((d) => d.action === 'SET_WEIGHT' || d.action === 'PROMOTE').map((d) => d.next.weight)).toEqual([5, 25, 50, 100])
    expect(pausedAt).toEqual([4])
    expect(decisions.find((d) => d.action === 'RESUME')).toMatchObject({ actor: 'ops', commandOutcome: 'APPLIED', next: { stepIndex: 5 } })
    expect(final).toMatchObject({ status: 'SUCCEEDED', weight: 100 })
    expect(decisions.at(-1)?.finished).toBe(true)
  })

  it.each([1 * S, 3 * S, 5 * S, 7 * S, 20 * S, 61 * S])('reaches the same end at any tick interval (%i ms), never advancing an analysis early', (tickMs) => {
    const { decisions, final } = walk(CANARY, tickMs, allPass)
    expect(final.status).toBe('SUCCEEDED')
    const weights = decisions.map((d) => d.next.weight)
    expect(weights).toEqual([...weights].sort((a, b) => a - b))
    for (const d of decisions.filter((x) => x.action === 'ADVANCE')) {
      const step = CANARY[d.evidence.stepIndex]
      const minMs = step?.kind === 'analyze' ? Number((step.spec['analyze'] as { minMs: number }).minMs) : 0
      expect(d.evidence.elapsedMs).toBeGreaterThanOrEqual(minMs)
    }
  })

  it('never advances on INCONCLUSIVE: pauses at the limit, and RESUME retries the analysis', () => {
    // Inconclusive until tick 20, then passing; streaks restart when the step clock does.
    let streak = 0
    let clock: number | null = null
    const { decisions, final } = walk(
      CANARY,
      5 * S,
      (_step, tick, current) => {
        if (current.stepStartedAt !== clock) streak = 0
        clock = current.stepStartedAt
        if (tick >= 20) return allPass()
        streak += 1
        return [pass('p95'), inconclusive('errors', streak, 6)]
      },
      { resumeAfter: 1 },
    )
    const firstPause = decisions.find((d) => d.action === 'PAUSE')
    expect(firstPause?.reason).toContain('errors: no canary data for errorRate in the window for 6 windows in a row')
    expect(decisions.filter((d) => d.action === 'ADVANCE' && (d.evidence.gates as { verdict: string }[]).some((g) => g.verdict !== 'PASS'))).toEqual([])
    expect(final.status).toBe('SUCCEEDED')
  })

  it('rolls back on the first FAIL and finishes ROLLED_BACK at weight 0', () => {
    const { decisions, final } = walk(CANARY, 5 * S, (_step, tick) => (tick > 12 ? [fail(), pass('p95')] : allPass()))
    expect(decisions.slice(-2).map((d) => d.action)).toEqual(['ROLLBACK', 'ROLLED_BACK'])
    expect(final).toMatchObject({ status: 'ROLLED_BACK', weight: 0 })
  })

  it('walks blue/green: preview at 0, analyze, switch to 100, promote', () => {
    const { decisions, final } = walk(BLUE_GREEN(true), 5 * S, allPass)
    expect(decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'PROMOTE'])
    expect(decisions.map((d) => d.next.weight)).toEqual([0, 0, 0, 100, 100])
    expect(final.status).toBe('SUCCEEDED')
  })

  it('walks blue/green without autoPromote: waits for a person before the switch', () => {
    const { decisions, pausedAt } = walk(BLUE_GREEN(false), 5 * S, allPass)
    expect(decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'PAUSE', 'RESUME', 'SET_WEIGHT', 'PROMOTE'])
    expect(pausedAt).toEqual([2])
  })

  it('deploys an application with no stable version at once', () => {
    const { decisions, final } = walk(CANARY, 5 * S, allPass, { initial: true })
    expect(decisions.map((d) => d.action)).toEqual(['INITIAL_DEPLOY'])
    expect(final).toMatchObject({ status: 'SUCCEEDED', weight: 100 })
  })
})
