import type { AppSpec, GateSpec } from '../schema/spec.ts'
import type { GateVerdict } from './judges/judge.ts'
import { JudgeRuns } from './judge-runs.ts'
import { judgeFor } from './judges/index.ts'
import { applyKayentaScore } from './judges/mann-whitney-group.ts'
import { NoDataError, type TelemetryProvider, type WindowQuery, type WindowSample } from './telemetry/provider.ts'

/** How far back a window reaches: from the step's start, but no further than this. */
export const MAX_WINDOW_MS = 60_000

export interface GateEvaluation {
  gate: GateSpec
  verdict: GateVerdict
  /** The window the verdict rests on; null when the provider gave none. */
  sample: WindowSample | null
  /**
   * Sequential gates only: this tick's own interval (see {@link incrementWindow}), already
   * added to the gate's run in `runs`; null when there was none.
   */
  increment?: WindowSample | null
}

export interface EvaluateInput {
  spec: AppSpec
  canaryVersion: string
  baselineVersion: string | null
  canaryWeight: number
  stepStartedAt: number
  now: number
  providers: ReadonlyMap<string, TelemetryProvider>
  /** Earlier windows of this rollout per provider, oldest first, for judges that use history. */
  history?: (provider: string) => readonly WindowSample[]
  /**
   * The rollout's sequential analyses, kept by the caller between ticks: each tick adds its
   * increment (disjoint, on whole seconds) to every sequential gate's run in it. Without it
   * a sequential gate is judged on this tick's increment alone.
   */
  runs?: JudgeRuns
  timeoutMs: number
}

const SECOND = 1000

/**
 * The interval a sequential judge gets this tick: from where the previous increment ended (or
 * the step's start, whichever is later) to the last whole second before `now`. Whole seconds,
 * because Sentra's proxy counts per second and a window edge inside a second includes all of
 * it: [a, b] and [b, c] on whole seconds share no request, so a sequential test that
 * multiplies their evidence counts every request once. The second still being filled is left
 * for the next tick, so every increment is complete. null when not a whole second has passed.
 */
export function incrementWindow(previousEnd: number | null, stepStartedAt: number, now: number): { start: Date; end: Date } | null {
  const from = Math.ceil(Math.max(previousEnd ?? Number.NEGATIVE_INFINITY, stepStartedAt) / SECOND) * SECOND
  const to = Math.floor(now / SECOND) * SECOND
  return to - from >= SECOND ? { start: new Date(from), end: new Date(to) } : null
}

/**
 * Judges that multiply evidence over time (those with runs: sequential) must never see a
 * request twice: they are fed the per-tick increments; every other judge the sliding window.
 */
export function usesIncrements(gate: GateSpec): boolean {
  return judgeFor(gate.judge).start !== undefined
}

/**
 * Which provider answers a gate: `builtin` for signals; a declared provider by name when the
 * gate names a `source`; otherwise the default provider of the gate's kind.
 */
export function providerKey(gate: GateSpec): string {
  if (gate.provider === undefined) return 'builtin'
  return gate.source !== undefined ? `source:${gate.source}` : gate.provider
}

/**
 * What AbortSignal.timeout gives (aborted with a "TimeoutError" after `ms`), but released
 * when the queries are done: AbortSignal.timeout's timer lives its whole course and then
 * builds a DOMException and dispatches an abort nobody awaits, for every query of every
 * tick (at 2,000 ticks a second, 20,000 live timers and about 3 % of the controller's CPU).
 */
function timeoutSignal(ms: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException(`The operation timed out after ${ms} ms`, 'TimeoutError')), ms)
  return { signal: controller.signal, clear: () => clearTimeout(timer) }
}

