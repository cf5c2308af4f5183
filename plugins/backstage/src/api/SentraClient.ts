import type { SentraApi } from './SentraApi'
import { SentraError } from './errors'
import { APPLICATION_NAME_RULE, isApplicationName } from './names'
import { parseApplicationRollouts } from './parse'
import { APPLICATION_ROLLOUTS_QUERY, type ApplicationRolloutsVariables } from './queries'
import type { ApplicationRollouts } from './types'

/** The fetch the client calls: the global one, or Backstage's `fetchApi.fetch`. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface SentraClientOptions {
  /**
   * Where Sentra's graph is, without `/graphql`: Sentra itself (`https://sentra.example.com`,
   * then give `token`) or Backstage's proxy to it (`https://backstage.example.com/api/proxy/sentra`,
   * the proxy adds the token). A function is asked before every request (Backstage's
   * discovery API answers asynchronously).
   */
  baseUrl: string | (() => Promise<string>)
  /** Sent as `Authorization: Bearer <token>`; leave it out behind the proxy. */
  token?: string
  fetch?: FetchLike
  /** Give up on an answer after this long (default 10 s). */
  timeoutMs?: number
  /** Refuse answers larger than this (default 2 MiB): the card needs a few kilobytes. */
  maxResponseBytes?: number
  /** Sentra's dashboard (`https://sentra.example.com`), for links; http(s) only. */
  dashboardUrl?: string | null
}

export interface ApplicationRolloutsOptions {
  /** How many of the latest rollouts to read (1-100; default 5). */
  recent?: number
  signal?: AbortSignal
}

const MAX_MESSAGE = 300

interface GraphQLErrorBody {
  message?: unknown
  extensions?: { code?: unknown }
}

/**
 * A typed client for the part of Sentra's GraphQL graph the Backstage card reads. Every
 * failure becomes a SentraError whose message says what went wrong and what to check.
 *
 * @example
 * const sentra = new SentraClient({ baseUrl: 'http://127.0.0.1:4000', token: process.env.SENTRA_TOKEN })
 * const app = await sentra.getApplicationRollouts('checkout') // null: no such application
 */
export class SentraClient implements SentraApi {
  readonly dashboardUrl: string | null
  readonly #baseUrl: SentraClientOptions['baseUrl']
  readonly #token: string | null
  readonly #fetch: FetchLike
  readonly #timeoutMs: number
  readonly #maxResponseBytes: number

  constructor({ baseUrl, token, fetch: fetchImpl, timeoutMs = 10_000, maxResponseBytes = 2 * 1024 * 1024, dashboardUrl = null }: SentraClientOptions) {
    this.dashboardUrl = dashboardUrl === null ? null : checkDashboardUrl(dashboardUrl)
    this.#baseUrl = baseUrl
    this.#token = token ?? null
    // Bound: a bare `fetch` reference called as a method of the client throws "Illegal invocation" in browsers.
    this.#fetch = fetchImpl ?? ((input, init) => globalThis.fetch(input, init))
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new SentraError('invalid-input', `timeoutMs: must be a whole number of milliseconds from 1 to 600000, got ${timeoutMs}`)
    if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1) throw new SentraError('invalid-input', `maxResponseBytes: must be a positive whole number, got ${maxResponseBytes}`)
    this.#timeoutMs = timeoutMs
    this.#maxResponseBytes = maxResponseBytes
  }

  /** The application, its active rollout and its latest ones; null when Sentra has no such application. */
  async getApplicationRollouts(application: string, { recent = 5, signal }: ApplicationRolloutsOptions = {}): Promise<ApplicationRollouts | null> {
    if (!isApplicationName(application)) {
      throw new SentraError('invalid-input', `"${application.slice(0, 80)}" is not a Sentra application name (${APPLICATION_NAME_RULE})`)
    }
    if (!Number.isInteger(recent) || recent < 1 || recent > 100) throw new SentraError('invalid-input', `recent: must be a whole number from 1 to 100, got ${recent}`)
    const variables: ApplicationRolloutsVariables = { application, recent }
    return parseApplicationRollouts(await this.#query(APPLICATION_ROLLOUTS_QUERY, variables, signal))
  }

  async #endpoint(): Promise<string> {
    const base = typeof this.#baseUrl === 'string' ? this.#baseUrl : await this.#baseUrl()
    if (!/^https?:\/\/[^\s]+$/i.test(base) && !/^\/[^\s]*$/.test(base)) {
      throw new SentraError('invalid-input', `Sentra's URL must be an http(s) URL or a path on this site, got "${base.slice(0, 120)}"`)
    }
    return `${base.replace(/\/+$/, '')}/graphql`
  }

  /** POSTs one operation and returns its `data`, or throws a SentraError. */
  async #query(query: string, variables: object, signal: AbortSignal | undefined): Promise<unknown> {
    const url = await this.#endpoint()
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.#timeoutMs)
    const onAbort = () => controller.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' }
      if (this.#token !== null) headers.authorization = `Bearer ${this.#token}`
      let response: Response
      let text: string
      try {
        response = await this.#fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: controller.signal })
        text = await this.#readBody(response)
      } catch (error) {
        if (error instanceof SentraError) throw error
        if (timedOut) throw new SentraError('timeout', `Sentra did not answer within ${formatSeconds(this.#timeoutMs)} (${url})`, { cause: error })
        if (signal?.aborted) throw new SentraError('network', 'The request to Sentra was cancelled', { cause: error })
        throw new SentraError('network', `Cannot reach Sentra at ${url}: ${describeCause(error)}`, { cause: error })
      }
      return interpret(response, text, url, this.#token !== null)
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  async #readBody(response: Response): Promise<string> {
    const declared = Number(response.headers.get('content-length'))
    if (Number.isFinite(declared) && declared > this.#maxResponseBytes) throw tooLarge(this.#maxResponseBytes)
    if (!response.body) return ''
    // Read in chunks so an endless or huge answer is cut off instead of filling memory.
    const reader = response.body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > this.#maxResponseBytes) {
        await reader.cancel().catch(() => undefined)
        throw tooLarge(this.#maxResponseBytes)
      }
      chunks.push(value)
    }
    const all = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      all.set(chunk, offset)
      offset += chunk.byteLength
    }
    return new TextDecoder().decode(all)
  }
}

