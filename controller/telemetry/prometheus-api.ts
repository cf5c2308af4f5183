/**
 * A small client for the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`,
 * `/api/v1/status/buildinfo`): auth, custom headers, a timeout combined with the caller's
 * abort signal, a cap on the response size, and a strict reading of the JSON envelope.
 * Everything that goes wrong becomes a {@link PrometheusError} whose message says what
 * happened in plain words, with Prometheus's own error text when it gave one.
 *
 * Reference: https://prometheus.io/docs/prometheus/latest/querying/api/
 */

/** Labels of one series, e.g. `{ __name__: 'up', job: 'demo' }`. */
export type Labels = Record<string, string>

/** One series of an instant vector. `value` is null for a native-histogram sample. */
export interface InstantSample {
  metric: Labels
  /** Unix seconds. */
  time: number
  /** May be NaN or ±Infinity: Prometheus sends "NaN", "+Inf", "-Inf". */
  value: number | null
}

/** One series of a range vector (matrix). Native-histogram points are counted, not decoded. */
export interface RangeSeries {
  metric: Labels
  /** [unix seconds, value] pairs, oldest first. */
  values: Array<[number, number]>
  histogramPoints: number
}

export type InstantData =
  | { resultType: 'vector'; result: InstantSample[] }
  | { resultType: 'scalar'; result: { time: number; value: number } }
  | { resultType: 'string'; result: { time: number; value: string } }
  | { resultType: 'matrix'; result: RangeSeries[] }

/** What Prometheus said besides the data: warnings (e.g. partial responses) and infos (2.45+). */
export interface Notes {
  warnings: string[]
  infos: string[]
}

export type InstantResult = InstantData & Notes
export type RangeResult = { resultType: 'matrix'; result: RangeSeries[] } & Notes

export interface RangeParams {
  start: Date
  end: Date
  /** Seconds between points (> 0). Prometheus refuses more than 11,000 points per series. */
  stepSeconds: number
}

export interface PrometheusClientConfig {
  /** Base URL, e.g. `http://127.0.0.1:9090` or `https://example.com/prometheus` (a path prefix is kept). */
  url: string
  bearerToken?: string
  basicAuth?: { username: string; password: string }
  /** Sent with every request (e.g. `X-Scope-OrgID` for Mimir/Cortex). */
  headers?: Record<string, string>
  /** Per request, including reading the body. Default 10 000. */
  timeoutMs?: number
  /** Largest response body read; a larger one fails the request. Default 5 MiB. */
  maxResponseBytes?: number
  /** POST (form-encoded, no URL length limit; default) or GET (for read-only proxies). */
  method?: 'GET' | 'POST'
  /** For tests. Default: the global fetch. */
  fetch?: typeof fetch
}

/**
 * - `unreachable`: no connection (refused, DNS, reset).
 * - `timeout`: no complete answer within the timeout.
 * - `http`: a non-2xx answer that is not a Prometheus error (e.g. a proxy's 502 page, a 401).
 * - `error`: Prometheus answered `status: "error"` (see `errorType`: bad_data, execution, timeout, ...).
 * - `malformed`: not JSON, or JSON that is not a Prometheus API response.
 * - `too-large`: the body is larger than `maxResponseBytes`.
 */
export type PrometheusFailure = 'unreachable' | 'timeout' | 'http' | 'error' | 'malformed' | 'too-large'

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError'
  readonly kind: PrometheusFailure
  /** HTTP status, when there was an answer. */
  readonly status: number | null
  /** Prometheus's `errorType` (bad_data, execution, timeout, canceled, internal, unavailable, not_found). */
  readonly errorType: string | null

  constructor(kind: PrometheusFailure, message: string, options: { status?: number; errorType?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kind = kind
    this.status = options.status ?? null
    this.errorType = options.errorType ?? null
  }

  /** Prometheus read the query and refused it (a parse or evaluation error): the query's fault, not the server's. */
  get queryRejected(): boolean {
    return this.kind === 'error' && (this.errorType === 'bad_data' || this.errorType === 'execution')
  }
}

