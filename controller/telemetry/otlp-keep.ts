import type { LinkedSpan, NewLinkedTrace } from '../../schema/store/index.ts'
import { STATUS_ERROR, STATUS_OK } from './otlp-model.ts'
import type { AttributedSpan, FinishedTrace } from './otlp-traces.ts'

/** The rollout an application is in, as the receiver sees it (otlp-rollouts.ts). */
export interface ActiveRollout {
  id: string
  stepIndex: number
  fromVersion: string | null
  toVersion: string
}

export interface KeepLimits {
  /** Error traces kept per rollout, step, version and window. */
  errorTraces: number
  /** Slowest healthy traces kept per rollout, step, version and window. */
  slowest: number
  windowMs: number
  /** Traces waiting to be saved at most; past it new ones are dropped (and counted). */
  maxQueued: number
  /** Rollout-step-version windows tracked at once; past it, traces of new ones are not kept. */
  maxWindows: number
}

export const DEFAULT_KEEP_LIMITS: KeepLimits = { errorTraces: 10, slowest: 5, windowMs: 10_000, maxQueued: 1000, maxWindows: 200 }

interface WindowState {
  errors: number
  /** The slowest healthy traces of the window so far, ascending by duration, at most `slowest`. */
  slowest: NewLinkedTrace[]
}

/**
 * Chooses the linked traces of a rollout from finished traces: for the canary and the
 * baseline version, per step and per window (ten seconds by default), every error trace up
 * to `errorTraces`, saved at once, and the `slowest` slowest healthy ones, saved when their
 * window is over (only then is "slowest" known). Memory: `slowest` candidates per tracked
 * window, at most `maxWindows` windows, and `maxQueued` traces waiting to be saved.
 */
export class LinkedTraceKeeper {
  readonly #limits: KeepLimits
  readonly #rolloutOf: (application: string) => ActiveRollout | null
  #windows = new Map<string, WindowState>()
  #windowIndex = -1
  #queue: NewLinkedTrace[] = []
  dropped = 0

  constructor(rolloutOf: (application: string) => ActiveRollout | null, limits: Partial<KeepLimits> = {}) {
    this.#rolloutOf = rolloutOf
    this.#limits = { ...DEFAULT_KEEP_LIMITS, ...limits }
  }

  get queued(): number {
    return this.#queue.length
  }

  consider(trace: FinishedTrace, nowMs: number): void {
    this.#roll(nowMs)
    for (const part of trace.parts) {
      const rollout = this.#rolloutOf(part.application)
      if (!rollout || (part.version !== rollout.toVersion && part.version !== rollout.fromVersion)) continue
      const key = `${rollout.id}\u0000${rollout.stepIndex}\u0000${part.version}`
      let state = this.#windows.get(key)
      if (!state) {
        if (this.#windows.size >= this.#limits.maxWindows) continue
        state = { errors: 0, slowest: [] }
        this.#windows.set(key, state)
      }
      const durationMs = traceDuration(trace)
      if (part.error) {
        if (state.errors >= this.#limits.errorTraces) continue
        state.errors += 1
        this.#enqueue(toLinkedTrace(trace, part.application, part.version, true, rollout, durationMs))
        continue
      }
      const { slowest } = this.#limits
      if (slowest <= 0) continue
      if (state.slowest.length >= slowest && durationMs <= state.slowest[0]!.durationMs) continue
      state.slowest.push(toLinkedTrace(trace, part.application, part.version, false, rollout, durationMs))
      state.slowest.sort((a, b) => a.durationMs - b.durationMs)
      if (state.slowest.length > slowest) state.slowest.shift()
    }
  }

  /** The traces due to be saved, emptied: the errors, and the slowest of windows that are over (of every window with `all`). */
  take(nowMs: number, { all = false }: { all?: boolean } = {}): NewLinkedTrace[] {
    this.#roll(nowMs)
    if (all) this.#release()
    const taken = this.#queue
    this.#queue = []
    return taken
  }

  /** A new window: the old windows' slowest are final. */
  #roll(nowMs: number): void {
    const index = Math.floor(nowMs / this.#limits.windowMs)
    if (index === this.#windowIndex) return
    this.#release()
    this.#windowIndex = index
  }

  #release(): void {
    for (const state of this.#windows.values()) for (const trace of state.slowest) this.#enqueue(trace)
    this.#windows = new Map()
  }

  #enqueue(trace: NewLinkedTrace): void {
    if (this.#queue.length >= this.#limits.maxQueued) this.dropped += 1
    else this.#queue.push(trace)
  }
}

/** The root span's duration, else the extent of the spans seen. */
function traceDuration(trace: FinishedTrace): number {
  if (trace.root) return trace.root.span.endMs - trace.root.span.startMs
  const spans = trace.spans
  if (spans.length === 0) return 0
  return Math.max(...spans.map((s) => s.span.endMs)) - Math.min(...spans.map((s) => s.span.startMs))
}

function toLinkedTrace(trace: FinishedTrace, application: string, version: string, error: boolean, rollout: ActiveRollout, durationMs: number): NewLinkedTrace {
  const first = trace.root ?? trace.spans.reduce<AttributedSpan | null>((a, s) => (a === null || s.span.startMs < a.span.startMs ? s : a), null)
  return {
    rolloutId: rollout.id,
    stepIndex: rollout.stepIndex,
    traceId: trace.traceId,
    version,
    status: error ? 'error' : 'ok',
    durationMs: Math.max(0, durationMs),
    rootName: first?.span.name ?? '',
    at: new Date(first?.span.startMs ?? Date.now()),
    application,
    service: first?.application ?? application,
    error,
    source: 'otlp',
    spans: trace.spans.map(toLinkedSpan),
  }
}

function toLinkedSpan(s: AttributedSpan): LinkedSpan {
  const { span } = s
  return {
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    service: s.application,
    startMs: span.startMs,
    durationMs: Math.max(0, span.endMs - span.startMs),
    status: span.statusCode === STATUS_ERROR ? 'error' : span.statusCode === STATUS_OK ? 'ok' : 'unset',
    kind: span.kind,
    attributes: span.attributes,
  }
}
