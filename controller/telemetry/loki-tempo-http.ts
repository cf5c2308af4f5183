/**
 * What the Loki and Tempo providers share: an HTTP source with auth, tenant, timeout and a
 * bounded body, whose failures are {@link TelemetryHttpError}s with plain-words messages;
 * and query templating. Nothing here is specific to either backend.
 */
import type { ProviderSpec } from '../../schema/provider-spec.ts'

/** How to reach a backend; both providers take these (and a few of their own). */
export interface HttpSourceOptions {
  /** Base URL, e.g. `http://loki:3100`; may carry a path prefix (`https://gateway/loki`). */
  url: string
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string
  /** Sent as `Authorization: Basic …` (ignored when bearerToken is set). */
  basicAuth?: { username: string; password: string }
  /** Extra headers on every request. */
  headers?: Readonly<Record<string, string>>
  /** Multi-tenant backends: sent as `X-Scope-OrgID`. */
  tenant?: string
  /** Per request, in ms; default 10 000. */
  timeoutMs?: number
  /** Bodies larger than this are refused (and not read further); default 8 MiB. */
  maxResponseBytes?: number
  /** For tests; default the global fetch. */
  fetch?: typeof globalThis.fetch
}

/** Why a request gave no usable answer. */
export type HttpFailureKind = 'timeout' | 'network' | 'http' | 'too-large' | 'malformed' | 'shape'

/** A request that gave no usable answer; `message` is meant for people (and evidence). */
export class TelemetryHttpError extends Error {
  override readonly name = 'TelemetryHttpError'
  readonly kind: HttpFailureKind
  /** The HTTP status for `http` failures, else null. */
  readonly status: number | null

  constructor(kind: HttpFailureKind, message: string, status: number | null = null) {
    super(message)
    this.kind = kind
    this.status = status
  }
}

