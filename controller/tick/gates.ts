/**
 * The pure part of a tick's analysis: how this tick's gate evaluations become the state
 * machine's {@link GateInput}s (with their inconclusive streaks), and what the tick keeps of
 * the windows for the judges' history. controller/tick.ts wraps these in I/O (the store,
 * the providers); bench/canary drives them directly, so the benchmark judges exactly as the
 * controller does.
 */
import type { GateResult, Json } from '../../schema/store/models.ts'
import type { GateEvaluation } from '../evaluate.ts'
import { providerKey, usesIncrements } from '../evaluate.ts'
import type { GateInput, MachineState } from '../rollout/types.ts'
import type { WindowSample } from '../telemetry/provider.ts'

/** Windows kept per provider for judges that look at history (a tick's memory). */
export const HISTORY_LIMIT = 600

/** What the streak count reads of a stored gate result. */
export type StreakRecord = Pick<GateResult, 'gate' | 'stepIndex' | 'at' | 'verdict' | 'evidence'>

/**
 * A sequential judge that has data but not yet enough evidence says so ("collecting"):
 * that is progress, not missing data, and must not count toward the inconclusive limit.
 */
export function isCollecting(evidence: { [key: string]: Json } | undefined): boolean {
  return evidence?.state === 'collecting'
}

/** Consecutive INCONCLUSIVE results per gate within the current step, newest backwards. */
export function inconclusiveStreaks(results: readonly StreakRecord[], stepIndex: number, since: number | null): Map<string, number> {
  const streaks = new Map<string, number>()
  const closed = new Set<string>()
  for (let i = results.length - 1; i >= 0; i--) {
    const result = results[i]!
    if (closed.has(result.gate)) continue
    if (result.stepIndex !== stepIndex || (since !== null && result.at.getTime() < since) || result.verdict !== 'INCONCLUSIVE' || isCollecting(result.evidence)) {
      closed.add(result.gate)
      continue
    }
    streaks.set(result.gate, (streaks.get(result.gate) ?? 0) + 1)
  }
  return streaks
}

/** How many recent gate results the streak count needs: every gate, up to the largest limit. */
export function streakLookback(gates: readonly { inconclusiveLimit: number }[]): number {
  return gates.length * Math.max(...gates.map((g) => g.inconclusiveLimit))
}

/**
 * Adds this tick's windows to the judges' history (each window once), keeping the last
 * {@link HISTORY_LIMIT}. Only windows a judge will read again: a provider whose gates are
 * all sequential (judged by their runs, on increments) keeps none, which with the proxy's
 * latency histograms would be a megabyte per rollout.
 */
export function rememberWindows(history: Map<string, WindowSample[]>, evaluations: readonly GateEvaluation[]): void {
  for (const { gate, sample } of evaluations) {
    if (!sample || usesIncrements(gate)) continue
    const key = providerKey(gate)
    let kept = history.get(key)
    if (kept === undefined) history.set(key, (kept = []))
    if (kept.at(-1) !== sample) kept.push(sample)
    if (kept.length > HISTORY_LIMIT) kept.splice(0, kept.length - HISTORY_LIMIT)
  }
}

/** This tick's verdicts as the state machine takes them; `streaks` counts the earlier results of this step. */
export function gateInputs(evaluations: readonly GateEvaluation[], streaks: ReadonlyMap<string, number>): GateInput[] {
  return evaluations.map(({ gate, verdict }) => ({
    verdict,
    dryRun: gate.dryRun,
    inconclusiveLimit: gate.inconclusiveLimit,
    inconclusiveStreak: verdict.verdict === 'INCONCLUSIVE' && !isCollecting(verdict.evidence) ? (streaks.get(gate.name) ?? 0) + 1 : 0,
  }))
}

/**
 * When the loop ticks again. At once when the next call has nothing to wait for: a rollback
 * to finish, a setWeight step to apply, or the promotion after the last step (neither needs
 * telemetry nor a clock, so an interval's wait only kept the canary longer at its old weight:
 * a rollout's first weight came one tick after its START). Else after the interval. Each
 * such call moves the rollout on by a step, so the immediate ticks end within its steps.
 */
export function nextTickDelayMs(next: MachineState, intervalMs: number): number {
  if (next.status === 'ROLLING_BACK') return 0
  if (next.status !== 'PROGRESSING') return intervalMs
  const step = next.steps[next.stepIndex]
  return step === undefined || step.kind === 'setWeight' ? 0 : intervalMs
}
