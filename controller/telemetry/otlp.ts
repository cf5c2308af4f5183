/**
 * Sentra's OTLP/HTTP receiver (docs/otlp.md): POST /v1/traces and /v1/logs on the API
 * server, protobuf or JSON, gzip or not. Spans and log records are attributed to an
 * application and version by their resource's service.name and service.version, counted
 * per second into the store (store.otlp, read by the built-in provider for traceErrorRate,
 * spanDurationP95 and logErrorRatio), and, while the application has an active rollout,
 * its interesting traces are kept as linked traces (store.evidence.saveTraces).
 *
 * Bounded: a payload limit (413), bytes in flight over all requests (429), seconds not yet
 * flushed to the store (503 while the store is behind), traces waiting for their spans,
 * spans held for linked traces, and linked traces per window. Every limit answers with the
 * status OTLP exporters understand (429/503 with Retry-After are retried).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Store } from '../../schema/store/index.ts'
import { OtlpAggregator } from './otlp-aggregate.ts'
import { decodeLogsJson, decodeTracesJson } from './otlp-json.ts'
import { type Encoding, encodingOf, OtlpHttpError, readBody, sendError, sendExportResponse } from './otlp-http.ts'
import { DEFAULT_KEEP_LIMITS, type KeepLimits, LinkedTraceKeeper } from './otlp-keep.ts'
import { type DecodedLogs, type DecodedTraces, isErrorLog, OtlpDecodeError, type ResourceBatch, STATUS_ERROR } from './otlp-model.ts'
import { decodeLogsProto, decodeTracesProto } from './otlp-proto.ts'
import { ApplicationDirectory } from './otlp-rollouts.ts'
import { TraceAssembler } from './otlp-traces.ts'

export const OTLP_PATHS = ['/v1/traces', '/v1/logs'] as const

export interface OtlpLimits {
  /** Largest request body, compressed or not (SENTRA_OTLP_MAX_BYTES). */
  maxBytes: number
  /** Request bytes held at once over all requests; past it, 429. */
  maxInflightBytes: number
  /** Application-version-seconds not yet written to the store; past it, 503. */
  maxPendingSeconds: number
}

export const DEFAULT_OTLP_LIMITS: OtlpLimits = { maxBytes: 4 * 1024 * 1024, maxInflightBytes: 32 * 1024 * 1024, maxPendingSeconds: 20_000 }

/** Who sent the payload: the API token's scope decides (operate or admin may write telemetry). */
export interface OtlpCaller {
  scope: 'read' | 'operate' | 'admin'
  /** A token limited to some applications (null or absent: every application) may not send telemetry. */
  applications?: ReadonlySet<string> | null
}

export interface OtlpReceiverOptions {
  store: Store
  limits?: Partial<OtlpLimits>
  keep?: Partial<KeepLimits>
  /** How often counts and linked traces are written to the store. */
  flushIntervalMs?: number
  /** Seconds older than this are deleted from the store. */
  retentionMs?: number
  /** Trace grouping (otlp-traces.ts): wait after the root span, and without one. */
  rootGraceMs?: number
  orphanMs?: number
  /** How long an application's existence and active rollout are cached (otlp-rollouts.ts). */
  applicationTtlMs?: number
  log?: (line: string) => void
  now?: () => number
}

/** Counters for tests, benchmarks and /metrics. */
export interface OtlpStats {
  acceptedSpans: number
  rejectedSpans: number
  acceptedLogs: number
  rejectedLogs: number
  savedTraces: number
  droppedTraces: number
  flushFailures: number
}

/** A time the client gave, unless it is implausibly far from ours (a wrong clock, or 0): then ours. */
const PAST_SKEW_MS = 15 * 60_000
const FUTURE_SKEW_MS = 60_000
const SWEEP_MS = 250
const PRUNE_EVERY_MS = 60_000

export class OtlpReceiver {
  readonly #store: Store
  readonly #limits: OtlpLimits
  readonly #now: () => number
  readonly #log: (line: string) => void
  readonly #retentionMs: number
  readonly #flushIntervalMs: number
  readonly #aggregator = new OtlpAggregator()
  readonly #directory: ApplicationDirectory
  readonly #keeper: LinkedTraceKeeper
  readonly #assembler: TraceAssembler
  readonly #timer: NodeJS.Timeout
  #inflightBytes = 0
  #flushing: Promise<void> | null = null
  #lastFlush = 0
  #lastPrune = 0
  #closed = false
  readonly stats: OtlpStats = { acceptedSpans: 0, rejectedSpans: 0, acceptedLogs: 0, rejectedLogs: 0, savedTraces: 0, droppedTraces: 0, flushFailures: 0 }

