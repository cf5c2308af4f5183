import type { CliRolloutDetailFragment, RolloutStatus } from '../gql/graphql.ts'
import { formatNumber } from './text.ts'

type Step = CliRolloutDetailFragment['steps'][number]
type Gate = CliRolloutDetailFragment['gates'][number]

/** Every rollout status, as the schema has them (checked against the generated type). */
export const ROLLOUT_STATUSES = [
  'PENDING',
  'PROGRESSING',
  'PAUSED',
  'SUCCEEDED',
  'ROLLING_BACK',
  'ROLLED_BACK',
  'ABORTED',
  'FAILED',
] as const satisfies readonly RolloutStatus[]

// Fails to compile when the schema gains a status this list lacks.
const _everyStatus: Exclude<RolloutStatus, (typeof ROLLOUT_STATUSES)[number]> extends never ? true : never = true
void _everyStatus

/** Statuses a rollout never leaves. */
export const FINISHED_STATUSES: ReadonlySet<RolloutStatus> = new Set(['SUCCEEDED', 'ROLLED_BACK', 'ABORTED', 'FAILED'])

/** `v1 → v2`, or `(none) → v1` for a first deploy. */
export function versions(r: { fromVersion: string | null; toVersion: string }): string {
  return `${r.fromVersion ?? '(none)'} → ${r.toVersion}`
}

/** `20%`. */
export function percent(weight: number): string {
  return `${weight}%`
}

/** `2/4`; `0/4` before the first step; `done` once SUCCEEDED. */
export function stepPosition(r: { currentStepIndex: number; status: RolloutStatus }, stepCount: number): string {
  if (r.status === 'SUCCEEDED') return 'done'
  if (stepCount === 0) return '-'
  if (r.status === 'PENDING') return `0/${stepCount}`
  return `${Math.min(r.currentStepIndex + 1, stepCount)}/${stepCount}`
}

/** What a step does: `set weight 20%`, `analyze 3s..60s`, `pause until resumed`. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'SET_WEIGHT':
      return `set weight ${step.setWeight ?? '?'}%`
    case 'ANALYZE':
      return `analyze ${step.analyzeMin ?? '0s'}${step.analyzeMax ? `..${step.analyzeMax}` : ''}`
    case 'PAUSE':
      return step.pauseDuration ? `pause ${step.pauseDuration}` : 'pause until resumed'
  }
}

/** The current step as `step 2/4: analyze 3s..60s`, or where the rollout is when no step runs. */
export function currentStep(r: CliRolloutDetailFragment): string {
  const step = r.steps[r.currentStepIndex]
  if (r.status === 'PENDING') return 'not started'
  if (r.status === 'SUCCEEDED') return 'done'
  if (FINISHED_STATUSES.has(r.status)) return `stopped at step ${stepPosition(r, r.steps.length)}`
  if (!step) return 'all steps done'
  return `step ${stepPosition(r, r.steps.length)}: ${describeStep(step)}`
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

/** A gate's judge in a few words: `threshold max 0.02`, `relative +0.03 x2`, `sequential alpha 0.01`. */
export function describeJudge(judge: unknown): string {
  const j = record(judge)
  const num = (key: string): string | null => (typeof j[key] === 'number' ? formatNumber(j[key]) : null)
  const parts = [typeof j.kind === 'string' ? j.kind : 'judge']
  if (num('min') !== null) parts.push(`min ${num('min')}`)
  if (num('max') !== null) parts.push(`max ${num('max')}`)
  if (num('maxIncrease') !== null) parts.push(`+${num('maxIncrease')}`)
  if (num('maxRatio') !== null) parts.push(`x${num('maxRatio')}`)
  if (num('alpha') !== null) parts.push(`alpha ${num('alpha')}`)
  return parts.join(' ')
}

/** What a gate reads: its built-in signal, or `provider: query`. */
export function describeSource(gate: Gate): string {
  if (gate.signal) return gate.signal
  return gate.provider ? `${gate.provider}${gate.query ? `: ${gate.query}` : ''}` : '-'
}

/** `errors PASS, latency INCONCLUSIVE`, or `no verdicts yet`. */
export function verdicts(gates: readonly Gate[]): string {
  const judged = gates.filter((g) => g.lastResult)
  if (judged.length === 0) return gates.length === 0 ? 'no gates' : 'no verdicts yet'
  return judged.map((g) => `${g.name} ${g.lastResult!.verdict}${g.dryRun ? ' (dry run)' : ''}`).join(', ')
}
