/**
 * A Grafana Tempo (v2.10) query API stand-in, in process on 127.0.0.1, for tests: Tempo
 * cannot run on this machine. Built from the upstream API documentation
 * (`docs/sources/tempo/api_docs/_index.md`) and Tempo's jsonpb encoding (see
 * /work/shared/upstream/tempo): same paths, parameters, status codes and JSON shapes, with
 * plain-text errors (messages our own, in Tempo's style).
 *
 * Endpoints:
 * - `GET /api/search`: TraceQL `q` or logfmt `tags` (+ `minDuration`, `maxDuration`; Tempo turns
 *   tags into TraceQL too), `start`/`end` (Unix seconds; a trace is in range when it overlaps
 *   [start, end]), `limit` (default 20), `spss` (spans per spanset, default 3). Results newest
 *   first: `traceID` (hex, leading zeros trimmed), `rootServiceName`, `rootTraceName`,
 *   `startTimeUnixNano`, `durationMs`, `spanSet` + `spanSets`, `serviceStats`; and `metrics`.
 * - `GET /api/search/tags`, `/api/v2/search/tags` (`scope`), `/api/search/tag/<tag>/values`,
 *   `/api/v2/search/tag/<scoped.tag>/values` (`q` on v2).
 * - `GET /api/traces/<id>` (v1: `{"batches":[ResourceSpans]}`, base64 ids, enum names, string
 *   nanos; 404 with an empty body when unknown; 422 when over `maxBytesPerTrace`) and
 *   `/api/v2/traces/<id>` (`{"trace":{"resourceSpans":[...]},"metrics":{...}}`, PARTIAL when too big).
 * - `GET /api/echo` (`echo`), `GET /ready` (`ready`).
 *
 * jsonpb rules throughout: 64-bit integers are strings, zero values are omitted, enums are names.
 * The TraceQL subset is documented in `tempo-traceql.ts`. Faults: {@link TempoStandin.setFault}.
 */
import { randomBytes } from 'node:crypto'
import {
  type AttrValue,
  type Condition,
  type Field,
  type SpanStatus,
  type SpanView,
  type SpansetFilter,
  TraceqlParseError,
  fieldValue,
  parseGoDurationNs,
  parseTraceql,
  parseTraceqlField,
  spanMatches,
} from './tempo-traceql.ts'
import {
  type FaultOptions,
  type RecordedRequest,
  type RouteRequest,
  type RouteResult,
  type StandinFault,
  StandinServer,
  json,
  text,
} from './loki-tempo-http.ts'

export type { StandinFault, FaultOptions, RecordedRequest } from './loki-tempo-http.ts'
export type { AttrValue, SpanStatus } from './tempo-traceql.ts'

export type SpanKindName = 'server' | 'client' | 'producer' | 'consumer' | 'internal' | 'unspecified'

/** A span to push. Times: a Date, Unix milliseconds (number) or Unix nanoseconds (bigint). */
export interface SpanInput {
  /** 16 hex characters; random when absent. */
  spanId?: string
  /** null or absent: a root span. */
  parentSpanId?: string | null
  name: string
  kind?: SpanKindName
  start: Date | number | bigint
  durationMs: number
  status?: SpanStatus
  statusMessage?: string
  /** Integers are sent as `intValue`, other numbers as `doubleValue`. */
  attributes?: Record<string, AttrValue>
  /** The span's resource; defaults to the trace's. */
  resource?: Record<string, AttrValue>
  scope?: { name: string; version?: string }
}

export interface TraceInput {
  /** Up to 32 hex characters (left-padded); random when absent. */
  traceId?: string
  resource?: Record<string, AttrValue>
  spans: readonly SpanInput[]
}

interface StoredSpan extends SpanView {
  spanId: string
  parentSpanId: string | null
  startNs: bigint
  endNs: bigint
  scope: { name: string; version?: string } | null
}

interface StoredTrace {
  traceId: string
  spans: StoredSpan[]
  startNs: bigint
  endNs: bigint
}

class BadRequest extends Error {}

const NS_PER_S = 1_000_000_000n