  constructor({ store, limits = {}, keep = {}, flushIntervalMs = 1000, retentionMs = 60 * 60_000, rootGraceMs, orphanMs, applicationTtlMs, log = () => {}, now = Date.now }: OtlpReceiverOptions) {
    this.#store = store
    const maxBytes = limits.maxBytes ?? DEFAULT_OTLP_LIMITS.maxBytes
    // In flight must fit a few of the largest bodies, or a large limit could never be met.
    this.#limits = { ...DEFAULT_OTLP_LIMITS, maxInflightBytes: Math.max(DEFAULT_OTLP_LIMITS.maxInflightBytes, 4 * maxBytes), ...limits }
    this.#now = now
    this.#log = log
    this.#retentionMs = retentionMs
    this.#flushIntervalMs = flushIntervalMs
    this.#directory = new ApplicationDirectory(store, applicationTtlMs !== undefined ? { ttlMs: applicationTtlMs } : {})
    this.#keeper = new LinkedTraceKeeper((application) => this.#directory.get(application).rollout, { ...DEFAULT_KEEP_LIMITS, ...keep })
    this.#assembler = new TraceAssembler({
      aggregator: this.#aggregator,
      onCandidate: (trace) => this.#keeper.consider(trace, this.#now()),
      ...(rootGraceMs !== undefined ? { rootGraceMs } : {}),
      ...(orphanMs !== undefined ? { orphanMs } : {}),
    })
    this.#timer = setInterval(() => this.#tick(), SWEEP_MS)
    this.#timer.unref()
  }

  get limits(): Readonly<OtlpLimits> {
    return this.#limits
  }

  /**
   * Answers one OTLP/HTTP request on /v1/traces or /v1/logs. `caller` is the authenticated
   * token (null: none or invalid). Never throws: every failure is an OTLP status answer.
   */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string, caller: OtlpCaller | null): Promise<void> {
    const signal = pathname === '/v1/logs' ? 'logs' : 'traces'
    const encoding = encodingOf(req.headers['content-type'])
    let held = 0
    try {
      if (req.method !== 'POST') throw new OtlpHttpError(405, `${pathname} accepts POST only`)
      if (caller === null) throw new OtlpHttpError(401, 'a valid API token is required (Authorization: Bearer <token>)')
      if (caller.scope === 'read') throw new OtlpHttpError(403, 'sending telemetry needs a token with the operate or admin scope (it can move rollouts)')
      // Payloads name their service freely, so a limited token could judge another application's rollout.
      if (caller.applications != null) throw new OtlpHttpError(403, 'sending telemetry needs a token that is not limited to some applications')
      if (encoding === null) throw new OtlpHttpError(415, `Content-Type "${req.headers['content-type'] ?? ''}" is not supported: use application/x-protobuf or application/json`)
      if (this.#closed) throw new OtlpHttpError(503, 'the OTLP receiver is shutting down', 2)
      if (this.#aggregator.size >= this.#limits.maxPendingSeconds) throw new OtlpHttpError(503, 'the OTLP receiver is behind writing to the store; retry later', 2)
      const reserve = (bytes: number): boolean => {
        if (this.#inflightBytes + bytes > this.#limits.maxInflightBytes) return false
        this.#inflightBytes += bytes
        held += bytes
        return true
      }
      const body = await readBody(req, this.#limits.maxBytes, reserve)
      if (signal === 'traces') {
        const decoded = decode(body, encoding, decodeTracesProto, decodeTracesJson)
        const result = await this.#ingestTraces(decoded)
        sendExportResponse(res, encoding, signal, result.rejected, result.message)
      } else {
        const decoded = decode(body, encoding, decodeLogsProto, decodeLogsJson)
        const result = await this.#ingestLogs(decoded)
        sendExportResponse(res, encoding, signal, result.rejected, result.message)
      }
    } catch (error) {
      if (res.headersSent) {
        res.destroy()
        return
      }
      if (error instanceof OtlpHttpError) sendError(res, encoding, error, error.status === 401 ? { 'www-authenticate': 'Bearer realm="sentra"' } : {})
      else if (error instanceof OtlpDecodeError) sendError(res, encoding, new OtlpHttpError(400, error.message))
      else {
        this.#log(`otlp: ${pathname} failed: ${error instanceof Error ? error.message : String(error)}`)
        sendError(res, encoding, new OtlpHttpError(503, 'the OTLP receiver could not process the request; retry later', 2))
      }
    } finally {
      this.#inflightBytes -= held
    }
  }

  async #ingestTraces(batches: DecodedTraces): Promise<{ rejected: number; message: string }> {
    const now = this.#now()
    const problems: string[] = []
    const accepted = await this.#attribute(batches, now, problems)
    let rejected = batches.reduce((n, b) => n + b.rejected + b.items.length, 0)
    // Synchronous from here on: the whole payload lands at once or (on a throw) not at all.
    for (const { batch, application, version } of accepted) {
      const hold = this.#directory.get(application).rollout !== null
      for (const span of batch.items) {
        const atMs = plausible(span.endMs, now)
        const error = span.statusCode === STATUS_ERROR
        // Entry spans (server spans and roots) measure what callers waited for: their durations make spanDurationP95.
        const entry = span.kind === 'server' || span.parentSpanId === null
        this.#aggregator.addSpan(application, version, atMs, error, entry ? Math.max(0, span.endMs - span.startMs) : null)
        this.#assembler.add({ span, application, version, atMs }, hold, now)
      }
      rejected -= batch.items.length
      this.stats.acceptedSpans += batch.items.length
    }
    this.stats.rejectedSpans += rejected
    return { rejected, message: summary(problems, rejected, 'spans') }
  }

  async #ingestLogs(batches: DecodedLogs): Promise<{ rejected: number; message: string }> {
    const now = this.#now()
    const problems: string[] = []
    const accepted = await this.#attribute(batches, now, problems)
    let rejected = batches.reduce((n, b) => n + b.rejected + b.items.length, 0)
    for (const { batch, application, version } of accepted) {
      for (const log of batch.items) this.#aggregator.addLog(application, version, plausible(log.timeMs ?? now, now), isErrorLog(log))
      rejected -= batch.items.length
      this.stats.acceptedLogs += batch.items.length
    }
    this.stats.rejectedLogs += rejected
    return { rejected, message: summary(problems, rejected, 'log records') }
  }

  /**
   * The resource batches whose service.name is a Sentra application and which name a
   * version; the others' items are rejected with the reason. Item-level problems found
   * while decoding (bad ids) are reported too.
   */
  async #attribute<T>(batches: ResourceBatch<T>[], now: number, problems: string[]): Promise<{ batch: ResourceBatch<T>; application: string; version: string }[]> {
    const names = batches.map((b) => b.resource.service).filter((s): s is string => s !== null && s.length <= 63)
    await this.#directory.resolve(names, now)
    const accepted: { batch: ResourceBatch<T>; application: string; version: string }[] = []
    for (const batch of batches) {
      if (batch.problem !== null) problems.push(batch.problem)
      if (batch.items.length === 0) continue
      const { service, version } = batch.resource
      if (service === null) problems.push('a resource has no service.name attribute (the application)')
      else if (version === null) problems.push(`resource of service.name "${service}" has no service.version attribute (the version)`)
      else if (version.length > 64) problems.push(`service.version of "${service}" is longer than 64 characters`)
      else if (service.length > 63 || !this.#directory.get(service).exists) problems.push(`service.name "${service.slice(0, 63)}" is not an application Sentra knows`)
      else accepted.push({ batch, application: service, version })
    }
    return accepted
  }

  #tick(): void {
    const now = this.#now()
    try {
      this.#assembler.sweep(now)
    } catch (error) {
      this.#log(`otlp: trace grouping failed: ${error instanceof Error ? error.message : String(error)}`)
    }
    if (now - this.#lastFlush >= this.#flushIntervalMs && this.#flushing === null) {
      this.#lastFlush = now
      void this.flush()
    }
  }

  /**
   * Writes counts and linked traces to the store now (the timer does it every second).
   * `all` also saves the slowest traces of windows not yet over (shutdown, tests).
   */
  flush({ all = false }: { all?: boolean } = {}): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush({ all }))
    this.#flushing = this.#flushOnce(all).finally(() => {
      this.#flushing = null
    })
    return this.#flushing
  }

  async #flushOnce(all: boolean): Promise<void> {
    const now = this.#now()
    const seconds = this.#aggregator.take()
    try {
      await this.#store.otlp.add(seconds)
    } catch (error) {
      this.#aggregator.restore(seconds)
      this.stats.flushFailures += 1
      this.#log(`otlp: cannot write aggregates (kept for the next try): ${error instanceof Error ? error.message : String(error)}`)
    }
    const traces = this.#keeper.take(now, { all })
    if (traces.length > 0) {
      try {
        await this.#store.evidence.saveTraces(traces)
        this.stats.savedTraces += traces.length
      } catch (error) {
        this.stats.droppedTraces += traces.length
        this.#log(`otlp: cannot save ${traces.length} linked traces: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    this.stats.droppedTraces += this.#keeper.dropped
    this.#keeper.dropped = 0
    if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
      this.#lastPrune = now
      await this.#store.otlp.prune(now - this.#retentionMs).catch((error: unknown) => this.#log(`otlp: cannot prune old aggregates: ${error instanceof Error ? error.message : String(error)}`))
    }
  }

  /** Finishes waiting traces, writes everything, and refuses new payloads. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    this.#assembler.finishAll()
    await this.flush({ all: true })
  }

  /**
   * Finishes every waiting trace and writes everything, the slowest traces of open windows
   * included (tests and benchmarks: no need to wait for the grouping delay or a window's end).
   */
  async settle(): Promise<void> {
    this.#assembler.finishAll()
    await this.flush({ all: true })
  }
}

function decode<T>(body: Buffer, encoding: Encoding, proto: (buf: Uint8Array) => T, json: (text: string) => T): T {
  if (encoding === 'protobuf') return proto(body)
  const text = body.toString('utf8')
  return json(text)
}

function plausible(atMs: number, now: number): number {
  return atMs >= now - PAST_SKEW_MS && atMs <= now + FUTURE_SKEW_MS ? atMs : now
}

/** error_message: the distinct reasons, the first three of them. */
function summary(problems: readonly string[], rejected: number, what: string): string {
  if (rejected === 0) return ''
  const distinct = [...new Set(problems)]
  const shown = distinct.slice(0, 3).join('; ')
  return `${rejected} ${what} rejected: ${shown}${distinct.length > 3 ? `; and ${distinct.length - 3} more reasons` : ''}`
}
