/**
 * Evidence-driven weights (`strategy.canary.adaptive: { maxStep, risk }`): what happens when
 * an analyze step passes, given how much of their margins the gates left unused.
 *
 * The rule, applied only when an analyze step passes (every blocking gate PASS, `min` over):
 * 1. The run ahead is the planned steps after this analysis up to the next pause (pauses
 *    wait for a person and are never skipped). Its first setWeight is the planned next
 *    weight N; without one, or when N is not above the current weight W, the plan is kept.
 * 2. The headroom h is the smallest headroom of the blocking gates: each sequential PASS
 *    reports how much of its margin the canary's estimate leaves unused (1 = as good as the
 *    baseline, 0 = right at the margin; controller/judges/sequential.ts). A gate that reports
 *    none (threshold, relative) keeps the plan: there is nothing to scale by.
 * 3. The allowance is A = round(maxStep × min(1, h / (1 − risk))) percentage points: the
 *    full maxStep from a headroom of 1 − risk (risk 0.5: half the margin unused is enough).
 * 4. Bigger: if W + A reaches N, the rollout goes to the furthest planned setWeight of the
 *    run whose weight, and every planned weight before it, is at most W + A, skipping the
 *    steps in between (their analyses included: the evidence so far already covers them).
 *    Weights stay on the planned ladder; the step after that setWeight runs next.
 * 5. Smaller: if W + A falls short of N, the weight rises by max(A, ⌈(N − P) / 4⌉) only,
 *    where P is the weight the plan set before this analysis, and this analysis runs again at
 *    the new weight (its clock restarts: `min` applies again). Each such step covers at
 *    least a quarter of the planned gap, so N is reached after at most four of them.
 * A FAIL still rolls back at once at any weight; adaptive steps change only how fast a
 * canary that keeps passing gets its traffic.
 */
import type { AdaptiveSpec } from '../../schema/spec.ts'
import type { GateInput, MachineState } from './types.ts'
import { readStep } from './steps.ts'

export type AdaptivePlan =
  | { kind: 'planned'; note: string | null }
  | { kind: 'bigger'; weight: number; stepIndex: number; skipped: number[]; headroom: number; allowance: number; note: string }
  | { kind: 'smaller'; weight: number; planned: number; headroom: number; allowance: number; note: string }

/** The planned setWeight steps after `from`, up to the next pause (index and weight). */
function runAhead(state: MachineState, from: number): { index: number; weight: number }[] {
  const run: { index: number; weight: number }[] = []
  for (let index = from; index < state.steps.length; index++) {
    const plan = readStep(state.steps[index]!)
    if (typeof plan === 'string' || plan.kind === 'pause') break
    if (plan.kind === 'setWeight') run.push({ index, weight: plan.weight })
  }
  return run
}

/** The weight the plan set last before the current step (0 before any setWeight). */
function plannedBefore(state: MachineState): number {
  for (let index = Math.min(state.stepIndex, state.steps.length) - 1; index >= 0; index--) {
    const plan = readStep(state.steps[index]!)
    if (typeof plan !== 'string' && plan.kind === 'setWeight') return plan.weight
  }
  return 0
}

/** A gate's headroom from its PASS evidence, or null when its judge reports none. */
export function headroomOf(gate: GateInput): number | null {
  const h = gate.verdict.evidence['headroom']
  return typeof h === 'number' && Number.isFinite(h) ? Math.min(1, Math.max(0, h)) : null
}

function points(n: number): string {
  return `${n} pp`
}

/** What an adaptive rollout does after analyze step `state.stepIndex` passed (see the rule above). */
export function adaptiveStep(state: MachineState, gates: readonly GateInput[] | null, adaptive: AdaptiveSpec): AdaptivePlan {
  const run = runAhead(state, state.stepIndex + 1)
  const next = run[0]
  const w = state.weight
  if (next === undefined || next.weight <= w) return { kind: 'planned', note: null }
  const blocking = (gates ?? []).filter((g) => !g.dryRun)
  if (blocking.length === 0) return { kind: 'planned', note: null }
  const each = blocking.map((g) => ({ gate: g.verdict.gate, headroom: headroomOf(g) }))
  const silent = each.filter((g) => g.headroom === null).map((g) => g.gate)
  if (silent.length > 0) {
    return { kind: 'planned', note: `adaptive: ${silent.join(', ')} report${silent.length === 1 ? 's' : ''} no headroom, so the weights stay as planned` }
  }
  const headroom = Math.min(...each.map((g) => g.headroom!))
  const risk = Math.min(Math.max(adaptive.risk, 0), 0.99)
  const allowance = Math.round(adaptive.maxStep * Math.min(1, headroom / (1 - risk)))
  const detail = each.length === 1 ? `headroom ${headroom.toFixed(2)}` : `headroom ${headroom.toFixed(2)} (${each.map((g) => `${g.gate} ${g.headroom!.toFixed(2)}`).join(', ')})`
  const allows = `${detail} allows +${points(allowance)} (maxStep ${points(adaptive.maxStep)}, risk ${adaptive.risk})`

  if (w + allowance >= next.weight) {
    let furthest = next
    for (const step of run) {
      if (step.weight > w + allowance || step.weight < furthest.weight) break
      furthest = step
    }
    if (furthest.index === next.index) return { kind: 'planned', note: `adaptive: ${allows}; the next planned step is within it` }
    const skipped = run.filter((s) => s.index < furthest.index).map((s) => s.weight)
    const note = `adaptive: ${allows}, so weight ${w} % → ${furthest.weight} %, skipping the planned ${skipped.map((s) => `${s} %`).join(', ')} step${skipped.length === 1 ? '' : 's'}`
    return { kind: 'bigger', weight: furthest.weight, stepIndex: furthest.index + 1, skipped, headroom, allowance, note }
  }

  const rise = Math.max(allowance, Math.ceil((next.weight - plannedBefore(state)) / 4))
  const weight = Math.min(next.weight, w + rise)
  if (weight >= next.weight) return { kind: 'planned', note: `adaptive: ${allows}` }
  const note = `adaptive: ${allows}, less than the planned +${points(next.weight - w)}, so weight ${w} % → ${weight} % and this analysis runs again there`
  return { kind: 'smaller', weight, planned: next.weight, headroom, allowance, note }
}
