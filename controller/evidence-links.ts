import type { AppSpec } from '../schema/spec.ts'
import type { Store } from '../schema/store/index.ts'
import type { Json } from '../schema/store/models.ts'
import { truncate } from '../schema/store/trace-input.ts'
import { providerKey, type GateEvaluation } from './evaluate.ts'
import { LokiProvider } from './telemetry/loki.ts'
import type { TelemetryProvider, WindowQuery } from './telemetry/provider.ts'
import { TempoProvider } from './telemetry/tempo.ts'
import { DEFAULT_EXEMPLAR_BUDGET, exemplarTraces } from './telemetry/tempo-links.ts'

/**
 * What a decision at an analyze step links to, in its evidence JSON (read back by the graph,
 * schema/graph/trace-evidence.ts, as Decision.traces and Decision.logLines):
 *
 * - `traceIds`: the step's linked traces, error first then slowest, at most MAX_DECISION_TRACES.
 *   Before choosing, each Tempo provider's exemplars of the gate window are fetched and saved
 *   as linked traces (source 'tempo'), at most DEFAULT_EXEMPLAR_BUDGET.total per step; OTLP
 *   traces are already there (the receiver saves them).
 * - `logLines`: for Loki gates, the lines behind each gate's query (failing gates first,
 *   canary first), at most MAX_DECISION_LOG_LINES.
 * - `evidenceLinkErrors`: why a part could not be gathered. Linking never delays a decision
 *   beyond its timeout nor changes it: the decision stands on the gate verdicts alone.
 */

export const MAX_DECISION_TRACES = 10
export const MAX_DECISION_LOG_LINES = 20
/** Lines fetched per Loki gate and version before the overall cap. */
const LINES_PER_GATE = 10
/** A log line is cut to this many characters (a decision is also a webhook body). */
export const MAX_LOG_LINE_CHARS = 1024
const MAX_LABELS = 32
const MAX_LABEL_CHARS = 256

export type DecisionLogLine = {
  at: string
  line: string
  labels: Record<string, string>
  gate: string
  version: string
}

export interface EvidenceLinks {
  traceIds: string[]
  logLines: DecisionLogLine[]
  evidenceLinkErrors: string[]
}

export interface LinkInput {
  store: Store
  spec: AppSpec
  rolloutId: string
  stepIndex: number
  canaryVersion: string
  baselineVersion: string | null
  evaluations: readonly GateEvaluation[]
  providers: ReadonlyMap<string, TelemetryProvider>
  signal: AbortSignal
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function windowOf(input: LinkInput, evaluation: GateEvaluation): WindowQuery | null {
  const { sample } = evaluation
  if (!sample) return null
  return {
    application: input.spec.name,
    canaryVersion: input.canaryVersion,
    baselineVersion: input.baselineVersion,
    start: sample.start,
    end: sample.end,
    canaryWeight: sample.canaryWeight,
    gates: [evaluation.gate],
    intervalMs: input.spec.intervalMs,
  }
}

/** Saves each Tempo provider's exemplars of the window as linked traces of the step. */
async function linkTempoExemplars(input: LinkInput, errors: string[]): Promise<void> {
  const done = new Set<string>()
  for (const evaluation of input.evaluations) {
    const key = providerKey(evaluation.gate)
    const provider = input.providers.get(key)
    const q = windowOf(input, evaluation)
    if (!(provider instanceof TempoProvider) || q === null || done.has(key)) continue
    done.add(key)
    try {
      // Bounded per step: later decisions at the same step only top up to the budget.
      const [linked] = await input.store.evidence.stepTracesPages([{ rolloutId: input.rolloutId, stepIndex: input.stepIndex }], { first: 100 })
      const known = new Set(linked!.items.filter((i) => i.node.source === 'tempo').map((i) => i.node.traceId))
      const room = DEFAULT_EXEMPLAR_BUDGET.total - known.size
      if (room <= 0) continue
      const budget = { ...DEFAULT_EXEMPLAR_BUDGET, total: room }
      const traces = await exemplarTraces(provider, { ...q, gates: [] }, { rolloutId: input.rolloutId, stepIndex: input.stepIndex }, { budget, known, signal: input.signal })
      await input.store.evidence.saveTraces(traces)
    } catch (error) {
      errors.push(`tempo exemplars (${key}): ${message(error)}`)
    }
  }
}

function cappedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels)
      .slice(0, MAX_LABELS)
      .map(([k, v]) => [truncate(k, MAX_LABEL_CHARS), truncate(v, MAX_LABEL_CHARS)]),
  )
}

async function lokiLines(input: LinkInput, errors: string[]): Promise<DecisionLogLine[]> {
  const order = { FAIL: 0, INCONCLUSIVE: 1, PASS: 2 } as const
  const gates = [...input.evaluations].sort((a, b) => order[a.verdict.verdict] - order[b.verdict.verdict])
  const lines: DecisionLogLine[] = []
  for (const evaluation of gates) {
    if (lines.length >= MAX_DECISION_LOG_LINES) break
    const provider = input.providers.get(providerKey(evaluation.gate))
    const q = windowOf(input, evaluation)
    if (!(provider instanceof LokiProvider) || q === null) continue
    try {
      const found = await provider.evidenceLines(q, evaluation.gate, LINES_PER_GATE, input.signal)
      for (const { version, lines: versionLines } of found) {
        for (const l of versionLines) lines.push({ at: l.time.toISOString(), line: truncate(l.line, MAX_LOG_LINE_CHARS), labels: cappedLabels(l.labels), gate: evaluation.gate.name, version })
      }
    } catch (error) {
      errors.push(`loki lines (${evaluation.gate.name}): ${message(error)}`)
    }
  }
  return lines.slice(0, MAX_DECISION_LOG_LINES)
}

/** Gathers the links of a decision at an analyze step (see the file comment). Never throws. */
export async function linkEvidence(input: LinkInput): Promise<EvidenceLinks> {
  const tempoErrors: string[] = []
  const lokiErrors: string[] = []
  const [, logLines] = await Promise.all([linkTempoExemplars(input, tempoErrors), lokiLines(input, lokiErrors)])
  const errors = [...tempoErrors, ...lokiErrors]
  let traceIds: string[] = []
  try {
    const [page] = await input.store.evidence.stepTracesPages([{ rolloutId: input.rolloutId, stepIndex: input.stepIndex }], { first: MAX_DECISION_TRACES })
    traceIds = page!.items.map((i) => i.node.traceId)
  } catch (error) {
    errors.push(`linked traces: ${message(error)}`)
  }
  return { traceIds, logLines, evidenceLinkErrors: errors }
}

/** The links as evidence keys; nothing when there is nothing to link. */
export function evidenceKeys(links: EvidenceLinks): { [key: string]: Json } {
  return {
    traceIds: links.traceIds,
    logLines: links.logLines,
    ...(links.evidenceLinkErrors.length > 0 ? { evidenceLinkErrors: links.evidenceLinkErrors } : {}),
  }
}