export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024
/** Prometheus refuses range queries with more points per series than this. */
export const MAX_RANGE_POINTS = 11_000

const SNIPPET_CHARS = 300
const MAX_NOTES = 20

/** A Prometheus HTTP API client. Immutable; safe to share. */
export class PrometheusClient {
  /** The base URL without credentials or trailing slash, for messages. */
  readonly url: string
  readonly timeoutMs: number
  readonly #base: URL
  readonly #headers: Headers
  readonly #method: 'GET' | 'POST'
  readonly #maxBytes: number
  readonly #fetch: typeof fetch

  constructor(config: PrometheusClientConfig) {
    let base: URL
    try {
      base = new URL(config.url)
    } catch {
      throw new Error(`Prometheus url "${config.url}" is not a valid URL (expected e.g. http://127.0.0.1:9090)`)
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`Prometheus url "${config.url}" must start with http:// or https://`)
    }
    if (base.search !== '' || base.hash !== '') throw new Error(`Prometheus url "${config.url}" must not have a query string or fragment`)
    let basicAuth = config.basicAuth
    // fetch refuses URLs with credentials; take them as basic auth instead.
    if (base.username !== '' || base.password !== '') {
      if (basicAuth !== undefined || config.bearerToken !== undefined) {
        throw new Error('Prometheus url has credentials in it and basicAuth or bearerToken is also set; use one')
      }
      basicAuth = { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) }
      base.username = ''
      base.password = ''
    }
    if (basicAuth !== undefined && config.bearerToken !== undefined) {
      throw new Error('Prometheus: set bearerToken or basicAuth, not both')
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/'
    this.#base = base
    this.url = base.href.replace(/\/$/, '')

    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
      throw new Error(`Prometheus timeoutMs must be a whole number of milliseconds between 1 and 600000 (got ${timeoutMs})`)
    }
    this.timeoutMs = timeoutMs
    const maxBytes = config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    if (!Number.isInteger(maxBytes) || maxBytes < 1024) {
      throw new Error(`Prometheus maxResponseBytes must be a whole number of at least 1024 (got ${maxBytes})`)
    }
    this.#maxBytes = maxBytes
    this.#method = config.method ?? 'POST'
    this.#fetch = config.fetch ?? globalThis.fetch

    try {
      this.#headers = new Headers(config.headers ?? {})
    } catch (error) {
      throw new Error(`Prometheus headers are invalid: ${messageOf(error)}`)
    }
    this.#headers.set('accept', 'application/json')
    if (config.bearerToken !== undefined) this.#headers.set('authorization', `Bearer ${config.bearerToken}`)
    if (basicAuth !== undefined) {
      const pair = Buffer.from(`${basicAuth.username}:${basicAuth.password}`, 'utf8').toString('base64')
      this.#headers.set('authorization', `Basic ${pair}`)
    }
  }

  /** An instant query (`/api/v1/query`) evaluated at `time`. */
  async query(promql: string, time: Date, signal: AbortSignal): Promise<InstantResult> {
    const envelope = await this.#call('api/v1/query', { query: promql, time: unixSeconds(time), timeout: `${this.timeoutMs}ms` }, signal)
    return { ...readInstantData(envelope.data), warnings: envelope.warnings, infos: envelope.infos }
  }

  /** A range query (`/api/v1/query_range`) from `start` to `end` every `stepSeconds`. */
  async queryRange(promql: string, range: RangeParams, signal: AbortSignal): Promise<RangeResult> {
    const { start, end, stepSeconds } = range
    if (!(stepSeconds > 0) || !Number.isFinite(stepSeconds)) throw new Error(`range query step must be a positive number of seconds (got ${stepSeconds})`)
    if (end.getTime() < start.getTime()) throw new Error('range query end is before its start')
    const points = Math.floor((end.getTime() - start.getTime()) / 1000 / stepSeconds) + 1
    if (points > MAX_RANGE_POINTS) {
      throw new Error(`range query would return ${points} points per series; Prometheus allows ${MAX_RANGE_POINTS}: use a larger step`)
    }
    const envelope = await this.#call(
      'api/v1/query_range',
      { query: promql, start: unixSeconds(start), end: unixSeconds(end), step: String(stepSeconds), timeout: `${this.timeoutMs}ms` },
      signal,
    )
    const data = readInstantData(envelope.data)
    if (data.resultType !== 'matrix') {
      throw new PrometheusError('malformed', `${this.url} answered a range query with resultType "${data.resultType}"; expected "matrix"`)
    }
    return { resultType: 'matrix', result: data.result, warnings: envelope.warnings, infos: envelope.infos }
  }

  /** `/api/v1/status/buildinfo`: the server's version. Throws a PrometheusError when it cannot be read. */
  async buildInfo(signal: AbortSignal): Promise<{ version: string }> {
    const envelope = await this.#call('api/v1/status/buildinfo', null, signal)
    const data = envelope.data
    if (!isRecord(data) || typeof data.version !== 'string') {
      throw new PrometheusError('malformed', `${this.url}/api/v1/status/buildinfo answered JSON without data.version`)
    }
    return { version: data.version }
  }

  /** One API call: the parsed envelope of a `status: "success"` answer, or a PrometheusError. */
  async #call(path: string, params: Record<string, string> | null, signal: AbortSignal): Promise<Envelope> {
    const { status, statusText, text } = await this.#send(path, params, signal)
    const where = `${this.url}/${path}`
    let json: unknown
    let parseError: string | null = null
    try {
      json = JSON.parse(text)
    } catch (error) {
      parseError = messageOf(error)
    }
    const ok = status >= 200 && status < 300
    if (parseError !== null) {
      if (!ok) throw new PrometheusError('http', `${where} answered HTTP ${status}${statusWords(statusText)}${hint(status)}: ${snippet(text)}`, { status })
      throw new PrometheusError('malformed', `${where} answered HTTP ${status} with a body that is not JSON (${parseError}): ${snippet(text)}`, { status })
    }
    let envelope: Envelope
    try {
      envelope = readEnvelope(json)
    } catch (error) {
      if (!ok) throw new PrometheusError('http', `${where} answered HTTP ${status}${statusWords(statusText)}${hint(status)}: ${snippet(text)}`, { status })
      throw new PrometheusError('malformed', `${where} answered JSON that is not a Prometheus API response: ${messageOf(error)}`, { status })
    }
    if (envelope.status === 'error') {
      const errorType = envelope.errorType ?? 'unknown'
      const warnings = envelope.warnings.length > 0 ? ` (warnings: ${envelope.warnings.join('; ')})` : ''
      throw new PrometheusError('error', `Prometheus error (${errorType}, HTTP ${status}): ${envelope.error ?? '(no message)'}${warnings}`, {
        status,
        errorType,
      })
    }
    if (!ok) {
      // A success envelope with an error status: trust the status.
      throw new PrometheusError('http', `${where} answered HTTP ${status}${statusWords(statusText)}${hint(status)}: ${snippet(text)}`, { status })
    }
    return envelope
  }

  async #send(path: string, params: Record<string, string> | null, signal: AbortSignal): Promise<{ status: number; statusText: string; text: string }> {
    signal.throwIfAborted()
    const url = new URL(path, this.#base)
    const headers = new Headers(this.#headers)
    let body: string | undefined
    let method: 'GET' | 'POST' = 'GET'
    if (params !== null) {
      const form = new URLSearchParams(params)
      if (this.#method === 'POST') {
        method = 'POST'
        body = form.toString()
        headers.set('content-type', 'application/x-www-form-urlencoded')
      } else {
        url.search = form.toString()
      }
    }
    const timeout = AbortSignal.timeout(this.timeoutMs)
    const combined = AbortSignal.any([signal, timeout])
    const where = `${this.url}/${path}`
    // Whatever fails, the caller's own abort wins (it knows why it aborted), then our timeout.
    const fail = (error: unknown, stage: string): never => {
      if (signal.aborted) throw signal.reason
      if (timeout.aborted) {
        throw new PrometheusError('timeout', `Prometheus at ${this.url} did not answer within ${this.timeoutMs} ms (${stage})`, { cause: error })
      }
      if (error instanceof PrometheusError) throw error
      throw new PrometheusError('unreachable', `cannot reach Prometheus at ${this.url}: ${connectionProblem(error)}`, { cause: error })
    }

    let response: Response
    try {
      response = await this.#fetch(url, { method, headers, body, signal: combined, redirect: 'follow' })
    } catch (error) {
      return fail(error, 'waiting for the response')
    }
    try {
      const text = await readCapped(response, this.#maxBytes, where)
      return { status: response.status, statusText: response.statusText, text }
    } catch (error) {
      return fail(error, 'reading the response body')
    }
  }
}

/** Reads the body as UTF-8, refusing more than `max` bytes (and stopping the download there). */
async function readCapped(response: Response, max: number, where: string): Promise<string> {
  const tooLarge = (): PrometheusError =>
    new PrometheusError('too-large', `${where} answered more than ${formatBytes(max)}; narrow the query (fewer series) or raise maxResponseBytes`, {
      status: response.status,
    })
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder('utf-8')
  let total = 0
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    text += decoder.decode(value, { stream: true })
  }
  return text + decoder.decode()
}

