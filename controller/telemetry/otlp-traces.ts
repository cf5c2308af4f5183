import type { OtlpAggregator } from './otlp-aggregate.ts'
import { type DecodedSpan, STATUS_ERROR } from './otlp-model.ts'

/** A span with its resource's attribution and the time it is counted at (epoch ms). */
export interface AttributedSpan {
  span: DecodedSpan
  application: string
  version: string
  atMs: number
}

/** One application's (and version's) share of a trace: the trace counts once for each. */
export interface TracePart {
  application: string
  version: string
  error: boolean
  atMs: number
}

/** A trace whose spans have (most likely) all arrived. */
export interface FinishedTrace {
  traceId: string
  parts: TracePart[]
  /** The span without a parent, when it arrived. */
  root: AttributedSpan | null
  /** The spans kept for a linked trace (only for traces of an application under rollout), capped. */
  spans: AttributedSpan[]
  /** Spans seen, kept or not. */
  spanCount: number
}

export interface TraceAssemblerOptions {
  aggregator: OtlpAggregator
  /** Called for each finished trace that had spans kept (a linked-trace candidate). */
  onCandidate: (trace: FinishedTrace) => void
  /** How long after its root span a trace waits for stragglers (other services' spans). */
  rootGraceMs?: number
  /** How long a trace whose root never arrives waits before it is counted anyway. */
  orphanMs?: number
  /** Traces waiting at most; past it, the oldest is finished early. */
  maxPending?: number
  /** Spans held for candidates at most, over all waiting traces. */
  maxHeldSpans?: number
  /** Spans held per trace at most (the store keeps 500). */
  maxSpansPerTrace?: number
  /** Finished trace ids remembered, so a late span does not count its trace twice. */
  maxRemembered?: number
}

interface Pending {
  traceId: string
  firstSeenMs: number
  rootSeenMs: number | null
  root: AttributedSpan | null
  parts: Map<string, TracePart>
  spans: AttributedSpan[] | null
  spanCount: number
}

/**
 * Groups spans by trace id, waiting briefly for a trace's spans to arrive: a trace is
 * finished `rootGraceMs` after its root span arrived, or `orphanMs` after its first span
 * when no root comes (the root may belong to a service that does not export to us). Then
 * each application+version with spans in it counts one trace (an error trace when one of
 * its own spans failed: as Tempo's `{ resource.service.name = … && status = error }` does),
 * and traces with held spans go to `onCandidate`. Memory is bounded by `maxPending` and
 * `maxHeldSpans`; a span of a trace finished in the last `maxRemembered` traces updates
 * that trace's counts instead of starting a new one.
 */
export class TraceAssembler {
  readonly #o: Required<TraceAssemblerOptions>
  readonly #pending = new Map<string, Pending>()
  /** Finished traces: trace id -> part key -> the part as counted. */
  readonly #finished = new Map<string, Map<string, TracePart>>()
  #heldSpans = 0

  constructor(options: TraceAssemblerOptions) {
    this.#o = { rootGraceMs: 1000, orphanMs: 5000, maxPending: 50_000, maxHeldSpans: 20_000, maxSpansPerTrace: 500, maxRemembered: 50_000, ...options }
  }

  get pending(): number {
    return this.#pending.size
  }

  get heldSpans(): number {
    return this.#heldSpans
  }

  /** Adds one span; `hold` when its application is under rollout (its trace may be linked). */
  add(s: AttributedSpan, hold: boolean, nowMs: number): void {
    const key = partKey(s.application, s.version)
    const error = s.span.statusCode === STATUS_ERROR
    const done = this.#finished.get(s.span.traceId)
    if (done) {
      // A straggler of a finished trace: fix its counts, never count the trace twice.
      const part = done.get(key)
      if (!part) {
        const added = { application: s.application, version: s.version, error, atMs: s.atMs }
        done.set(key, added)
        this.#o.aggregator.addTrace(s.application, s.version, s.atMs, error)
      } else if (error && !part.error) {
        part.error = true
        this.#o.aggregator.markTraceError(part.application, part.version, part.atMs)
      }
      return
    }
    let trace = this.#pending.get(s.span.traceId)
    if (!trace) {
      if (this.#pending.size >= this.#o.maxPending) this.#finishOldest()
      trace = { traceId: s.span.traceId, firstSeenMs: nowMs, rootSeenMs: null, root: null, parts: new Map(), spans: null, spanCount: 0 }
      this.#pending.set(trace.traceId, trace)
    }
    trace.spanCount += 1
    const part = trace.parts.get(key)
    if (!part) trace.parts.set(key, { application: s.application, version: s.version, error, atMs: s.atMs })
    else {
      part.error ||= error
      part.atMs = Math.max(part.atMs, s.atMs)
    }
    if (s.span.parentSpanId === null && trace.root === null) {
      trace.root = s
      trace.rootSeenMs = nowMs
    }
    if (hold && this.#heldSpans < this.#o.maxHeldSpans) {
      trace.spans ??= []
      if (trace.spans.length < this.#o.maxSpansPerTrace) {
        trace.spans.push(s)
        this.#heldSpans += 1
      }
    }
  }

  /** Finishes every trace that is due at `nowMs`. */
  sweep(nowMs: number): void {
    for (const trace of this.#pending.values()) {
      const due = trace.rootSeenMs !== null ? nowMs - trace.rootSeenMs >= this.#o.rootGraceMs : nowMs - trace.firstSeenMs >= this.#o.orphanMs
      if (due) this.#finish(trace)
    }
  }

  /** Finishes every waiting trace (shutdown). */
  finishAll(): void {
    for (const trace of [...this.#pending.values()]) this.#finish(trace)
  }

  #finishOldest(): void {
    const oldest = this.#pending.values().next()
    if (!oldest.done) this.#finish(oldest.value)
  }

  #finish(trace: Pending): void {
    this.#pending.delete(trace.traceId)
    for (const part of trace.parts.values()) this.#o.aggregator.addTrace(part.application, part.version, part.atMs, part.error)
    this.#finished.set(trace.traceId, trace.parts)
    if (this.#finished.size > this.#o.maxRemembered) {
      const oldest = this.#finished.keys().next()
      if (!oldest.done) this.#finished.delete(oldest.value)
    }
    if (trace.spans !== null) {
      this.#heldSpans -= trace.spans.length
      this.#o.onCandidate({ traceId: trace.traceId, parts: [...trace.parts.values()], root: trace.root, spans: trace.spans, spanCount: trace.spanCount })
    }
  }
}

function partKey(application: string, version: string): string {
  return `${application}\u0000${version}`
}