function inconclusive(gate: GateSpec, reason: string): GateVerdict {
  return { gate: gate.name, verdict: 'INCONCLUSIVE', value: null, baseline: null, reason, evidence: { reason } }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Samples every provider the gates name (one query per provider per tick) and judges each
 * gate on its window. Whatever goes wrong, missing provider, no data, timeout, a judge
 * that throws, becomes an INCONCLUSIVE verdict with the reason: never a PASS.
 */
export async function evaluateGates(input: EvaluateInput): Promise<GateEvaluation[]> {
  const { spec, now, stepStartedAt } = input
  const byProvider = new Map<string, GateSpec[]>()
  for (const gate of spec.gates) {
    const key = providerKey(gate)
    byProvider.set(key, [...(byProvider.get(key) ?? []), gate])
  }
  const start = new Date(Math.max(stepStartedAt, now - MAX_WINDOW_MS))
  const end = new Date(now)
  const runs = input.runs ?? new JudgeRuns()
  const results = await Promise.all(
    [...byProvider].map(async ([kind, gates]): Promise<GateEvaluation[]> => {
      const provider = input.providers.get(kind)
      if (!provider) {
        const what = kind.startsWith('source:') ? `provider "${kind.slice('source:'.length)}" is declared` : `${kind} provider is declared (applyProvider)`
        return gates.map((gate) => ({ gate, sample: null, verdict: inconclusive(gate, `no ${what}`) }))
      }
      const query: WindowQuery = {
        application: spec.name,
        canaryVersion: input.canaryVersion,
        baselineVersion: input.baselineVersion,
        start,
        end,
        canaryWeight: input.canaryWeight,
        gates,
        intervalMs: spec.intervalMs,
      }
      const failure = (error: unknown): string =>
        error instanceof NoDataError
          ? `no data: ${error.message}`
          : error instanceof Error && error.name === 'TimeoutError'
            ? `${kind} did not answer within ${input.timeoutMs} ms`
            : `${kind} failed: ${message(error)}`
      const window = gates.some(usesIncrements) ? incrementWindow(runs.lastEnd(kind), stepStartedAt, now) : null
      // One query for the sliding window, and for sequential gates one for this tick's increment.
      const deadline = timeoutSignal(input.timeoutMs)
      const [main, extra] = await Promise.allSettled([
        provider.sample(query, deadline.signal),
        window === null ? Promise.resolve(null) : provider.sample({ ...query, ...window }, deadline.signal),
      ]).finally(deadline.clear)
      if (main.status === 'rejected') {
        const reason = failure(main.reason)
        return gates.map((gate) => ({ gate, sample: null, verdict: inconclusive(gate, reason) }))
      }
      const sample = main.value
      const increment = extra.status === 'fulfilled' ? extra.value : null
      // The next increment starts where the one asked for ended, whatever end the provider
      // reports: an earlier one would count its requests twice.
      if (increment !== null && window !== null) runs.advance(kind, window.end.getTime())
      // Built only for gates that read it: a sequential gate is judged by its run.
      let history: WindowSample[] | null = null
      return gates.map((gate) => {
        const judge = judgeFor(gate.judge)
        const start = judge.start
        try {
          if (start === undefined) return { gate, sample, verdict: judge.judge((history ??= [...(input.history?.(kind) ?? []), sample]), gate) }
          if (extra.status === 'rejected') return { gate, sample, increment: null, verdict: inconclusive(gate, failure(extra.reason)) }
          const run = runs.runFor(gate, start)
          if (increment !== null) run.add(increment)
          if (run.samples === 0) {
            // The step began less than a whole second ago: too early, not missing data.
            const reason = 'collecting evidence: less than one whole second of this step so far'
            return { gate, sample, increment: null, verdict: { ...inconclusive(gate, reason), evidence: { reason, state: 'collecting' } } }
          }
          return { gate, sample, increment, verdict: run.verdict() }
        } catch (error) {
          return { gate, sample, verdict: inconclusive(gate, `the ${gate.judge.kind} judge could not decide: ${message(error)}`) }
        }
      })
    }),
  )
  runs.retain(spec.gates)
  // Kayenta judges all its metrics by one score: every mannWhitney gate gets that verdict.
  const flat = applyKayentaScore(results.flat())
  // Keep the spec's gate order: evidence and decisions read better that way.
  return spec.gates.map((gate) => flat.find((e) => e.gate.name === gate.name)!)
}
