import type { AppSpec, GateSpec } from '../schema/spec.ts'
import type { GateVerdict } from './judges/judge.ts'
import { judgeFor } from './judges/index.ts'
import { NoDataError, type TelemetryProvider, type WindowQuery, type WindowSample } from './telemetry/provider.ts'

/** How far back a window reaches: from the step's start, but no further than this. */
export const MAX_WINDOW_MS = 60_000

export interface GateEvaluation {
  gate: GateSpec
  verdict: GateVerdict
  /** The window the verdict rests on; null when the provider gave none. */
  sample: WindowSample | null
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
  timeoutMs: number
}

/**
 * Which provider answers a gate: `builtin` for signals; a declared provider by name when the
 * gate names a `source`; otherwise the default provider of the gate's kind.
 */
export function providerKey(gate: GateSpec): string {
  if (gate.provider === undefined) return 'builtin'
  return gate.source !== undefined ? `source:${gate.source}` : gate.provider
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
      let sample: WindowSample
      try {
        sample = await provider.sample(query, AbortSignal.timeout(input.timeoutMs))
      } catch (error) {
        const reason =
          error instanceof NoDataError
            ? `no data: ${error.message}`
            : error instanceof Error && error.name === 'TimeoutError'
              ? `${kind} did not answer within ${input.timeoutMs} ms`
              : `${kind} failed: ${message(error)}`
        return gates.map((gate) => ({ gate, sample: null, verdict: inconclusive(gate, reason) }))
      }
      const history = [...(input.history?.(kind) ?? []), sample]
      return gates.map((gate) => {
        try {
          return { gate, sample, verdict: judgeFor(gate.judge).judge(history, gate) }
        } catch (error) {
          return { gate, sample, verdict: inconclusive(gate, `the ${gate.judge.kind} judge could not decide: ${message(error)}`) }
        }
      })
    }),
  )
  const flat = results.flat()
  // Keep the spec's gate order: evidence and decisions read better that way.
  return spec.gates.map((gate) => flat.find((e) => e.gate.name === gate.name)!)
}
