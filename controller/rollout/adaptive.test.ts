/**
 * Adaptive weights in the state machine (rollout/adaptive.ts), as a table in the style of
 * controller/rollout.test.ts: (state, verdicts, now) → one decision.
 */
import { describe, expect, it } from 'vitest'
import type { PlannedStep } from '../../schema/rollout-steps.ts'
import type { AdaptiveSpec } from '../../schema/spec.ts'
import type { Action } from '../rollout.ts'
import { decide } from '../rollout.ts'
import type { GateInput, MachineState } from './types.ts'

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0)
const S = 1000

const analyze = (min: string): PlannedStep => ({ kind: 'analyze', spec: { analyze: { min, minMs: Number.parseInt(min, 10) * S } } })
const setWeight = (w: number): PlannedStep => ({ kind: 'setWeight', spec: { setWeight: w } })
/** 0 setWeight 5 · 1 analyze · 2 setWeight 10 · 3 analyze · 4 setWeight 25 · 5 analyze · 6 setWeight 50 · 7 analyze · 8 pause {} · 9 setWeight 100 */
const LADDER: PlannedStep[] = [
  setWeight(5),
  analyze('20s'),
  setWeight(10),
  analyze('20s'),
  setWeight(25),
  analyze('20s'),
  setWeight(50),
  analyze('20s'),
  { kind: 'pause', spec: { pause: {} } },
  setWeight(100),
]
const ADAPTIVE: AdaptiveSpec = { maxStep: 40, risk: 0.5 }

function state(patch: Partial<MachineState> = {}): MachineState {
  return { status: 'PROGRESSING', stepIndex: 1, stepStartedAt: T0, weight: 5, steps: LADDER, initial: false, adaptive: ADAPTIVE, ...patch }
}

/** A PASS verdict; `headroom` as a sequential judge reports it, or none (threshold, relative). */
function pass(gate: string, headroom: number | null, dryRun = false): GateInput {
  return {
    verdict: { gate, verdict: 'PASS', value: 0.003, baseline: 0.003, reason: `${gate} fine`, evidence: headroom === null ? { gate } : { gate, headroom } },
    dryRun,
    inconclusiveStreak: 0,
    inconclusiveLimit: 6,
  }
}
const fail = (gate: string): GateInput => ({
  verdict: { gate, verdict: 'FAIL', value: 0.05, baseline: 0.005, reason: 'e-value 312 ≥ 100 = 1/alpha', evidence: { gate } },
  dryRun: false,
  inconclusiveStreak: 0,
  inconclusiveLimit: 6,
})

interface Row {
  name: string
  state: MachineState
  gates: GateInput[]
  now?: number
  expect: { action: Action | null; weight: number; stepIndex: number; stepStartedAt?: number | null; reason?: string; adaptive?: 'bigger' | 'smaller' | null }
}

const AT_MIN = T0 + 20 * S

