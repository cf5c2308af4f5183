/**
 * Tempo gates: TraceQL searches through Tempo's HTTP API (`/api/search`), exemplar traces,
 * and trace fetch (`/api/traces/<id>`).
 *
 * A tempo gate's `query` is a TraceQL spanset filter that selects the version's BAD traces,
 * with `{{version}}` (and optionally `{{application}}`) templates, e.g.
 *
 * ```traceql
 * { resource.service.name = "{{application}}" && resource.service.version = "{{version}}" && status = error }
 * { resource.service.name = "{{application}}" && resource.service.version = "{{version}}" && duration > 500ms }
 * ```
 *
 * For each version (canary, baseline) over the window, the provider runs, with `start`/`end`
 * the window widened to whole seconds (Tempo's unit) and `limit` = `searchLimit`:
 *
 * - the TOTAL search, `totalQuery` (default `{ resource.service.name = "{{application}}" &&
 *   resource.service.version = "{{version}}" }`): every trace of the version;
 * - one search per gate, the gate's query: the matching (bad) traces.
 *
 * The gate's value is matching / total (a fraction: the trace error rate for the first
 * example, the share of traces with a span slower than 500 ms for the second).
 * `requests` = total traces, so the judges' minimum-traffic rule applies; `errors` = the
 * gate's matching traces when the provider answers for exactly one gate (null with several:
 * per-gate counts are in each side's `counts`, and in `values` under `<gate>.errors` and
 * `<gate>.total` for count-based judges). A missing value's reason is in that side's
 * `reasons[gate]` (which the judges quote); when every gate's canary value is missing,
 * `sample` throws (NoDataError when the canary simply has no traces). From the total search's span sets the provider also
 * reports span-duration quantiles in seconds under `spanDurationP50`, `spanDurationP95` and
 * `spanDurationP99` (keys no gate name can take: gate names are lowercase DNS labels).
 *
 * TRUNCATION: Tempo stops a search at `limit` results. A count that reaches the limit is
 * only a lower bound, and a rate computed from it is biased (in either direction), so such a
 * value is null with a `truncated: …` reason, and the side's (and the sample's) `truncated`
 * is true. Raise
 * `searchLimit` (default 5000) or shorten the window. Quantiles from a truncated total search
 * are kept: they describe the newest `searchLimit` traces. Tempo search is also best-effort
 * by design (recent data may not be searchable yet), which these counts inherit.
 */
import type { GateSpec } from '../../schema/spec.ts'
import type { ProviderSpec } from '../../schema/provider-spec.ts'
import { QUERY_TEMPLATES, templateProblem } from '../../schema/spec/rules.ts'
import {
  HttpSource,
  type HttpSourceOptions,
  TelemetryHttpError,
  clip,
  httpOptionsOf,
  isRecord,
  pooled,
  renderQuery,
  windowDuration,
} from './loki-tempo-http.ts'
import { NoDataError, type TelemetryProvider, type VersionWindow, type WindowQuery, type WindowSample } from './provider.ts'

export { TelemetryHttpError, renderQuery } from './loki-tempo-http.ts'
export type { HttpSourceOptions } from './loki-tempo-http.ts'

export const DEFAULT_TOTAL_QUERY = '{ resource.service.name = "{{application}}" && resource.service.version = "{{version}}" }'
export const DEFAULT_ERROR_QUERY =
  '{ resource.service.name = "{{application}}" && resource.service.version = "{{version}}" && status = error }'

export interface TempoProviderOptions extends HttpSourceOptions {
  /** `limit` of every search; a count reaching it is truncated (see the file comment). Default 5000. */
  searchLimit?: number
  /** `spss` (spans per span set) of the total search, for the duration quantiles. Default 10. */
  spansPerSpanSet?: number
  /** All traces of a version (the denominator). Default {@link DEFAULT_TOTAL_QUERY}. */
  totalQuery?: string
  /** A version's error traces, for exemplars. Default {@link DEFAULT_ERROR_QUERY}. */
  errorQuery?: string
  /** Searches in flight at once during one sample; default 4. */
  concurrency?: number
}

export interface TempoGateCounts {
  /** Traces matching the gate's query; null when that search failed. */
  matching: number | null
  /** All the version's traces; null when that search failed. */
  total: number | null
}

