import { isValidSpanId, isValidTraceId, type NewLinkedTrace } from '../../schema/store/index.ts'
import type { LinkedSpan } from '../../schema/store/models.ts'
import { pooled } from './loki-tempo-http.ts'
import type { WindowQuery } from './provider.ts'
import type { TempoProvider, TempoSpan, TempoTrace, TraceExemplar } from './tempo.ts'

/**
 * Tempo exemplars as linked traces: the error and slowest traces a Tempo gate's window
 * holds, fetched with their spans so the graph can draw a waterfall of what failed.
 */

export interface ExemplarBudget {
  /** Error traces per version. */
  errors: number
  /** Slowest (non-error) traces per version. */
  slowest: number
  /** Traces fetched and saved in all, canary first. */
  total: number
}

export const DEFAULT_EXEMPLAR_BUDGET: ExemplarBudget = { errors: 4, slowest: 2, total: 8 }

/** Unix nanoseconds (a digit string) as fractional epoch milliseconds, to the microsecond. */
function msOfNanos(ns: string): number {
  return Number(BigInt(ns) / 1000n) / 1000
}

function linkedSpanOf(span: TempoSpan): LinkedSpan | null {
  // Tempo's data is not ours to refuse whole: a span without a usable id is left out.
  if (!isValidSpanId(span.spanId)) return null
  return {
    spanId: span.spanId,
    parentSpanId: span.parentSpanId !== null && isValidSpanId(span.parentSpanId) ? span.parentSpanId : null,
    name: span.name,
    service: span.service ?? '',
    startMs: msOfNanos(span.startTimeUnixNano),
    durationMs: Math.max(0, span.durationMs),
    status: span.status,
    kind: span.kind,
    attributes: span.attributes,
  }
}

/** The linked trace of an exemplar; `trace` null (Tempo no longer has it) keeps the search summary alone. */
export function linkedTraceOf(
  exemplar: TraceExemplar,
  trace: TempoTrace | null,
  where: { rolloutId: string; stepIndex: number; application: string },
): NewLinkedTrace {
  const spans = (trace?.spans ?? []).map(linkedSpanOf).filter((s): s is LinkedSpan => s !== null)
  const root = spans.find((s) => s.parentSpanId === null) ?? spans[0]
  const error = exemplar.status === 'error' || spans.some((s) => s.status === 'error')
  return {
    rolloutId: where.rolloutId,
    stepIndex: where.stepIndex,
    application: where.application,
    traceId: exemplar.traceId,
    version: exemplar.version,
    status: error ? 'error' : 'ok',
    error,
    durationMs: exemplar.durationMs,
    rootName: exemplar.rootName ?? root?.name ?? '',
    service: root?.service ?? '',
    at: exemplar.startedAt,
    source: 'tempo',
    spans,
  }
}

/**
 * The window's exemplars (error traces first, canary first), each fetched with its spans,
 * at most `budget.total`, skipping `known` trace ids (already linked). Throws when the
 * searches fail; a single trace that cannot be fetched keeps its search summary.
 */
export async function exemplarTraces(
  tempo: TempoProvider,
  q: WindowQuery,
  where: { rolloutId: string; stepIndex: number },
  { budget = DEFAULT_EXEMPLAR_BUDGET, known = new Set<string>(), signal }: { budget?: ExemplarBudget; known?: ReadonlySet<string>; signal: AbortSignal },
): Promise<NewLinkedTrace[]> {
  const exemplars = await tempo.exemplars(q, { errors: budget.errors, slowest: budget.slowest }, signal)
  const rank = (e: TraceExemplar): number => (e.why === 'error' ? 0 : 1) * 2 + (e.version === q.canaryVersion ? 0 : 1)
  const chosen = exemplars
    .filter((e) => isValidTraceId(e.traceId) && !known.has(e.traceId))
    .sort((a, b) => rank(a) - rank(b))
    .filter((e, i, all) => all.findIndex((o) => o.traceId === e.traceId) === i)
    .slice(0, budget.total)
  return pooled(
    chosen.map((exemplar) => async () => {
      const trace = await tempo.fetchTrace(exemplar.traceId, signal).catch((error: unknown) => {
        if (signal.aborted) throw error
        return null
      })
      return linkedTraceOf(exemplar, trace, { ...where, application: q.application })
    }),
    4,
  )
}