const rows: Row[] = [
  // bigger steps while the evidence is strong
  { name: 'headroom 1: +40 pp from 5 %, skipping 10 % → 25 %', state: state(), gates: [pass('errors', 1)], expect: { action: 'SET_WEIGHT', weight: 25, stepIndex: 5, stepStartedAt: AT_MIN, adaptive: 'bigger', reason: 'headroom 1.00 allows +40 pp (maxStep 40 pp, risk 0.5), so weight 5 % → 25 %, skipping the planned 10 % step' } },
  { name: 'headroom 0.5 at risk 0.5 earns the full maxStep', state: state(), gates: [pass('errors', 0.5)], expect: { action: 'SET_WEIGHT', weight: 25, stepIndex: 5, adaptive: 'bigger' } },
  { name: 'the smallest headroom of the gates decides', state: state(), gates: [pass('errors', 1), pass('latency', 0.1)], expect: { action: 'ADVANCE', weight: 5, stepIndex: 2, adaptive: null, reason: 'headroom 0.10 (errors 1.00, latency 0.10) allows +8 pp' } },
  { name: 'maxStep 100: as far as the next pause, never past it', state: state({ adaptive: { maxStep: 100, risk: 0.5 } }), gates: [pass('errors', 1)], expect: { action: 'SET_WEIGHT', weight: 50, stepIndex: 7, adaptive: 'bigger', reason: 'skipping the planned 10 %, 25 % steps' } },
  { name: 'risk 0: the allowance is maxStep × headroom', state: state({ adaptive: { maxStep: 40, risk: 0 } }), gates: [pass('errors', 0.5)], expect: { action: 'SET_WEIGHT', weight: 25, stepIndex: 5, adaptive: 'bigger', reason: 'allows +20 pp' } },
  { name: 'a dry-run gate without headroom does not count', state: state(), gates: [pass('errors', 1), pass('p95', null, true)], expect: { action: 'SET_WEIGHT', weight: 25, stepIndex: 5, adaptive: 'bigger' } },

  // as planned
  { name: 'allowance reaches the next step only: advance as planned', state: state(), gates: [pass('errors', 0.1)], expect: { action: 'ADVANCE', weight: 5, stepIndex: 2, adaptive: null, reason: 'the next planned step is within it' } },
  { name: 'a gate without headroom (relative judge): as planned', state: state(), gates: [pass('errors', 1), pass('p95', null)], expect: { action: 'ADVANCE', weight: 5, stepIndex: 2, adaptive: null, reason: 'p95 reports no headroom, so the weights stay as planned' } },
  { name: 'a pause comes next: never skipped', state: state({ stepIndex: 7, weight: 50 }), gates: [pass('errors', 1)], expect: { action: 'ADVANCE', weight: 50, stepIndex: 8, adaptive: null } },
  { name: 'without adaptive: the plan as written', state: state({ adaptive: null }), gates: [pass('errors', 1)], expect: { action: 'ADVANCE', weight: 5, stepIndex: 2, adaptive: null, reason: 'analysis passed after 20s: errors: errors fine' } },

  // smaller steps while it is weak
  { name: 'headroom 0.1 at 25 % (planned 50 %): +8 pp, analyzing again at 33 %', state: state({ stepIndex: 5, weight: 25 }), gates: [pass('errors', 0.1)], expect: { action: 'SET_WEIGHT', weight: 33, stepIndex: 5, stepStartedAt: AT_MIN, adaptive: 'smaller', reason: 'less than the planned +25 pp, so weight 25 % → 33 % and this analysis runs again there' } },
  { name: 'headroom 0: a quarter of the gap, at least', state: state({ stepIndex: 5, weight: 25 }), gates: [pass('errors', 0)], expect: { action: 'SET_WEIGHT', weight: 32, stepIndex: 5, adaptive: 'smaller' } },
  { name: 'again at 44 %: a quarter of the planned 25 → 50 gap reaches 50 → as planned', state: state({ stepIndex: 5, weight: 44 }), gates: [pass('errors', 0)], expect: { action: 'ADVANCE', weight: 44, stepIndex: 6, adaptive: null } },

  // what adaptive never changes
  { name: 'a FAIL still rolls back at once', state: state(), gates: [fail('errors')], now: T0 + 3 * S, expect: { action: 'ROLLBACK', weight: 0, stepIndex: 1, adaptive: null } },
  { name: 'before min: hold, whatever the headroom', state: state(), gates: [pass('errors', 1)], now: T0 + 19 * S, expect: { action: null, weight: 5, stepIndex: 1, adaptive: null } },
]

describe('decide: adaptive weights', () => {
  it.each(rows)('$name', (row) => {
    const d = decide({ state: row.state, gates: row.gates, command: null, canaryFailure: null, now: row.now ?? AT_MIN })
    expect(d.action).toBe(row.expect.action)
    expect(d.next.weight).toBe(row.expect.weight)
    expect(d.next.stepIndex).toBe(row.expect.stepIndex)
    if (row.expect.stepStartedAt !== undefined) expect(d.next.stepStartedAt).toBe(row.expect.stepStartedAt)
    if (row.expect.reason !== undefined) expect(d.reason).toContain(row.expect.reason)
    expect(d.evidence.adaptive?.kind ?? null).toBe(row.expect.adaptive ?? null)
    expect(d.next.steps).toBe(row.state.steps)
    expect(d.next.adaptive).toEqual(row.state.adaptive)
  })

  it('records the headroom, allowance and planned weight in the decision evidence', () => {
    const d = decide({ state: state({ stepIndex: 5, weight: 25 }), gates: [pass('errors', 0.1)], command: null, canaryFailure: null, now: AT_MIN })
    expect(d.evidence.adaptive).toEqual({ kind: 'smaller', headroom: 0.1, allowance: 8, maxStep: 40, risk: 0.5, plannedWeight: 50 })
  })

  it('walks a healthy canary up the ladder faster than planned, and a borderline one in smaller steps', () => {
    const walk = (headroom: number): number[] => {
      let s = state({ stepIndex: 0, weight: 0 })
      const weights: number[] = []
      for (let now = T0, i = 0; i < 40 && s.status === 'PROGRESSING' && s.steps[s.stepIndex]?.kind !== 'pause'; i++, now += 20 * S) {
        const d = decide({ state: s, gates: [pass('errors', headroom)], command: null, canaryFailure: null, now })
        if (d.next.weight !== s.weight) weights.push(d.next.weight)
        s = d.next
      }
      return weights
    }
    expect(walk(1)).toEqual([5, 25, 50])
    expect(walk(0.1)).toEqual([5, 10, 18, 25, 33, 41, 49, 50])
    // Headroom 0: quarter steps of the planned gap (25 → 50: +7 pp), never more than four.
    expect(walk(0)).toEqual([5, 7, 9, 10, 14, 18, 22, 25, 32, 39, 46, 50])
  })
})
