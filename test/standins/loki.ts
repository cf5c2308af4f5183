/**
 * A Grafana Loki (v3.7) HTTP query API stand-in, in process on 127.0.0.1, for tests: Loki
 * cannot run on this machine. Built from the upstream HTTP API documentation
 * (`docs/sources/reference/loki-http-api.md`) and the behaviour of `pkg/loghttp` and
 * `pkg/util/marshal` (see /work/shared/upstream/loki): same paths, parameters, defaults,
 * status codes, JSON shapes, and plain-text errors. Messages are our own, in Loki's style.
 *
 * Endpoints (GET, and POST with a form body):
 * - `/loki/api/v1/query` (instant: `query`, `time`, `limit`, `direction`): metric queries only;
 *   a log query gets 400 as in Loki. Answers `vector` or `scalar`.
 * - `/loki/api/v1/query_range` (`query`, `start`, `end`, `since`, `step`, `limit`, `direction`):
 *   log queries → `streams` (start inclusive, end exclusive, `limit` entries in all);
 *   metric queries → `matrix` (one point per step from start to end).
 * - `/loki/api/v1/labels`, `/loki/api/v1/label/<name>/values` (`start`, `end`, `since`, `query`),
 *   `/loki/api/v1/series` (repeated `match[]`, `start`, `end`, `since`).
 * - `/loki/api/v1/push` (JSON `{"streams":[{"stream":{…},"values":[["<ns>","line"]]}]}` → 204),
 *   `/ready` (`ready`).
 *
 * Times: float Unix seconds if they contain '.', an integer of at most 10 digits is Unix
 * seconds, longer is Unix nanoseconds, else RFC3339(Nano). `stats` is always present on
 * query/query_range, with Loki's exact key set (lines and bytes processed filled in).
 *
 * The LogQL subset is documented in `loki-logql.ts`; anything else is a 400 parse error that
 * names what the stand-in does not support. Faults for bad-input tests: {@link LokiStandin.setFault}.
 */
import {
  type EvalStats,
  type Labels,
  type LogQuery,
  LogqlParseError,
  type MetricExpr,
  type Stream,
  type Value,
  evaluateAt,
  formatGoFloat,
  lineMatches,
  parseDurationMs,
  parseLogql,
  selectorMatches,
} from './loki-logql.ts'
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

/** A log line to push: `time` as a Date, Unix milliseconds (number) or Unix nanoseconds (bigint). */
export interface LogLineInput {
  time: Date | number | bigint
  line: string
}

class BadRequest extends Error {}

const ERROR_TYPE = 'text/plain; charset=utf-8'
const MAX_POINTS = 11_000

function nsOf(time: Date | number | bigint): bigint {
  if (typeof time === 'bigint') return time
  const ms = time instanceof Date ? time.getTime() : time
  return BigInt(Math.round(ms * 1000)) * 1000n
}

/** Loki's parseTimestamp: '.' → float seconds; ≤ 10 digits → seconds; longer → nanoseconds; else RFC3339. */
export function parseLokiTime(value: string | null, fallback: bigint): bigint {
  if (value === null || value === '') return fallback
  if (value.includes('.')) {
    const seconds = Number(value)
    if (Number.isFinite(seconds) && /^[+-]?\d*\.?\d*(?:[eE][+-]?\d+)?$/.test(value)) {
      const whole = Math.trunc(seconds)
      return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((seconds - whole) * 1e9))
    }
  }
  if (/^[+-]?\d+$/.test(value)) {
    const n = BigInt(value)
    if (n > 9_223_372_036_854_775_807n || n < -9_223_372_036_854_775_808n) {
      throw new BadRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`)
    }
    return value.replace(/^[+-]/, '').length <= 10 ? n * 1_000_000_000n : n
  }
  const rfc = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(value)
  if (rfc) {
    const ms = Date.parse(`${rfc[1]}-${rfc[2]}-${rfc[3]}T${rfc[4]}:${rfc[5]}:${rfc[6]}${rfc[9]}`)
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + BigInt((rfc[8] ?? '').padEnd(9, '0') || '0')
  }
  throw new BadRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`)
}

