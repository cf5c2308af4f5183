import type { LinkedSpan, LinkedTrace, SpanStatus, TraceSource } from './models.ts'

/**
 * Checks and caps a linked trace before it is stored. Identifiers that cannot be right (trace
 * and span ids, sources, numbers) refuse the whole save; sizes that are merely large (span
 * count, attribute maps, long names) are cut down, because traces come from services Sentra
 * does not control and one noisy span must not fill the database.
 */

export const MAX_SPANS_PER_TRACE = 500
export const MAX_ATTRIBUTES_PER_SPAN = 32
export const MAX_ATTRIBUTE_KEY_CHARS = 128
export const MAX_ATTRIBUTE_VALUE_CHARS = 256
/** Span names, services and root names are cut to this many characters (root_name is varchar(255)). */
export const MAX_NAME_CHARS = 255

export type NewLinkedTrace = Omit<LinkedTrace, 'id' | 'spanCount'> & { spans: readonly LinkedSpan[] }

/** A trace the store refused; nothing of the save it was part of was written. */
export class InvalidTraceError extends RangeError {
  readonly code = 'BAD_USER_INPUT' as const
  override readonly name = 'InvalidTraceError'
}

const TRACE_ID = /^[0-9a-f]{32}$/i
const SPAN_ID = /^[0-9a-f]{16}$/i
const SOURCES: ReadonlySet<string> = new Set<TraceSource>(['otlp', 'tempo'])
const STATUSES: ReadonlySet<string> = new Set<SpanStatus>(['ok', 'error', 'unset'])
const KINDS: ReadonlySet<string> = new Set(['server', 'client', 'internal', 'producer', 'consumer', 'unspecified'])

/** A W3C trace id: 32 hex characters, not all zero. */
export function isValidTraceId(value: unknown): value is string {
  return typeof value === 'string' && TRACE_ID.test(value) && !/^0+$/.test(value)
}

/** A W3C span id: 16 hex characters, not all zero. */
export function isValidSpanId(value: unknown): value is string {
  return typeof value === 'string' && SPAN_ID.test(value) && !/^0+$/.test(value)
}

/** The first `max` code points of `text` (never half a surrogate pair). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  return Array.from(text).slice(0, max).join('')
}

/** A trace as it will be stored: validated, lowercased ids, capped spans. */
export interface CheckedTrace {
  trace: Omit<LinkedTrace, 'id'>
  spans: LinkedSpan[]
}

export function checkTrace(input: NewLinkedTrace): CheckedTrace {
  const fail = (why: string): never => {
    const id = typeof input.traceId === 'string' ? truncate(input.traceId, 40) : String(input.traceId)
    throw new InvalidTraceError(`linked trace "${id}" refused: ${why}`)
  }
  if (!isValidTraceId(input.traceId)) fail('traceId must be 32 hex characters, not all zero')
  if (typeof input.rolloutId !== 'string' || input.rolloutId === '') fail('rolloutId is required')
  if (!Number.isInteger(input.stepIndex) || input.stepIndex < 0) fail(`stepIndex must be a non-negative integer, got ${input.stepIndex}`)
  if (typeof input.version !== 'string' || input.version === '' || input.version.length > 64) fail('version must be 1 to 64 characters')
  if (typeof input.application !== 'string' || input.application.length > 63) fail('application must be at most 63 characters')
  if (!SOURCES.has(input.source)) fail(`source must be otlp or tempo, got ${String(input.source)}`)
  if (!isFiniteNonNegative(input.durationMs)) fail(`durationMs must be a finite non-negative number, got ${input.durationMs}`)
  if (!(input.at instanceof Date) || !Number.isFinite(input.at.getTime())) fail('at must be a valid Date')
  if (!Array.isArray(input.spans)) fail('spans must be an array')
  const spans = capSpans(input.spans.map((span, i) => checkSpan(span, (why) => fail(`span ${i}: ${why}`))))
  const error = input.error === true || String(input.status).toLowerCase() === 'error'
  return {
    trace: {
      rolloutId: input.rolloutId,
      stepIndex: input.stepIndex,
      traceId: input.traceId.toLowerCase(),
      version: input.version,
      status: error ? 'error' : 'ok',
      durationMs: input.durationMs,
      rootName: truncate(String(input.rootName ?? ''), MAX_NAME_CHARS),
      at: input.at,
      application: input.application,
      service: truncate(String(input.service ?? ''), MAX_NAME_CHARS),
      error,
      source: input.source,
      spanCount: input.spans.length,
    },
    spans,
  }
}

function isFiniteNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

function checkSpan(span: LinkedSpan, fail: (why: string) => never): LinkedSpan {
  if (typeof span !== 'object' || span === null) fail('must be an object')
  if (!isValidSpanId(span.spanId)) fail('spanId must be 16 hex characters, not all zero')
  const parent = span.parentSpanId === '' || span.parentSpanId == null ? null : span.parentSpanId
  if (parent !== null && !isValidSpanId(parent)) fail('parentSpanId must be 16 hex characters or null')
  if (typeof span.startMs !== 'number' || !Number.isFinite(span.startMs)) fail('startMs must be a finite number')
  if (!isFiniteNonNegative(span.durationMs)) fail('durationMs must be a finite non-negative number')
  const status = String(span.status).toLowerCase()
  if (!STATUSES.has(status)) fail(`status must be ok, error or unset, got ${String(span.status)}`)
  const kind = String(span.kind ?? '').toLowerCase()
  return {
    spanId: span.spanId.toLowerCase(),
    parentSpanId: parent === null ? null : parent.toLowerCase(),
    name: truncate(String(span.name ?? ''), MAX_NAME_CHARS),
    service: truncate(String(span.service ?? ''), MAX_NAME_CHARS),
    startMs: span.startMs,
    durationMs: span.durationMs,
    status: status as SpanStatus,
    kind: KINDS.has(kind) ? kind : 'unspecified',
    attributes: capAttributes(span.attributes),
  }
}

/** The first MAX_ATTRIBUTES_PER_SPAN usable entries; values that are not scalars are dropped. */
export function capAttributes(attributes: unknown): Record<string, string | number | boolean> {
  const capped: Record<string, string | number | boolean> = {}
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) return capped
  let kept = 0
  for (const [key, value] of Object.entries(attributes)) {
    if (kept >= MAX_ATTRIBUTES_PER_SPAN) break
    if (key === '' || key.length > MAX_ATTRIBUTE_KEY_CHARS || key === '__proto__') continue
    if (typeof value === 'string') capped[key] = truncate(value, MAX_ATTRIBUTE_VALUE_CHARS)
    else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) capped[key] = value
    else continue
    kept++
  }
  return capped
}

/**
 * At most MAX_SPANS_PER_TRACE spans, in start order. When there are more, root spans and
 * error spans are kept before the rest (earliest first): they are what a waterfall of a
 * failing request needs.
 */
export function capSpans(spans: LinkedSpan[]): LinkedSpan[] {
  const byStart = (a: LinkedSpan, b: LinkedSpan): number => a.startMs - b.startMs || (a.spanId < b.spanId ? -1 : 1)
  if (spans.length <= MAX_SPANS_PER_TRACE) return [...spans].sort(byStart)
  const rank = (s: LinkedSpan): number => (s.parentSpanId === null ? 0 : s.status === 'error' ? 1 : 2)
  const kept = [...spans].sort((a, b) => rank(a) - rank(b) || byStart(a, b)).slice(0, MAX_SPANS_PER_TRACE)
  return kept.sort(byStart)
}