/** Only http(s): the URL ends up in an href, where `javascript:` would run. */
function checkDashboardUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new SentraError('invalid-input', `sentra.dashboardUrl: "${url.slice(0, 120)}" is not a URL`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SentraError('invalid-input', `sentra.dashboardUrl: must be an http(s) URL, got ${parsed.protocol}`)
  return url.replace(/\/+$/, '')
}

function tooLarge(limit: number): SentraError {
  return new SentraError('malformed', `Sentra's answer is larger than ${Math.round(limit / 1024)} KiB; is the URL pointing at Sentra's API?`)
}

/** Status, then GraphQL errors, then data: the order in which each says the most. */
function interpret(response: Response, text: string, url: string, sentToken: boolean): unknown {
  const body = parseJson(text)
  const errors = graphqlErrors(body)
  const first = errors[0]
  const code = first && typeof first.extensions?.code === 'string' ? first.extensions.code : null
  const serverSays = errors.length > 0 ? `: ${summarize(errors)}` : ''

  if (response.status === 401 || code === 'UNAUTHENTICATED') {
    throw new SentraError('unauthenticated', `Sentra refused the request: not signed in (HTTP ${response.status}${serverSays}). ${sentToken ? 'Check the API token given to the client.' : "Check the API token Backstage's proxy adds (proxy.endpoints['/sentra'].headers.Authorization)."}`, { status: response.status, code })
  }
  if (response.status === 403 || code === 'FORBIDDEN') {
    throw new SentraError('forbidden', `Sentra refused the request: the token may not read this (HTTP ${response.status}${serverSays}). A token with the "read" scope is enough.`, { status: response.status, code })
  }
  if (!response.ok && errors.length === 0) {
    throw new SentraError('http', `Sentra answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} for ${url}`, { status: response.status })
  }
  if (errors.length > 0) {
    throw new SentraError('graphql', `Sentra could not answer the query${serverSays}`, { status: response.status, code })
  }
  if (body === undefined) {
    const type = response.headers.get('content-type') ?? 'no content type'
    throw new SentraError('malformed', `Sentra's answer is not JSON (${type.slice(0, 60)}); is ${url} Sentra's API?`, { status: response.status })
  }
  if (typeof body !== 'object' || body === null || !('data' in body) || body.data === null) {
    throw new SentraError('malformed', `Sentra's answer has no data (is ${url} Sentra's API?)`, { status: response.status })
  }
  return body.data
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function graphqlErrors(body: unknown): GraphQLErrorBody[] {
  if (typeof body !== 'object' || body === null || !('errors' in body) || !Array.isArray(body.errors)) return []
  return body.errors.filter((e): e is GraphQLErrorBody => typeof e === 'object' && e !== null)
}

/** The servers' own words, cut short: they are shown in a card, and may be hostile. */
function summarize(errors: GraphQLErrorBody[]): string {
  const messages = errors.slice(0, 3).map((e) => (typeof e.message === 'string' ? e.message : 'an error without a message'))
  const text = messages.map((m) => (m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE)}…` : m)).join('; ')
  return errors.length > 3 ? `${text} (and ${errors.length - 3} more)` : text
}

function describeCause(error: unknown): string {
  // Node's fetch hides the reason (ECONNREFUSED, ENOTFOUND) in `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : null
  const message = cause instanceof Error ? cause.message : String(cause)
  return code && !message.includes(code) ? `${code} (${message})` : message
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}