export interface HttpAnswer {
  status: number
  contentType: string
  body: string
}

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024
const MAX_MESSAGE = 300

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB` : `${Math.round(bytes / 1024)} KiB`
}

/** One line, at most MAX_MESSAGE characters: backend error texts go into reasons people read. */
export function clip(text: string, max = MAX_MESSAGE): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** HTTP options from a declared provider (url, auth, headers, tenant, timeout). */
export function httpOptionsOf(spec: ProviderSpec): HttpSourceOptions {
  return {
    url: spec.url,
    headers: spec.headers,
    timeoutMs: spec.timeoutMs,
    ...(spec.bearerToken !== undefined ? { bearerToken: spec.bearerToken } : {}),
    ...(spec.basicAuth !== undefined ? { basicAuth: spec.basicAuth } : {}),
    ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
  }
}

/** A backend reached over HTTP (GET, JSON answers, plain-text errors). */
export class HttpSource {
  readonly backend: string
  readonly #base: URL
  readonly #headers: Record<string, string>
  readonly #timeoutMs: number
  readonly #maxBytes: number
  readonly #fetch: typeof globalThis.fetch

  /** `backend` names it in messages: "loki did not answer within 2000 ms". */
  constructor(backend: string, options: HttpSourceOptions) {
    this.backend = backend
    let base: URL
    try {
      base = new URL(options.url)
    } catch {
      throw new TypeError(`${backend}: url ${JSON.stringify(options.url)} is not a valid URL`)
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`${backend}: url must be http:// or https:// (got ${base.protocol})`)
    this.#base = base
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) }
    if (options.bearerToken !== undefined) headers.authorization = `Bearer ${options.bearerToken}`
    else if (options.basicAuth !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`
    } else if (base.username !== '' || base.password !== '') {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`
    }
    if (options.tenant !== undefined) headers['x-scope-orgid'] = options.tenant
    this.#base.username = ''
    this.#base.password = ''
    this.#headers = headers
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.#maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_BYTES
    this.#fetch = options.fetch ?? globalThis.fetch
  }

  /** Where the backend is, without credentials: for messages. */
  get origin(): string {
    return this.#base.origin
  }

  #url(path: string, params: URLSearchParams): URL {
    const url = new URL(this.#base.href)
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`
    url.search = params.toString()
    return url
  }

  /**
   * GETs `path`; any status comes back as an answer. Throws TelemetryHttpError for a timeout,
   * an unreachable backend or a body over the size limit; rethrows `signal`'s reason when the
   * caller gave up (so the caller's own timeout reads as its own).
   */
  async get(path: string, params: URLSearchParams, signal: AbortSignal): Promise<HttpAnswer> {
    signal.throwIfAborted()
    const own = AbortSignal.timeout(this.#timeoutMs)
    const combined = AbortSignal.any([signal, own])
    const aborted = (error: unknown): Error => {
      if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason))
      if (own.aborted) return new TelemetryHttpError('timeout', `${this.backend} did not answer within ${this.#timeoutMs} ms`)
      return error instanceof Error ? error : new Error(String(error))
    }
    let response: Response
    try {
      response = await this.#fetch(this.#url(path, params), { headers: this.#headers, signal: combined, redirect: 'error' })
    } catch (error) {
      if (combined.aborted) throw aborted(error)
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
      throw new TelemetryHttpError('network', `could not reach ${this.backend} at ${this.origin}: ${detail}`)
    }
    const declared = Number(response.headers.get('content-length') ?? NaN)
    if (Number.isFinite(declared) && declared > this.#maxBytes) {
      await response.body?.cancel().catch(() => undefined)
      throw this.#tooLarge()
    }
    const chunks: Uint8Array[] = []
    let size = 0
    try {
      const reader = response.body?.getReader()
      if (reader) {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          size += value.byteLength
          if (size > this.#maxBytes) {
            await reader.cancel().catch(() => undefined)
            throw this.#tooLarge()
          }
          chunks.push(value)
        }
      }
    } catch (error) {
      if (error instanceof TelemetryHttpError) throw error
      if (combined.aborted) throw aborted(error)
      throw new TelemetryHttpError('network', `${this.backend} broke off its answer: ${error instanceof Error ? error.message : String(error)}`)
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: Buffer.concat(chunks).toString('utf8'),
    }
  }

  #tooLarge(): TelemetryHttpError {
    return new TelemetryHttpError(
      'too-large',
      `${this.backend}'s answer is larger than ${sizeText(this.#maxBytes)}; it was not read (narrow the query or raise maxResponseBytes)`,
    )
  }

  /** The TelemetryHttpError for a non-2xx answer, with the backend's own (plain-text) message. */
  httpError(answer: HttpAnswer): TelemetryHttpError {
    const text = clip(answer.body)
    return new TelemetryHttpError('http', `${this.backend} answered HTTP ${answer.status}${text === '' ? ' with an empty body' : `: ${text}`}`, answer.status)
  }

  /** Parses a 2xx body as JSON; malformed JSON is a TelemetryHttpError. */
  parse(answer: HttpAnswer): unknown {
    try {
      return JSON.parse(answer.body) as unknown
    } catch (error) {
      const start = clip(answer.body, 60)
      throw new TelemetryHttpError(
        'malformed',
        `${this.backend} answered with malformed JSON (${error instanceof Error ? error.message : String(error)}; the body starts ${JSON.stringify(start)})`,
      )
    }
  }

  /** GET + status check + JSON parse. */
  async getJson(path: string, params: URLSearchParams, signal: AbortSignal): Promise<unknown> {
    const answer = await this.get(path, params, signal)
    if (answer.status < 200 || answer.status > 299) throw this.httpError(answer)
    return this.parse(answer)
  }
}

/** Values for a gate query's templates. */
export interface TemplateValues {
  application: string
  version: string
  /** A duration such as `20s`. */
  window: string
}

/**
 * Renders `{{application}}`, `{{version}}` and `{{window}}` (spaces inside the braces allowed).
 * Values are escaped for a double-quoted string (`\` and `"`), where templates normally sit;
 * application names and versions never contain them, so this only guards against surprises.
 */
export function renderQuery(template: string, values: TemplateValues): string {
  const escape = (s: string): string => s.replace(/[\\"]/g, (c) => `\\${c}`)
  return template.replace(/\{\{\s*(application|version|window)\s*\}\}/g, (_m, name: keyof TemplateValues) =>
    name === 'window' ? values.window : escape(values[name]),
  )
}

/** `{{window}}` for a window: whole seconds, rounded up, at least 1 (`20s`). */
export function windowDuration(start: Date, end: Date): string {
  return `${Math.max(1, Math.ceil((end.getTime() - start.getTime()) / 1000))}s`
}

/** Runs `tasks` with at most `limit` in flight; results in order. */
export async function pooled<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!()
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker))
  return results
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