/** One version's window from Tempo, with what was asked, the counts, and why a value is missing. */
export interface TempoVersionWindow extends VersionWindow {
  /** The rendered TraceQL per gate name. */
  queries: Record<string, string>
  /** The rendered total query (all the version's traces). */
  totalQuery: string
  /** Why `values[gate]` is null, per gate name (only for null values). */
  reasons: Record<string, string>
  /** Matching and total traces per gate name. */
  counts: Record<string, TempoGateCounts>
  /** A search of this version reached `searchLimit`; the values it fed are null. */
  truncated: boolean
}

export interface TempoWindowSample extends WindowSample {
  canary: TempoVersionWindow
  baseline: TempoVersionWindow
  /** Either side was truncated. */
  truncated: boolean
}

/** One trace from a search answer. */
export interface TempoSearchTrace {
  /** 32 lowercase hex characters. */
  traceId: string
  rootServiceName: string | null
  rootName: string | null
  startedAt: Date
  durationMs: number
  /** Durations (ns) of the spans in the trace's span sets (up to `spss` per set). */
  spanDurationsNs: number[]
}

export interface TempoSearchResult {
  traces: TempoSearchTrace[]
  /** The answer reached the limit: there may be more. */
  truncated: boolean
  limit: number
}

/**
 * Only the traces that started in [from, to). Tempo's search answers every trace that overlaps
 * its range, and the range is whole seconds: without this, a trace crossing the boundary
 * between two ticks (or starting in the second the range was widened by) is counted in both
 * windows, and the sequential test's per-tick increments would not be independent. A trace
 * not yet searchable when its window is read is missed instead, which thins both versions
 * alike rather than doubling evidence. `truncated` still reflects the raw answer.
 */
export function startedWithin(result: TempoSearchResult, from: Date, to: Date): TempoSearchResult {
  const low = from.getTime()
  const high = to.getTime()
  const traces = result.traces.filter((t) => t.startedAt.getTime() >= low && t.startedAt.getTime() < high)
  return traces.length === result.traces.length ? result : { ...result, traces }
}

/** A trace worth a look, linked from a decision. */
export interface TraceExemplar {
  traceId: string
  version: string
  durationMs: number
  rootName: string | null
  /**
   * `error`: it matched the error query. `ok`: it did not, and the error search was complete.
   * `unknown`: the error search was truncated, so it may be an error trace.
   */
  status: 'error' | 'ok' | 'unknown'
  startedAt: Date
  /** Why it was picked. */
  why: 'error' | 'slowest'
}

export type AttributeValue = string | number | boolean

/** A span of a fetched trace (ids as hex). */
export interface TempoSpan {
  traceId: string
  spanId: string
  parentSpanId: string | null
  name: string
  kind: 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer'
  service: string | null
  version: string | null
  startedAt: Date
  /** Exact start, Unix nanoseconds. */
  startTimeUnixNano: string
  durationMs: number
  status: 'unset' | 'ok' | 'error'
  statusMessage: string | null
  attributes: Record<string, AttributeValue>
  resource: Record<string, AttributeValue>
}

export interface TempoTrace {
  traceId: string
  /** Oldest first. */
  spans: TempoSpan[]
}