// ---------------------------------------------------------------------------------------
// The JSON envelope, read strictly: anything unexpected is "malformed", with its path.

interface Envelope {
  status: 'success' | 'error'
  data: unknown
  errorType: string | null
  error: string | null
  warnings: string[]
  infos: string[]
}

class ShapeError extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${snippet(JSON.stringify(value), 40)}`
}

function shape(path: string, expected: string, got: unknown): ShapeError {
  return new ShapeError(`${path} must be ${expected} (got ${describe(got)})`)
}

function stringList(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw shape(path, 'an array of strings', value)
  return value.slice(0, MAX_NOTES).map((item, i) => {
    if (typeof item !== 'string') throw shape(`${path}[${i}]`, 'a string', item)
    return snippet(item, 500)
  })
}

function readEnvelope(json: unknown): Envelope {
  if (!isRecord(json)) throw shape('the body', 'an object', json)
  const { status } = json
  if (status !== 'success' && status !== 'error') throw shape('status', '"success" or "error"', status)
  const optionalString = (key: string): string | null => {
    const value = json[key]
    if (value === undefined || value === null) return null
    if (typeof value !== 'string') throw shape(key, 'a string', value)
    return value
  }
  if (status === 'success' && json.data === undefined) throw shape('data', 'present when status is "success"', undefined)
  return {
    status,
    data: json.data,
    errorType: optionalString('errorType'),
    error: optionalString('error'),
    warnings: stringList(json.warnings, 'warnings'),
    infos: stringList(json.infos, 'infos'),
  }
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** A sample value as Prometheus formats it: a decimal string, "NaN", "+Inf" or "-Inf". */
function sampleValue(value: unknown, path: string): number {
  if (typeof value !== 'string') throw shape(path, 'a string (Prometheus sends sample values as strings)', value)
  if (value === 'NaN') return NaN
  if (value === '+Inf' || value === 'Inf') return Infinity
  if (value === '-Inf') return -Infinity
  if (!FLOAT.test(value)) throw shape(path, 'a number as a string, "NaN", "+Inf" or "-Inf"', value)
  return Number(value)
}

function timestamp(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw shape(path, 'a unix timestamp (a number)', value)
  return value
}

function pair(value: unknown, path: string): [number, unknown] {
  if (!Array.isArray(value) || value.length !== 2) throw shape(path, 'a [time, value] pair', value)
  return [timestamp(value[0], `${path}[0]`), value[1]]
}

function labels(value: unknown, path: string): Labels {
  if (value === undefined) return {}
  if (!isRecord(value)) throw shape(path, 'an object of labels', value)
  const out: Labels = {}
  for (const [key, label] of Object.entries(value)) {
    if (typeof label !== 'string') throw shape(`${path}.${key}`, 'a string', label)
    out[key] = label
  }
  return out
}

function readInstantData(data: unknown): InstantData {
  if (!isRecord(data)) throw new PrometheusError('malformed', `the Prometheus answer is malformed: ${shape('data', 'an object', data).message}`)
  try {
    const { resultType, result } = data
    switch (resultType) {
      case 'vector': {
        if (!Array.isArray(result)) throw shape('data.result', 'an array', result)
        return {
          resultType,
          result: result.map((item, i): InstantSample => {
            const path = `data.result[${i}]`
            if (!isRecord(item)) throw shape(path, 'an object', item)
            const metric = labels(item.metric, `${path}.metric`)
            if (item.value === undefined && item.histogram !== undefined) {
              return { metric, time: pair(item.histogram, `${path}.histogram`)[0], value: null }
            }
            const [time, raw] = pair(item.value, `${path}.value`)
            return { metric, time, value: sampleValue(raw, `${path}.value[1]`) }
          }),
        }
      }
      case 'scalar': {
        const [time, raw] = pair(result, 'data.result')
        return { resultType, result: { time, value: sampleValue(raw, 'data.result[1]') } }
      }
      case 'string': {
        const [time, raw] = pair(result, 'data.result')
        if (typeof raw !== 'string') throw shape('data.result[1]', 'a string', raw)
        return { resultType, result: { time, value: raw } }
      }
      case 'matrix': {
        if (!Array.isArray(result)) throw shape('data.result', 'an array', result)
        return {
          resultType,
          result: result.map((item, i): RangeSeries => {
            const path = `data.result[${i}]`
            if (!isRecord(item)) throw shape(path, 'an object', item)
            const metric = labels(item.metric, `${path}.metric`)
            const rawValues = item.values ?? []
            if (!Array.isArray(rawValues)) throw shape(`${path}.values`, 'an array', rawValues)
            const values = rawValues.map((point, j): [number, number] => {
              const [time, raw] = pair(point, `${path}.values[${j}]`)
              return [time, sampleValue(raw, `${path}.values[${j}][1]`)]
            })
            const histograms = item.histograms ?? []
            if (!Array.isArray(histograms)) throw shape(`${path}.histograms`, 'an array', histograms)
            return { metric, values, histogramPoints: histograms.length }
          }),
        }
      }
      default:
        throw shape('data.resultType', '"vector", "scalar", "string" or "matrix"', resultType)
    }
  } catch (error) {
    if (error instanceof ShapeError) throw new PrometheusError('malformed', `the Prometheus answer is malformed: ${error.message}`)
    throw error
  }
}

// ---------------------------------------------------------------------------------------
// Plain words

function unixSeconds(time: Date): string {
  const ms = time.getTime()
  if (!Number.isFinite(ms)) throw new Error('query time is not a valid date')
  return (ms / 1000).toFixed(3)
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** At most `max` characters on one line. */
export function snippet(text: string, max = SNIPPET_CHARS): string {
  const line = text.replace(/\s+/g, ' ').trim()
  if (line === '') return '(empty body)'
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

function statusWords(statusText: string): string {
  return statusText !== '' ? ` ${statusText}` : ''
}

function hint(status: number): string {
  if (status === 401) return ' (check the bearer token or basic auth)'
  if (status === 403) return ' (the credentials are not allowed to query)'
  if (status === 404) return ' (is the URL the Prometheus base URL, including any path prefix?)'
  return ''
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Number((bytes / 1024 / 1024).toFixed(1))} MiB` : `${Math.round(bytes / 1024)} KiB`
}

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'the server closed the connection',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'the response body stalled',
}

/** "connection refused (ECONNREFUSED)" from undici's "fetch failed" and its cause chain. */
function connectionProblem(error: unknown): string {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const record = current as { code?: unknown; errors?: unknown; cause?: unknown; message?: unknown }
    if (typeof record.code === 'string') {
      const words = CONNECTION_CODES[record.code]
      return words !== undefined ? `${words} (${record.code})` : `${typeof record.message === 'string' ? record.message : record.code}`
    }
    if (Array.isArray(record.errors) && record.errors.length > 0) current = record.errors[0]
    else current = record.cause
  }
  const cause = (error as { cause?: unknown } | null)?.cause
  return cause instanceof Error ? cause.message : messageOf(error)
}