function nsOf(time: Date | number | bigint): bigint {
  if (typeof time === 'bigint') return time
  const ms = time instanceof Date ? time.getTime() : time
  return BigInt(Math.round(ms * 1000)) * 1000n
}

function hexId(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

function b64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64')
}

/** An OTLP AnyValue as jsonpb writes it (int64 as a string). */
function anyValue(value: AttrValue): Record<string, unknown> {
  if (typeof value === 'string') return { stringValue: value }
  if (typeof value === 'boolean') return { boolValue: value }
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }
}

function keyValues(attrs: Readonly<Record<string, AttrValue>>): { key: string; value: Record<string, unknown> }[] {
  return Object.entries(attrs).map(([key, value]) => ({ key, value: anyValue(value) }))
}

/** Omits keys whose value is a jsonpb zero ('' , 0, '0', false, [], undefined). */
function omitZero<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || v === 0 || v === '0' || v === false) continue
    if (Array.isArray(v) && v.length === 0) continue
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 && k === 'serviceStats') continue
    out[k] = v
  }
  return out as Partial<T>
}

const KIND_ENUM: Record<SpanKindName, string | undefined> = {
  unspecified: undefined,
  internal: 'SPAN_KIND_INTERNAL',
  server: 'SPAN_KIND_SERVER',
  client: 'SPAN_KIND_CLIENT',
  producer: 'SPAN_KIND_PRODUCER',
  consumer: 'SPAN_KIND_CONSUMER',
}
const STATUS_ENUM: Record<SpanStatus, string | undefined> = { unset: undefined, ok: 'STATUS_CODE_OK', error: 'STATUS_CODE_ERROR' }

/** Tempo's trace ID rules: hex only, at most 128 bits, left-padded to 32 characters. */
export function normalizeTraceId(id: string): string {
  for (let i = 0; i < id.length; i++) {
    if (!/[0-9a-fA-F]/.test(id[i] ?? '')) throw new BadRequest(`trace IDs can only contain hex characters: invalid character '${id[i]}' at position ${i + 1}`)
  }
  const trimmed = id.replace(/^0+/, '')
  if (trimmed.length > 32) throw new BadRequest("trace IDs can't be larger than 128 bits")
  return trimmed.toLowerCase().padStart(32, '0')
}

function parseIntParam(name: string, value: string | null, fallback: number, positive: boolean): number {
  if (value === null || value === '') return fallback
  if (!/^[+-]?\d+$/.test(value)) throw new BadRequest(`invalid ${name}: strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`)
  const n = Number(value)
  if (positive && n <= 0) throw new BadRequest(`invalid ${name}: must be a positive number`)
  return n
}

function parseSeconds(name: string, value: string | null): bigint | null {
  if (value === null || value === '') return null
  if (!/^[+-]?\d+$/.test(value)) throw new BadRequest(`invalid ${name}: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`)
  return BigInt(value)
}