/** Linear interpolation between closest ranks (numpy's default); null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

const DIGITS = /^\d+$/

function hexOfBase64(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null
  return Buffer.from(value, 'base64').toString('hex')
}

function attributeValue(value: unknown): AttributeValue | null {
  if (!isRecord(value)) return null
  if (typeof value.stringValue === 'string') return value.stringValue
  if (typeof value.boolValue === 'boolean') return value.boolValue
  if (typeof value.doubleValue === 'number') return value.doubleValue
  if (typeof value.intValue === 'string' || typeof value.intValue === 'number') {
    const n = Number(value.intValue)
    return Number.isSafeInteger(n) ? n : String(value.intValue)
  }
  if (value.arrayValue !== undefined || value.kvlistValue !== undefined) return JSON.stringify(value.arrayValue ?? value.kvlistValue)
  // jsonpb omits zero values: `{}` is an empty string, false or 0 of unknown type.
  return null
}

function attributesOf(list: unknown): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {}
  if (!Array.isArray(list)) return out
  for (const kv of list) {
    if (!isRecord(kv) || typeof kv.key !== 'string') continue
    const v = attributeValue(kv.value)
    if (v !== null) out[kv.key] = v
  }
  return out
}

const KINDS: Record<string, TempoSpan['kind']> = {
  SPAN_KIND_INTERNAL: 'internal', SPAN_KIND_SERVER: 'server', SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer', SPAN_KIND_CONSUMER: 'consumer',
  1: 'internal', 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer',
}
const STATUS_CODES: Record<string, TempoSpan['status']> = { STATUS_CODE_OK: 'ok', STATUS_CODE_ERROR: 'error', 1: 'ok', 2: 'error' }

function shape(what: string): TelemetryHttpError {
  return new TelemetryHttpError('shape', `tempo's answer is not ${what}`)
}

/** Reads a `/api/search` answer (jsonpb: empty lists and zero numbers may be absent). */
export function parseSearch(body: unknown, limit: number): TempoSearchResult {
  if (!isRecord(body) || (body.traces === undefined && body.metrics === undefined)) throw shape('a search result (no traces, no metrics)')
  const list = body.traces ?? []
  if (!Array.isArray(list)) throw shape('a search result (traces is not a list)')
  const traces = list.map((t): TempoSearchTrace => {
    if (!isRecord(t) || typeof t.traceID !== 'string' || !/^[0-9a-fA-F]{1,32}$/.test(t.traceID)) throw shape('a search result (a trace without a hex traceID)')
    const start = t.startTimeUnixNano ?? '0'
    if (typeof start !== 'string' || !DIGITS.test(start)) throw shape('a search result (startTimeUnixNano is not a string of digits)')
    const durationMs = t.durationMs ?? 0
    if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) throw shape('a search result (durationMs is not a number)')
    const sets = Array.isArray(t.spanSets) ? t.spanSets : isRecord(t.spanSet) ? [t.spanSet] : []
    const durations = new Map<string, number>()
    for (const set of sets) {
      if (!isRecord(set) || !Array.isArray(set.spans)) continue
      set.spans.forEach((span, i) => {
        if (!isRecord(span)) return
        const ns = span.durationNanos ?? '0'
        if (typeof ns !== 'string' || !DIGITS.test(ns)) return
        durations.set(typeof span.spanID === 'string' ? span.spanID : `#${durations.size}-${i}`, Number(ns))
      })
    }
    return {
      traceId: t.traceID.toLowerCase().padStart(32, '0'),
      rootServiceName: typeof t.rootServiceName === 'string' ? t.rootServiceName : null,
      rootName: typeof t.rootTraceName === 'string' ? t.rootTraceName : null,
      startedAt: new Date(Number(BigInt(start) / 1_000_000n)),
      durationMs,
      spanDurationsNs: [...durations.values()],
    }
  })
  return { traces, truncated: traces.length >= limit, limit }
}

/** Reads a `/api/traces/<id>` (v1: `batches`) or v2 (`trace.resourceSpans`) answer. */
export function parseTrace(body: unknown): TempoTrace {
  const batches = isRecord(body) ? (body.batches ?? (isRecord(body.trace) ? body.trace.resourceSpans : undefined) ?? body.resourceSpans) : undefined
  if (!Array.isArray(batches)) throw shape('a trace (no batches)')
  const spans: TempoSpan[] = []
  let traceId = ''
  for (const batch of batches) {
    if (!isRecord(batch)) continue
    const resource = attributesOf(isRecord(batch.resource) ? batch.resource.attributes : undefined)
    const scopes = batch.scopeSpans ?? batch.instrumentationLibrarySpans ?? []
    if (!Array.isArray(scopes)) continue
    for (const scope of scopes) {
      if (!isRecord(scope) || !Array.isArray(scope.spans)) continue
      for (const s of scope.spans) {
        if (!isRecord(s)) continue
        const start = s.startTimeUnixNano ?? '0'
        const end = s.endTimeUnixNano ?? start
        if (typeof start !== 'string' || typeof end !== 'string' || !DIGITS.test(start) || !DIGITS.test(end)) throw shape('a trace (span times are not strings of digits)')
        const spanTrace = hexOfBase64(s.traceId) ?? ''
        traceId ||= spanTrace
        const status = isRecord(s.status) ? s.status : {}
        spans.push({
          traceId: spanTrace,
          spanId: hexOfBase64(s.spanId) ?? '',
          parentSpanId: hexOfBase64(s.parentSpanId),
          name: typeof s.name === 'string' ? s.name : '',
          kind: KINDS[String(s.kind ?? '')] ?? 'unspecified',
          service: typeof resource['service.name'] === 'string' ? resource['service.name'] : null,
          version: typeof resource['service.version'] === 'string' ? resource['service.version'] : null,
          startedAt: new Date(Number(BigInt(start) / 1_000_000n)),
          startTimeUnixNano: start,
          durationMs: Number(BigInt(end) - BigInt(start)) / 1e6,
          status: STATUS_CODES[String(status.code ?? '')] ?? 'unset',
          statusMessage: typeof status.message === 'string' ? status.message : null,
          attributes: attributesOf(s.attributes),
          resource,
        })
      }
    }
  }
  spans.sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1))
  return { traceId, spans }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string }

