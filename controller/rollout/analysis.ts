/**
 * An analyze step's verdict for one tick, from its gates and its clock. Order matters:
 * a FAIL rolls back even before `min`; all-PASS after `min` advances even at `max`; only
 * then do a stuck gate or an expired `max` pause; everything else holds.
 */
import { formatDuration } from '../../schema/spec/duration.ts'
import type { GateInput } from './types.ts'

export type AnalysisOutcome =
  | { kind: 'fail'; reason: string }
  | { kind: 'pass'; reason: string }
  | { kind: 'pause'; reason: string }
  | { kind: 'hold'; reason: string }

export interface AnalysisClock {
  elapsedMs: number
  minMs: number
  maxMs: number | null
}

/** Whole seconds, the way specs are written: 20345 -> "20s". */
export function formatElapsed(ms: number): string {
  return formatDuration(Math.max(0, Math.round(ms / 1000) * 1000))
}

export function analyze(gates: readonly GateInput[] | null, clock: AnalysisClock): AnalysisOutcome {
  const { elapsedMs, minMs, maxMs } = clock
  // Dry-run gates are evidence only: they never fail, block or pause.
  const blocking = (gates ?? []).filter((g) => !g.dryRun)
  const failed = blocking.filter((g) => g.verdict.verdict === 'FAIL')
  if (failed.length > 0) {
    return { kind: 'fail', reason: failed.map((g) => `${g.verdict.gate} failed: ${g.verdict.reason}`).join('; ') }
  }

  // No gates at all is a spec error caught earlier; here it is simply no verdict.
  const judged = gates !== null && gates.length > 0
  const allPass = judged && blocking.every((g) => g.verdict.verdict === 'PASS')
  if (allPass && elapsedMs >= minMs) {
    const detail = blocking.length === 0 ? 'every gate is dry-run' : blocking.map((g) => `${g.verdict.gate}: ${g.verdict.reason}`).join('; ')
    return { kind: 'pass', reason: `analysis passed after ${formatElapsed(elapsedMs)}: ${detail}` }
  }

  const stuck = blocking.filter((g) => g.verdict.verdict === 'INCONCLUSIVE' && g.inconclusiveStreak >= g.inconclusiveLimit)
  if (stuck.length > 0) {
    const detail = stuck.map((g) => `${g.verdict.gate}: ${g.verdict.reason} for ${g.inconclusiveStreak} windows in a row`)
    return { kind: 'pause', reason: `${detail.join('; ')}; waiting for a person` }
  }

  const waiting = blocking.filter((g) => g.verdict.verdict !== 'PASS').map((g) => `${g.verdict.gate}: ${g.verdict.reason}`)
  const why = !judged ? (gates === null ? 'no verdicts this window' : 'no gates to judge') : waiting.join('; ')
  if (maxMs !== null && elapsedMs >= maxMs) {
    return { kind: 'pause', reason: `analysis reached its ${formatDuration(maxMs)} limit without a verdict (${why}); waiting for a person` }
  }
  if (allPass) {
    return { kind: 'hold', reason: `all gates pass; analysis runs at least ${formatDuration(minMs)} (${formatElapsed(elapsedMs)} so far)` }
  }
  return { kind: 'hold', reason: `analyzing for ${formatElapsed(elapsedMs)}: ${why}` }
}