/** A step or `since`: float seconds or a Prometheus duration; returns nanoseconds. */
function parseSecondsOrDuration(value: string): bigint {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) {
    return BigInt(Math.round(Number(value) * 1e9))
  }
  const ms = parseDurationMs(value)
  if (ms === null) throw new BadRequest(`cannot parse ${JSON.stringify(value)} to a valid duration`)
  return BigInt(Math.round(ms * 1e6))
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return 100
  if (!/^[+-]?\d+$/.test(value)) throw new BadRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`)
  const limit = Number(value)
  if (limit <= 0) throw new BadRequest('limit must be a positive value')
  return limit
}

function parseDirection(value: string | null): 'backward' | 'forward' {
  if (value === null || value === '') return 'backward'
  const upper = value.toUpperCase()
  if (upper === 'BACKWARD') return 'backward'
  if (upper === 'FORWARD') return 'forward'
  throw new BadRequest(`invalid direction '${value}'`)
}

/** Unix seconds as Loki writes sample timestamps (millisecond precision, a JSON number). */
function sampleTime(ns: bigint): number {
  return Number(ns / 1_000_000n) / 1000
}

function counters(): Record<string, number> {
  return {
    entriesFound: 0, entriesRequested: 0, entriesStored: 0, bytesReceived: 0,
    bytesSent: 0, requests: 0, downloadTime: 0, queryLengthServed: 0,
  }
}

function storeStats(): Record<string, unknown> {
  return {
    chunksDownloadTime: 0,
    congestionControlLatency: 0,
    totalChunksRef: 0,
    totalChunksDownloaded: 0,
    chunkRefsFetchTime: 0,
    queryReferencedStructuredMetadata: false,
    queryUsedV2Engine: false,
    pipelineWrapperFilteredLines: 0,
    chunk: {
      compressedBytes: 0, decompressedBytes: 0, decompressedLines: 0, decompressedStructuredMetadataBytes: 0,
      headChunkBytes: 0, headChunkLines: 0, headChunkStructuredMetadataBytes: 0, postFilterLines: 0, totalDuplicates: 0,
    },
    dataobj: {
      pageBatches: 0, pagesDownloaded: 0, pagesDownloadedBytes: 0, pagesScanned: 0, postFilterRows: 0,
      postPredicateRows: 0, postPredicateDecompressedBytes: 0, postPredicateStructuredMetadataBytes: 0,
      prePredicateDecompressedRows: 0, prePredicateDecompressedBytes: 0,
      prePredicateDecompressedStructuredMetadataBytes: 0, totalPageDownloadTime: 0, totalRowsAvailable: 0,
    },
  }
}

/** Loki v3.7's `stats` object (its exact key set), with what the stand-in processed filled in. */
export function lokiStats(processed: { lines: number; bytes: number; returned: number; postFilter: number; seconds: number }): Record<string, unknown> {
  const { lines, bytes, returned, postFilter, seconds } = processed
  return {
    index: { bloomFilterTime: 0, chunkRefsLookupTime: 0, postFilterChunks: 0, totalChunks: 0, totalStreams: 0, usedBloomFilters: false, shardsDuration: 0 },
    ingester: { store: storeStats(), totalBatches: 0, totalChunksMatched: 0, totalLinesSent: 0, totalReached: 0 },
    querier: { querierExecTime: 0, store: storeStats() },
    cache: {
      chunk: counters(), index: counters(), statsResult: counters(), seriesResult: counters(), labelResult: counters(),
      volumeResult: counters(), instantMetricResult: counters(), result: counters(),
    },
    summary: {
      bytesProcessedPerSecond: seconds > 0 ? Math.round(bytes / seconds) : 0,
      execTime: seconds,
      linesProcessedPerSecond: seconds > 0 ? Math.round(lines / seconds) : 0,
      queueTime: 0,
      shards: 1,
      splits: 0,
      subqueries: 0,
      totalBytesProcessed: bytes,
      totalEntriesReturned: returned,
      totalLinesProcessed: lines,
      totalStructuredMetadataBytesProcessed: 0,
      totalPostFilterLines: postFilter,
    },
  }
}

export interface LokiStandinOptions {
  /** When set, every API request must carry this `X-Scope-OrgID` (else 401 `no org id`). */
  tenant?: string
  /** The server's clock, in Unix milliseconds (defaults for `time`, `end`, ...). */
  now?: () => number
}

/** The Loki stand-in. `await LokiStandin.start()`, push lines, point a client at `.url`. */
export class LokiStandin {
  readonly #server: StandinServer
  readonly #streams = new Map<string, Stream>()
  readonly #now: () => number

  private constructor(options: LokiStandinOptions) {
    this.#now = options.now ?? Date.now
    this.#server = new StandinServer({
      unguardedPaths: ['/ready'],
      jsonContentType: 'application/json; charset=UTF-8',
      errorContentType: ERROR_TYPE,
      route: (request) => this.#route(request),
    })
    this.#server.tenant = options.tenant ?? null
  }

  static async start(options: LokiStandinOptions = {}): Promise<LokiStandin> {
    const standin = new LokiStandin(options)
    await standin.#server.listen()
    return standin
  }

  get url(): string {
    return this.#server.url
  }

  /** Every request received, oldest first. */
  get requests(): readonly RecordedRequest[] {
    return this.#server.requests
  }

  close(): Promise<void> {
    return this.#server.close()
  }

  /** Switches a fault on (or off with null). See {@link StandinFault}. */
  setFault(fault: StandinFault | null, options?: FaultOptions): void {
    this.#server.setFault(fault, options)
  }

  /** Requires this tenant (`X-Scope-OrgID`) from now on; null accepts any request. */
  requireTenant(tenant: string | null): void {
    this.#server.tenant = tenant
  }

  /** Stores lines in the stream with exactly these labels (as a push to Loki would). */
  push(labels: Labels, lines: readonly LogLineInput[]): void {
    const key = JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]))
    let stream = this.#streams.get(key)
    if (!stream) {
      stream = { labels: { ...labels }, entries: [] }
      this.#streams.set(key, stream)
    }
    for (const { time, line } of lines) stream.entries.push({ ns: nsOf(time), line })
    stream.entries.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))
  }

  /** Forgets every stored line. */
  clear(): void {
    this.#streams.clear()
  }

  get #nowNs(): bigint {
    return BigInt(Math.round(this.#now())) * 1_000_000n
  }

  async #route(request: RouteRequest): Promise<RouteResult> {
    const { path, method } = request
    if (path === '/ready') return method === 'GET' ? text(200, 'ready\n', 'text/plain; charset=utf-8') : text(405, '')
    if (path === '/loki/api/v1/push') {
      if (method !== 'POST') return text(405, '')
      return this.#pushRoute(request)
    }
    const routes: Record<string, (params: URLSearchParams) => RouteResult> = {
      '/loki/api/v1/query': (p) => this.#instant(p),
      '/loki/api/v1/query_range': (p) => this.#range(p),
      '/loki/api/v1/labels': (p) => this.#labels(p, null),
      '/loki/api/v1/series': (p) => this.#series(p),
    }
    const labelValues = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(path)
    const handler = routes[path] ?? (labelValues ? (p: URLSearchParams) => this.#labels(p, decodeURIComponent(labelValues[1] ?? '')) : undefined)
    // Go's mux: unknown paths are "404 page not found"; known paths refuse other methods with an empty 405.
    if (!handler) return text(404, '404 page not found\n', 'text/plain; charset=utf-8')
    if (method !== 'GET' && method !== 'POST') return text(405, '')
    try {
      return handler(request.params)
    } catch (error) {
      if (error instanceof BadRequest || error instanceof LogqlParseError) return text(400, error.message)
      return text(500, error instanceof Error ? error.message : String(error))
    }
  }

  #pushRoute(request: RouteRequest): RouteResult {
    let body: unknown
    try {
      body = JSON.parse(request.body.toString('utf8'))
    } catch (error) {
      return text(400, `loghttp.PushRequest: ${error instanceof Error ? error.message : String(error)}`)
    }
    const streams = (body as { streams?: unknown }).streams
    if (!Array.isArray(streams)) return text(400, 'loghttp.PushRequest: streams must be a list')
    for (const s of streams as { stream?: Labels; values?: [string, string][] }[]) {
      if (typeof s.stream !== 'object' || s.stream === null || !Array.isArray(s.values)) return text(400, 'loghttp.PushRequest: each stream needs stream labels and values')
      this.push(s.stream, s.values.map(([ns, line]) => ({ time: BigInt(ns), line })))
    }
    return text(204, '', null)
  }

  #query(params: URLSearchParams): string {
    const query = params.get('query')
    // Loki's parser sees an empty query and fails at its first token.
    return query ?? ''
  }

  #instant(params: URLSearchParams): RouteResult {
    const started = performance.now()
    const query = this.#query(params)
    const time = parseLokiTime(params.get('time'), this.#nowNs)
    parseLimit(params.get('limit'))
    parseDirection(params.get('direction'))
    const expr = parseLogql(query)
    if (expr.type === 'log') {
      throw new BadRequest('log queries are not supported as an instant query type, please change your query to a range query type')
    }
    const stats: EvalStats = { linesProcessed: 0, bytesProcessed: 0 }
    const value = evaluateAt(expr, time, [...this.#streams.values()], stats)
    const seconds = (performance.now() - started) / 1000
    const at = sampleTime(time)
    const result =
      value.kind === 'scalar'
        ? [at, formatGoFloat(value.value)]
        : value.samples.map((s) => ({ metric: s.labels, value: [at, formatGoFloat(s.value)] }))
    return json(200, {
      status: 'success',
      data: {
        resultType: value.kind,
        result,
        stats: lokiStats({ lines: stats.linesProcessed, bytes: stats.bytesProcessed, returned: value.kind === 'scalar' ? 1 : value.samples.length, postFilter: 0, seconds }),
      },
    })
  }

  #bounds(params: URLSearchParams, defaultSpanNs: bigint): { start: bigint; end: bigint } {
    const end = parseLokiTime(params.get('end'), this.#nowNs)
    const since = params.get('since')
    const span = since !== null && since !== '' ? parseSecondsOrDuration(since) : defaultSpanNs
    const start = parseLokiTime(params.get('start'), end - span)
    return { start, end }
  }

  #range(params: URLSearchParams): RouteResult {
    const started = performance.now()
    const query = this.#query(params)
    const limit = parseLimit(params.get('limit'))
    const { start, end } = this.#bounds(params, 3_600_000_000_000n)
    if (end <= start) throw new BadRequest('end timestamp must not be before or equal to start time')
    const direction = parseDirection(params.get('direction'))
    const rawStep = params.get('step')
    const step =
      rawStep === null || rawStep === ''
        ? (() => {
            const seconds = (end - start) / 1_000_000_000n / 250n
            return (seconds > 1n ? seconds : 1n) * 1_000_000_000n
          })()
        : parseSecondsOrDuration(rawStep)
    if (step <= 0n) throw new BadRequest('zero or negative query resolution step widths are not accepted. Try a positive integer')
    const expr = parseLogql(query)
    if (expr.type !== 'log' && (end - start) / step > BigInt(MAX_POINTS)) {
      throw new BadRequest('exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter')
    }
    const stats: EvalStats = { linesProcessed: 0, bytesProcessed: 0 }
    if (expr.type === 'log') {
      const streams = this.#select(expr, start, end, limit, direction, stats)
      const returned = streams.reduce((n, s) => n + s.values.length, 0)
      return json(200, {
        status: 'success',
        data: {
          resultType: 'streams',
          result: streams,
          stats: lokiStats({ lines: stats.linesProcessed, bytes: stats.bytesProcessed, returned, postFilter: returned, seconds: (performance.now() - started) / 1000 }),
        },
      })
    }
    const matrix = this.#matrix(expr, start, end, step, stats)
    return json(200, {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: matrix,
        stats: lokiStats({ lines: stats.linesProcessed, bytes: stats.bytesProcessed, returned: matrix.length, postFilter: 0, seconds: (performance.now() - started) / 1000 }),
      },
    })
  }

  #matrix(expr: MetricExpr, start: bigint, end: bigint, step: bigint, stats: EvalStats): { metric: Labels; values: [number, string][] }[] {
    const series = new Map<string, { metric: Labels; values: [number, string][] }>()
    const streams = [...this.#streams.values()]
    for (let t = start; t <= end; t += step) {
      const value: Value = evaluateAt(expr, t, streams, stats)
      const samples = value.kind === 'scalar' ? [{ labels: {}, value: value.value }] : value.samples
      for (const s of samples) {
        const key = JSON.stringify(Object.keys(s.labels).sort().map((k) => [k, s.labels[k]]))
        let entry = series.get(key)
        if (!entry) {
          entry = { metric: s.labels, values: [] }
          series.set(key, entry)
        }
        entry.values.push([sampleTime(t), formatGoFloat(s.value)])
      }
    }
    return [...series.values()]
  }

  /** Log lines in [start, end), filtered, `limit` in all, newest first for backward. */
  #select(
    query: LogQuery,
    start: bigint,
    end: bigint,
    limit: number,
    direction: 'backward' | 'forward',
    stats: EvalStats,
  ): { stream: Labels; values: [string, string][] }[] {
    const picked: { stream: Stream; ns: bigint; line: string }[] = []
    for (const stream of this.#streams.values()) {
      if (!selectorMatches(query.matchers, stream.labels)) continue
      for (const entry of stream.entries) {
        if (entry.ns < start || entry.ns >= end) continue
        stats.linesProcessed += 1
        stats.bytesProcessed += Buffer.byteLength(entry.line)
        if (lineMatches(query.filters, entry.line)) picked.push({ stream, ns: entry.ns, line: entry.line })
      }
    }
    const sign = direction === 'backward' ? -1 : 1
    picked.sort((a, b) => (a.ns < b.ns ? -sign : a.ns > b.ns ? sign : 0))
    const kept = picked.slice(0, limit)
    const byStream = new Map<Stream, [string, string][]>()
    for (const p of kept) {
      const values = byStream.get(p.stream) ?? []
      values.push([String(p.ns), p.line])
      byStream.set(p.stream, values)
    }
    return [...byStream].map(([stream, values]) => ({ stream: { ...stream.labels }, values }))
  }

  /** Streams with at least one line in [start, end], optionally matching a selector. */
  #streamsIn(start: bigint, end: bigint, selectors: readonly LogQuery[] | null): Stream[] {
    return [...this.#streams.values()].filter(
      (s) =>
        s.entries.some((e) => e.ns >= start && e.ns <= end) &&
        (selectors === null || selectors.some((q) => selectorMatches(q.matchers, s.labels))),
    )
  }

  #selector(query: string): LogQuery {
    const expr = parseLogql(query)
    if (expr.type !== 'log') throw new BadRequest('only a stream selector is accepted here (e.g. {app="demo"})')
    return expr
  }

  #labels(params: URLSearchParams, name: string | null): RouteResult {
    const { start, end } = this.#bounds(params, 6n * 3_600_000_000_000n)
    const query = params.get('query')
    const streams = this.#streamsIn(start, end, query ? [this.#selector(query)] : null)
    const values = new Set<string>()
    for (const s of streams) {
      if (name === null) for (const key of Object.keys(s.labels)) values.add(key)
      else if (s.labels[name] !== undefined) values.add(s.labels[name])
    }
    return json(200, { status: 'success', data: [...values].sort() })
  }

  #series(params: URLSearchParams): RouteResult {
    const { start, end } = this.#bounds(params, 6n * 3_600_000_000_000n)
    const matches = params.getAll('match[]')
    if (matches.length === 0) throw new BadRequest('at least one match[] argument must be provided')
    const streams = this.#streamsIn(start, end, matches.map((m) => this.#selector(m)))
    return json(200, { status: 'success', data: streams.map((s) => ({ ...s.labels })) })
  }
}