/**
 * The Tempo provider (kind `tempo`). See the file comment for what a gate's query means.
 *
 * @example
 * const tempo = new TempoProvider({ url: 'http://tempo:3200' })
 * const sample = await tempo.sample(windowQuery, AbortSignal.timeout(10_000))
 * sample.canary.values['trace-errors'] // matching / total traces of the canary, or null
 * const exemplars = await tempo.exemplars(windowQuery)
 */
export class TempoProvider implements TelemetryProvider {
  readonly kind = 'tempo'
  readonly #http: HttpSource
  readonly #limit: number
  readonly #spss: number
  readonly #totalQuery: string
  readonly #errorQuery: string
  readonly #concurrency: number

  /** The client for a declared provider (for the registry's factory switch). */
  static fromSpec(spec: ProviderSpec): TempoProvider {
    return new TempoProvider(httpOptionsOf(spec))
  }

  constructor(options: TempoProviderOptions) {
    this.#http = new HttpSource('tempo', options)
    this.#limit = Math.max(1, Math.floor(options.searchLimit ?? 5000))
    this.#spss = Math.max(1, Math.floor(options.spansPerSpanSet ?? 10))
    this.#totalQuery = options.totalQuery ?? DEFAULT_TOTAL_QUERY
    this.#errorQuery = options.errorQuery ?? DEFAULT_ERROR_QUERY
    this.#concurrency = Math.max(1, options.concurrency ?? 4)
  }

  /** `start`/`end` in Unix seconds covering [from, to]; end > start as Tempo requires. */
  static range(from: Date, to: Date): { start: string; end: string } {
    const start = Math.floor(from.getTime() / 1000)
    const end = Math.max(start + 1, Math.ceil(to.getTime() / 1000))
    return { start: String(start), end: String(end) }
  }