/** logfmt `key=value key2="quoted value"`. */
function parseLogfmt(input: string): [string, string][] {
  const pairs: [string, string][] = []
  const re = /\s*([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/y
  let m: RegExpExecArray | null
  let last = 0
  while ((m = re.exec(input)) !== null) {
    pairs.push([m[1] ?? '', m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')])
    last = re.lastIndex
  }
  if (input.slice(last).trim() !== '') throw new BadRequest(`invalid tags: malformed logfmt near ${JSON.stringify(input.slice(last).trim().slice(0, 20))}`)
  return pairs
}

const INTRINSIC_TAGS = ['duration', 'kind', 'name', 'rootName', 'rootServiceName', 'status', 'statusMessage', 'traceDuration']
const SCOPES = new Set(['resource', 'span', 'intrinsic', 'event', 'link', 'instrumentation'])

export interface TempoStandinOptions {
  /** When set, every API request must carry this `X-Scope-OrgID` (else 401 `no org id`). */
  tenant?: string
  /** Trace by ID: bigger traces get 422 (v1) or a PARTIAL answer (v2). Default unlimited. */
  maxBytesPerTrace?: number
}

/** The Tempo stand-in. `await TempoStandin.start()`, push traces, point a client at `.url`. */
export class TempoStandin {
  readonly #server: StandinServer
  readonly #traces = new Map<string, StoredTrace>()
  readonly #maxBytesPerTrace: number

  private constructor(options: TempoStandinOptions) {
    this.#maxBytesPerTrace = options.maxBytesPerTrace ?? Infinity
    this.#server = new StandinServer({
      unguardedPaths: ['/ready', '/api/echo'],
      jsonContentType: 'application/json',
      // Tempo's handlers write error text without setting a content type.
      errorContentType: null,
      route: (request) => this.#route(request),
    })
    this.#server.tenant = options.tenant ?? null
  }

  static async start(options: TempoStandinOptions = {}): Promise<TempoStandin> {
    const standin = new TempoStandin(options)
    await standin.#server.listen()
    return standin
  }

  get url(): string {
    return this.#server.url
  }

  get requests(): readonly RecordedRequest[] {
    return this.#server.requests
  }

  close(): Promise<void> {
    return this.#server.close()
  }

  setFault(fault: StandinFault | null, options?: FaultOptions): void {
    this.#server.setFault(fault, options)
  }

  requireTenant(tenant: string | null): void {
    this.#server.tenant = tenant
  }

  /** Stores a trace (spans pushed for a known trace ID are added to it). Returns its 32-hex ID. */
  push(trace: TraceInput): string {
    const traceId = normalizeTraceId(trace.traceId ?? hexId(16))
    const stored = this.#traces.get(traceId) ?? { traceId, spans: [], startNs: 0n, endNs: 0n }
    for (const span of trace.spans) {
      const startNs = nsOf(span.start)
      const durationNs = BigInt(Math.round(span.durationMs * 1e6))
      stored.spans.push({
        spanId: (span.spanId ?? hexId(8)).toLowerCase().padStart(16, '0'),
        parentSpanId: span.parentSpanId && /[1-9a-fA-F]/.test(span.parentSpanId) ? span.parentSpanId.toLowerCase().padStart(16, '0') : null,
        name: span.name,
        kind: span.kind ?? 'unspecified',
        status: span.status ?? 'unset',
        statusMessage: span.statusMessage ?? '',
        startNs,
        endNs: startNs + durationNs,
        durationNs,
        attributes: { ...(span.attributes ?? {}) },
        resource: { ...(span.resource ?? trace.resource ?? {}) },
        scope: span.scope ?? null,
      })
    }
    stored.startNs = stored.spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), stored.spans[0]?.startNs ?? 0n)
    stored.endNs = stored.spans.reduce((m, s) => (s.endNs > m ? s.endNs : m), 0n)
    this.#traces.set(traceId, stored)
    return traceId
  }

  clear(): void {
    this.#traces.clear()
  }

  async #route(request: RouteRequest): Promise<RouteResult> {
    const { path, method, params } = request
    if (method !== 'GET') return path.startsWith('/api/') || path === '/ready' ? text(405, '') : text(404, '404 page not found\n', 'text/plain; charset=utf-8')
    try {
      if (path === '/ready') return text(200, 'ready', 'text/plain; charset=utf-8')
      if (path === '/api/echo') return text(200, 'echo', 'text/plain; charset=utf-8')
      if (path === '/api/search') return this.#search(params)
      if (path === '/api/search/tags') return this.#tags(params, 1)
      if (path === '/api/v2/search/tags') return this.#tags(params, 2)
      const v1Values = /^\/api\/search\/tag\/([^/]+)\/values$/.exec(path)
      if (v1Values) return this.#tagValuesV1(decodeURIComponent(v1Values[1] ?? ''))
      const v2Values = /^\/api\/v2\/search\/tag\/([^/]+)\/values$/.exec(path)
      if (v2Values) return this.#tagValuesV2(decodeURIComponent(v2Values[1] ?? ''), params)
      const trace = /^\/api\/(v2\/)?traces\/([^/]*)$/.exec(path)
      if (trace) return this.#traceById(decodeURIComponent(trace[2] ?? ''), trace[1] !== undefined, params)
      return text(404, '404 page not found\n', 'text/plain; charset=utf-8')
    } catch (error) {
      if (error instanceof BadRequest) return text(400, error.message)
      if (error instanceof TraceqlParseError) return text(400, `invalid TraceQL query: ${error.message}`)
      return text(500, 'internal error')
    }
  }

  #inRange(trace: StoredTrace, start: bigint | null, end: bigint | null): boolean {
    if (start !== null && trace.endNs < start * NS_PER_S) return false
    if (end !== null && trace.startNs > end * NS_PER_S) return false
    return true
  }

  #filterFromTags(params: URLSearchParams): { filter: SpansetFilter; minNs: bigint | null; maxNs: bigint | null } {
    const conditions: string[] = []
    for (const [key, value] of parseLogfmt(params.get('tags') ?? '')) {
      const quoted = JSON.stringify(value)
      if (key === 'name') conditions.push(`name = ${quoted}`)
      else if (key === 'status.code') conditions.push(`status = ${value === 'error' || value === 'ok' || value === 'unset' ? value : 'unset'}`)
      else conditions.push(`.${key} = ${quoted}`)
    }
    const duration = (name: string): bigint | null => {
      const raw = params.get(name)
      if (raw === null || raw === '') return null
      const ns = parseGoDurationNs(raw)
      if (ns === null) throw new BadRequest(`invalid ${name}: time: invalid duration ${JSON.stringify(raw)}`)
      return ns
    }
    return { filter: parseTraceql(`{ ${conditions.join(' && ')} }`), minNs: duration('minDuration'), maxNs: duration('maxDuration') }
  }

  #search(params: URLSearchParams): RouteResult {
    const q = params.get('q')
    const tags = params.get('tags')
    if (q && tags) throw new BadRequest("invalid request: can't specify tags and q in the same query")
    const limit = parseIntParam('limit', params.get('limit'), 20, true)
    const spss = parseIntParam('spss', params.get('spss'), 3, true)
    const start = parseSeconds('start', params.get('start'))
    const end = parseSeconds('end', params.get('end'))
    if (start !== null && end !== null && start >= end) {
      throw new BadRequest(`http parameter start must be before end. received start=${start} end=${end}`)
    }
    let filter: SpansetFilter
    let minNs: bigint | null = null
    let maxNs: bigint | null = null
    if (tags) ({ filter, minNs, maxNs } = this.#filterFromTags(params))
    else filter = parseTraceql(q && q.trim() !== '' ? q : '{}')

    let inspected = 0
    let inspectedBytes = 0
    const found: { trace: StoredTrace; matched: StoredSpan[] }[] = []
    for (const trace of this.#traces.values()) {
      if (!this.#inRange(trace, start, end)) continue
      inspected += 1
      inspectedBytes += trace.spans.length * 200
      const duration = trace.endNs - trace.startNs
      if (minNs !== null && duration < minNs) continue
      if (maxNs !== null && duration > maxNs) continue
      const matched = trace.spans.filter((s) => spanMatches(filter, s))
      if (matched.length > 0) found.push({ trace, matched })
    }
    found.sort((a, b) => (a.trace.startNs > b.trace.startNs ? -1 : a.trace.startNs < b.trace.startNs ? 1 : 0))
    const traces = found.slice(0, limit).map(({ trace, matched }) => this.#metadata(trace, matched, filter.conditions, spss))
    // jsonpb: an empty `traces` list is omitted, like every zero value.
    return json(200, omitZero({
      traces,
      metrics: omitZero({ inspectedTraces: inspected, inspectedBytes: String(inspectedBytes), completedJobs: 1, totalJobs: 1 }),
    }))
  }

  #metadata(trace: StoredTrace, matched: StoredSpan[], conditions: readonly Condition[], spss: number): Record<string, unknown> {
    const root = trace.spans.find((s) => s.parentSpanId === null)
    const stats: Record<string, { spanCount?: number; errorCount?: number }> = {}
    for (const span of trace.spans) {
      const service = String(span.resource['service.name'] ?? '')
      const entry = stats[service] ?? {}
      entry.spanCount = (entry.spanCount ?? 0) + 1
      if (span.status === 'error') entry.errorCount = (entry.errorCount ?? 0) + 1
      stats[service] = entry
    }
    const spans = matched.slice(0, spss).map((span) => {
      const attributes: { key: string; value: Record<string, unknown> }[] = []
      const seen = new Set<string>()
      for (const c of conditions) {
        if (c.field.scope === 'intrinsic' && (c.field.name === 'name' || c.field.name === 'duration')) continue
        const key = c.field.name
        if (seen.has(key)) continue
        const value = fieldValue(c.field, span)
        if (value === null) continue
        seen.add(key)
        const v: Record<string, unknown> =
          value.type === 'string' || value.type === 'status' || value.type === 'kind'
            ? { stringValue: value.value }
            : value.type === 'int'
              ? { intValue: String(value.value) }
              : value.type === 'float'
                ? { doubleValue: value.value }
                : value.type === 'bool'
                  ? { boolValue: value.value }
                  : { stringValue: `${Number(value.ns) / 1e6}ms` }
        attributes.push({ key, value: v })
      }
      return omitZero({
        spanID: span.spanId,
        name: span.name,
        startTimeUnixNano: String(span.startNs),
        durationNanos: String(span.durationNs),
        attributes,
      })
    })
    const spanSet = omitZero({ spans, matched: matched.length })
    return omitZero({
      traceID: trace.traceId.replace(/^0+/, '') || '0',
      rootServiceName: root ? String(root.resource['service.name'] ?? '') : '',
      rootTraceName: root?.name ?? '',
      startTimeUnixNano: String(trace.startNs),
      durationMs: Number((trace.endNs - trace.startNs) / 1_000_000n),
      spanSet,
      spanSets: [spanSet],
      serviceStats: Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, omitZero(v)])),
    })
  }

  #allSpans(q: string | null): StoredSpan[] {
    const filter = q && q.trim() !== '' ? parseTraceql(q) : null
    const spans: StoredSpan[] = []
    for (const trace of this.#traces.values()) for (const span of trace.spans) if (filter === null || spanMatches(filter, span)) spans.push(span)
    return spans
  }

  #tags(params: URLSearchParams, version: 1 | 2): RouteResult {
    const scope = params.get('scope') ?? ''
    if (scope !== '' && scope !== 'all' && !SCOPES.has(scope)) throw new BadRequest(`invalid scope: ${scope}`)
    const spans = this.#allSpans(version === 2 ? params.get('q') : null)
    const resource = new Set<string>()
    const span = new Set<string>()
    for (const s of spans) {
      for (const key of Object.keys(s.resource)) resource.add(key)
      for (const key of Object.keys(s.attributes)) span.add(key)
    }
    const bytes = String(spans.length * 64)
    const wanted = (name: string): boolean => scope === '' || scope === 'all' || scope === name
    if (version === 1) {
      const names = new Set<string>()
      if (wanted('resource')) for (const k of resource) names.add(k)
      if (wanted('span')) for (const k of span) names.add(k)
      if (scope === 'intrinsic') for (const k of INTRINSIC_TAGS) names.add(k)
      return json(200, omitZero({ tagNames: [...names].sort(), metrics: omitZero({ inspectedBytes: bytes }) }))
    }
    const scopes: { name: string; tags: string[] }[] = []
    if (wanted('resource') && resource.size > 0) scopes.push({ name: 'resource', tags: [...resource].sort() })
    if (wanted('span') && span.size > 0) scopes.push({ name: 'span', tags: [...span].sort() })
    if (wanted('intrinsic')) scopes.push({ name: 'intrinsic', tags: [...INTRINSIC_TAGS] })
    return json(200, omitZero({ scopes, metrics: omitZero({ inspectedBytes: bytes }) }))
  }

  #tagValuesV1(tag: string): RouteResult {
    const values = new Set<string>()
    const spans = this.#allSpans(null)
    for (const s of spans) {
      for (const source of [s.attributes, s.resource]) {
        const v = source[tag]
        if (v !== undefined) values.add(String(v))
      }
    }
    return json(200, omitZero({ tagValues: [...values].sort(), metrics: omitZero({ inspectedBytes: String(spans.length * 64) }) }))
  }

  #tagValuesV2(tag: string, params: URLSearchParams): RouteResult {
    let field: Field
    try {
      field = parseTraceqlField(tag)
    } catch {
      throw new BadRequest(`tag name is not a valid intrinsic or scoped attribute: ${tag}`)
    }
    const seen = new Map<string, { type: string; value: string }>()
    const spans = this.#allSpans(params.get('q'))
    for (const s of spans) {
      const v = fieldValue(field, s)
      if (v === null) continue
      const entry =
        v.type === 'string'
          ? { type: 'string', value: v.value }
          : v.type === 'status' || v.type === 'kind'
            ? { type: 'keyword', value: v.value }
            : v.type === 'int'
              ? { type: 'int', value: String(v.value) }
              : v.type === 'float'
                ? { type: 'double', value: String(v.value) }
                : v.type === 'bool'
                  ? { type: 'bool', value: String(v.value) }
                  : { type: 'duration', value: `${Number(v.ns) / 1e6}ms` }
      seen.set(`${entry.type}\u0000${entry.value}`, entry)
    }
    return json(200, omitZero({ tagValues: [...seen.values()], metrics: omitZero({ inspectedBytes: String(spans.length * 64) }) }))
  }

  /** OTLP ResourceSpans (jsonpb) for a trace, grouped by resource, then by scope. */
  #resourceSpans(trace: StoredTrace): Record<string, unknown>[] {
    const byResource = new Map<string, { resource: Record<string, AttrValue>; byScope: Map<string, StoredSpan[]> }>()
    for (const span of trace.spans) {
      const rKey = JSON.stringify(Object.entries(span.resource).sort())
      const group = byResource.get(rKey) ?? { resource: span.resource as Record<string, AttrValue>, byScope: new Map() }
      const sKey = JSON.stringify(span.scope)
      group.byScope.set(sKey, [...(group.byScope.get(sKey) ?? []), span])
      byResource.set(rKey, group)
    }
    return [...byResource.values()].map(({ resource, byScope }) => ({
      resource: omitZero({ attributes: keyValues(resource) }),
      scopeSpans: [...byScope.values()].map((spans) => ({
        scope: spans[0]?.scope ? omitZero({ name: spans[0].scope.name, version: spans[0].scope.version ?? '' }) : {},
        spans: spans.map((s) =>
          omitZero({
            traceId: b64(trace.traceId),
            spanId: b64(s.spanId),
            parentSpanId: s.parentSpanId === null ? '' : b64(s.parentSpanId),
            name: s.name,
            kind: KIND_ENUM[s.kind],
            startTimeUnixNano: String(s.startNs),
            endTimeUnixNano: String(s.endNs),
            attributes: keyValues(s.attributes),
            status: omitZero({ message: s.statusMessage, code: STATUS_ENUM[s.status] }),
          }),
        ),
      })),
    }))
  }

  #traceById(rawId: string, v2: boolean, params: URLSearchParams): RouteResult {
    const id = normalizeTraceId(rawId)
    const start = parseSeconds('start', params.get('start'))
    const end = parseSeconds('end', params.get('end'))
    const trace = this.#traces.get(id)
    if (!trace || !this.#inRange(trace, start, end)) return text(404, '')
    const resourceSpans = this.#resourceSpans(trace)
    const size = Buffer.byteLength(JSON.stringify(resourceSpans))
    if (size > this.#maxBytesPerTrace) {
      if (!v2) return text(422, `trace exceeds max size (max bytes: ${this.#maxBytesPerTrace})`)
      // A partial trace: the first resource only, flagged as Tempo does.
      return json(200, {
        trace: { resourceSpans: resourceSpans.slice(0, 1) },
        status: 'PARTIAL',
        message: `Trace exceeds maximum size of ${this.#maxBytesPerTrace} bytes, a partial trace is returned`,
        metrics: { inspectedBytes: String(size) },
      })
    }
    if (v2) return json(200, { trace: { resourceSpans }, metrics: { inspectedBytes: String(size) } })
    return json(200, { batches: resourceSpans })
  }
}