  /** One TraceQL search over [from, to]. Throws TelemetryHttpError on failure. */
  async search(query: string, from: Date, to: Date, signal: AbortSignal, options: { limit?: number; spss?: number } = {}): Promise<TempoSearchResult> {
    const limit = options.limit ?? this.#limit
    const params = new URLSearchParams({ q: query, ...TempoProvider.range(from, to), limit: String(limit), spss: String(options.spss ?? this.#spss) })
    return parseSearch(await this.#http.getJson('/api/search', params, signal), limit)
  }

  async #outcome<T>(signal: AbortSignal, run: () => Promise<T>): Promise<Outcome<T>> {
    try {
      return { ok: true, value: await run() }
    } catch (error) {
      if (signal.aborted) throw error
      return { ok: false, reason: error instanceof Error ? error.message : String(error) }
    }
  }

  #render(template: string, q: WindowQuery, version: string): string {
    return renderQuery(template, { application: q.application, version, window: windowDuration(q.start, q.end) })
  }

  async sample(q: WindowQuery, signal: AbortSignal): Promise<TempoWindowSample> {
    const gates = q.gates.filter((g): g is GateSpec & { query: string } => g.query !== undefined)
    const side = (version: string): TempoVersionWindow => ({
      version,
      requests: null,
      errors: null,
      values: {},
      queries: Object.fromEntries(gates.map((g) => [g.name, this.#render(g.query, q, version)])),
      totalQuery: this.#render(this.#totalQuery, q, version),
      reasons: {},
      counts: {},
      truncated: false,
    })
    const canary = side(q.canaryVersion)
    const baseline = q.baselineVersion === null ? { ...side(''), queries: {}, totalQuery: '' } : side(q.baselineVersion)
    const sides = q.baselineVersion === null ? [canary] : [canary, baseline]

    // Every search of the window at once (bounded): per version, the total, then each gate.
    const jobs: { target: TempoVersionWindow; gate: string | null; query: string }[] = []
    for (const target of sides) {
      jobs.push({ target, gate: null, query: target.totalQuery })
      for (const gate of gates) jobs.push({ target, gate: gate.name, query: target.queries[gate.name] ?? '' })
    }
    const results = await pooled(
      jobs.map((job) => () => this.#outcome(signal, async () => startedWithin(await this.search(job.query, q.start, q.end, signal), q.start, q.end))),
      this.#concurrency,
    )
    signal.throwIfAborted()
    const resultOf = (target: TempoVersionWindow, gate: string | null): Outcome<TempoSearchResult> =>
      results[jobs.findIndex((j) => j.target === target && j.gate === gate)]!

    const noData = new Set<string>()
    for (const target of sides) {
      const { version } = target
      const total = resultOf(target, null)
      target.values = { spanDurationP50: null, spanDurationP95: null, spanDurationP99: null }
      if (total.ok) {
        target.requests = total.value.traces.length
        if (total.value.truncated) target.truncated = true
        const spans = total.value.traces.flatMap((t) => t.spanDurationsNs)
        target.values.spanDurationP50 = spans.length === 0 ? null : quantile(spans, 0.5)! / 1e9
        target.values.spanDurationP95 = spans.length === 0 ? null : quantile(spans, 0.95)! / 1e9
        target.values.spanDurationP99 = spans.length === 0 ? null : quantile(spans, 0.99)! / 1e9
      }
      const requests = target.requests
      for (const gate of gates) {
        const found = resultOf(target, gate.name)
        const matching = found.ok ? found.value.traces.length : null
        target.counts[gate.name] = { matching, total: requests }
        target.values[gate.name] = null
        const why = (reason: string): void => {
          target.reasons[gate.name] = reason
        }
        if (!total.ok) {
          why(`counting all traces of ${version} failed: ${total.reason}`)
        } else if (!found.ok) {
          why(found.reason)
        } else if (found.value.truncated) {
          target.truncated = true
          why(`truncated: the gate's search reached the search limit of ${this.#limit} traces, so the count is only a lower bound and a rate from it would be biased (raise searchLimit or shorten the window)`)
        } else if (total.value.truncated) {
          why(`truncated: ${version} has at least ${this.#limit} traces in the window (the search limit), so the total is only a lower bound and a rate from it would be biased (raise searchLimit or shorten the window)`)
        } else if (requests === 0) {
          why(`no traces of ${version} in the window (${clip(target.totalQuery, 160)})`)
          if (target === canary) noData.add(gate.name)
        } else if (matching! > requests!) {
          why(`the gate's query matched ${matching} traces but ${version} has only ${requests}: it must select a subset of ${clip(target.totalQuery, 160)}`)
        } else {
          target.values[gate.name] = matching! / requests!
          // The counts behind the rate, under the keys count-based judges read (sequential.ts countKeys).
          target.values[`${gate.name}.errors`] = matching
          target.values[`${gate.name}.total`] = requests
          if (gates.length === 1) target.errors = matching
        }
      }
    }
    if (q.baselineVersion === null) {
      for (const gate of gates) {
        baseline.values[gate.name] = null
        baseline.reasons[gate.name] = 'there is no baseline version to compare with'
      }
    }
    for (const gate of q.gates) {
      if (gate.query !== undefined) continue
      for (const target of [canary, baseline]) {
        target.values[gate.name] = null
        target.reasons[gate.name] = `gate ${gate.name} has no query (it uses the built-in signal ${gate.signal})`
      }
    }

    if (q.gates.length > 0 && q.gates.every((g) => canary.values[g.name] === null)) {
      const reasons = new Set(q.gates.map((g) => canary.reasons[g.name] ?? 'no value'))
      const summary = reasons.size === 1 ? [...reasons][0]! : q.gates.map((g) => `${g.name}: ${canary.reasons[g.name] ?? 'no value'}`).join('; ')
      if (q.gates.every((g) => noData.has(g.name))) throw new NoDataError(summary)
      throw new Error(summary)
    }
    return {
      provider: this.kind,
      start: q.start,
      end: q.end,
      canaryWeight: q.canaryWeight,
      canary,
      baseline,
      truncated: canary.truncated || baseline.truncated,
    }
  }

  /**
   * Traces worth a look over the window, per version (canary first): up to `errors` error
   * traces (the newest matching `errorQuery`), then the `slowest` slowest of all its traces.
   * Throws TelemetryHttpError when a search fails.
   */
  async exemplars(
    q: WindowQuery,
    options: { errors?: number; slowest?: number } = {},
    signal: AbortSignal = AbortSignal.timeout(15_000),
  ): Promise<TraceExemplar[]> {
    const errorsWanted = options.errors ?? 5
    const slowestWanted = options.slowest ?? 5
    const versions = [q.canaryVersion, ...(q.baselineVersion === null ? [] : [q.baselineVersion])]
    const perVersion = await Promise.all(
      versions.map(async (version) => {
        const [errorTraces, all] = await Promise.all([
          this.search(this.#render(this.#errorQuery, q, version), q.start, q.end, signal, { spss: 1 }),
          this.search(this.#render(this.#totalQuery, q, version), q.start, q.end, signal, { spss: 1 }),
        ])
        const errorIds = new Set(errorTraces.traces.map((t) => t.traceId))
        const picked: TraceExemplar[] = []
        const seen = new Set<string>()
        const add = (t: TempoSearchTrace, why: TraceExemplar['why']): void => {
          seen.add(t.traceId)
          const status = errorIds.has(t.traceId) ? 'error' : errorTraces.truncated ? 'unknown' : 'ok'
          picked.push({ traceId: t.traceId, version, durationMs: t.durationMs, rootName: t.rootName, status, startedAt: t.startedAt, why })
        }
        const newest = [...errorTraces.traces].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())
        for (const t of newest.slice(0, errorsWanted)) add(t, 'error')
        const slowest = [...all.traces].sort((a, b) => b.durationMs - a.durationMs).filter((t) => !seen.has(t.traceId))
        for (const t of slowest.slice(0, slowestWanted)) add(t, 'slowest')
        return picked
      }),
    )
    return perVersion.flat()
  }

  /** A trace by ID (`/api/traces/<id>`), ids as hex; null when Tempo does not have it. */
  async fetchTrace(traceId: string, signal: AbortSignal = AbortSignal.timeout(15_000)): Promise<TempoTrace | null> {
    if (!/^[0-9a-fA-F]{1,32}$/.test(traceId)) throw new TypeError(`not a trace ID (1 to 32 hex characters): ${JSON.stringify(clip(traceId, 40))}`)
    const answer = await this.#http.get(`/api/traces/${traceId.toLowerCase()}`, new URLSearchParams(), signal)
    if (answer.status === 404) return null
    if (answer.status < 200 || answer.status > 299) throw this.#http.httpError(answer)
    const trace = parseTrace(this.#http.parse(answer))
    return { ...trace, traceId: trace.traceId || traceId.toLowerCase().padStart(32, '0') }
  }

  /**
   * The dry run before a rollout: renders the gate's query (version `sentra-dry-run` unless
   * given) and searches the last minute with it. Throws with Tempo's own message when Tempo
   * refuses it (a TraceQL parse error, an unsupported query). No traces is fine.
   */
  async checkQuery(query: string, signal: AbortSignal, vars: { application?: string; version?: string } = {}): Promise<void> {
    const problem = templateProblem(query, QUERY_TEMPLATES, false)
    if (problem !== undefined) throw new Error(`the query ${problem}`)
    const traceql = renderQuery(query, { application: vars.application ?? 'sentra-dry-run', version: vars.version ?? 'sentra-dry-run', window: '60s' })
    const now = new Date()
    await this.search(traceql, new Date(now.getTime() - 60_000), now, signal, { limit: 1, spss: 1 })
  }

  /** Reachable (`/api/echo`) and answering the API with our credentials (`/api/v2/search/tags`). */
  async ping(signal: AbortSignal): Promise<void> {
    const echo = await this.#http.get('/api/echo', new URLSearchParams(), signal)
    if (echo.status !== 200) throw this.#http.httpError(echo)
    const body = await this.#http.getJson('/api/v2/search/tags', new URLSearchParams({ scope: 'intrinsic' }), signal)
    if (!isRecord(body)) throw new TelemetryHttpError('shape', `tempo at ${this.#http.origin} did not answer /api/v2/search/tags like Tempo`)
  }
}
