import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { forward, type ForwardResult } from './forward.ts'
import { headerValue, readCookie, stickyCookieLine } from './headers.ts'
import { RedMetrics, type RequestOutcome } from './red-metrics.ts'
import { chooseUpstream } from './routing.ts'
import type { ProxyRoutes, Upstream } from './types.ts'
import { UpstreamPool } from './upstream-pool.ts'

export interface WeightedProxyOptions {
  host: string
  /** 0 picks a free port; `listen()` returns the actual one. */
  port: number
  /** Cookie that pins a client to the version it first got; null disables stickiness. Default `sentra_canary`. */
  stickyCookie?: string | null
  /** Request header that forces a version: `always`/`true`/`1` → canary, `never`/`false`/`0` → stable. Default `x-sentra-canary`. */
  canaryHeader?: string
  /** Where outcomes are recorded; pass one to keep history across proxy restarts. */
  metrics?: RedMetrics
  /** Longest an upstream may stay silent before the request fails (504, or a cut response once headers are out). Default 30 s. */
  upstreamTimeoutMs?: number
  /** Source of the weighted draw, in [0, 1). Default Math.random; tests inject a fixed sequence. */
  random?: () => number
  /** Connection limit per upstream; requests beyond it queue in the agent. Default 256. */
  maxSocketsPerUpstream?: number
  /** Routes to start with (same rules as `setRoutes`). */
  routes?: Partial<ProxyRoutes>
}

/** Header naming the version that answered, on every proxied response (also our 502/504). */
export const VERSION_HEADER = 'x-sentra-version'

/** An upstream with its URL parsed once, when the routes are set. */
interface Resolved extends Upstream {
  parsed: URL
}

interface ResolvedRoutes {
  stable: Resolved | null
  canary: Resolved | null
  weight: number
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function resolveUpstream(role: string, value: Upstream | null): Resolved | null {
  if (value === null) return null
  if (typeof value !== 'object' || typeof value.version !== 'string' || value.version === '') throw new TypeError(`routes.${role}.version must be a non-empty string`)
  let parsed: URL
  try {
    parsed = new URL(value.url)
  } catch {
    throw new TypeError(`routes.${role}.url is not a URL: ${JSON.stringify(value.url)}`)
  }
  if (parsed.protocol !== 'http:') throw new TypeError(`routes.${role}.url must be http://, got ${JSON.stringify(value.url)}`)
  return { version: value.version, url: value.url, parsed }
}

function outcomeOf(result: ForwardResult): RequestOutcome {
  if (result.kind === 'answered') return { status: result.status }
  if (result.kind === 'failed') return { failed: true }
  // nginx's "client closed request": counted as a request, not as the version's error; its
  // latency still shows how long the client waited before giving up
  return { status: 499 }
}

/**
 * Sentra's weighted reverse proxy for process and docker targets: sends each new request
 * to the stable or the canary version by weight (or header, or sticky cookie), streams it
 * through, and records its outcome per version in `metrics`.
 *
 * @example
 * const proxy = new WeightedProxy({ host: '127.0.0.1', port: 8080 })
 * await proxy.listen()
 * proxy.setRoutes({ stable: { version: 'v1', url: 'http://127.0.0.1:41001' } })
 * proxy.setRoutes({ canary: { version: 'v2', url: 'http://127.0.0.1:41002' }, weight: 10 })
 * proxy.metrics.window('v2', Date.now() - 30_000, Date.now())
 */
export class WeightedProxy {
  readonly metrics: RedMetrics
  readonly #host: string
  readonly #port: number
  readonly #stickyCookie: string | null
  readonly #canaryHeader: string
  readonly #timeoutMs: number
  readonly #random: () => number
  readonly #pool: UpstreamPool
  readonly #server: Server
  #routes: ResolvedRoutes = { stable: null, canary: null, weight: 0 }
  #address: { host: string; port: number } | null = null
  #listening: Promise<{ host: string; port: number }> | null = null
  #closed = false

  constructor(options: WeightedProxyOptions) {
    const { host, port, stickyCookie = 'sentra_canary', canaryHeader = 'x-sentra-canary', metrics = new RedMetrics(), upstreamTimeoutMs = 30_000, random = Math.random, maxSocketsPerUpstream = 256, routes } = options
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`port must be an integer in 0..65535, got ${port}`)
    if (stickyCookie !== null && !COOKIE_NAME.test(stickyCookie)) throw new TypeError(`stickyCookie is not a valid cookie name: ${JSON.stringify(stickyCookie)}`)
    if (!(upstreamTimeoutMs > 0)) throw new RangeError(`upstreamTimeoutMs must be positive, got ${upstreamTimeoutMs}`)
    if (!Number.isInteger(maxSocketsPerUpstream) || maxSocketsPerUpstream < 1) throw new RangeError(`maxSocketsPerUpstream must be a positive integer, got ${maxSocketsPerUpstream}`)
    this.#host = host
    this.#port = port
    this.#stickyCookie = stickyCookie
    this.#canaryHeader = canaryHeader.toLowerCase()
    this.#timeoutMs = upstreamTimeoutMs
    this.#random = random
    this.metrics = metrics
    this.#pool = new UpstreamPool({ maxSockets: maxSocketsPerUpstream })
    this.#server = createServer((req, res) => this.#handle(req, res))
    if (routes) this.setRoutes(routes)
  }

  /** Starts listening; resolves with the bound address (the real port when 0 was asked). Idempotent. */
  listen(): Promise<{ host: string; port: number }> {
    if (this.#closed) return Promise.reject(new Error('proxy is closed'))
    this.#listening ??= new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.#listening = null // a later call may try again (e.g. once the port is free)
        reject(error)
      }
      this.#server.once('error', onError)
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', onError)
        const { port } = this.#server.address() as AddressInfo
        this.#address = { host: this.#host, port }
        resolve({ ...this.#address })
      })
    })
    return this.#listening.then((address) => ({ ...address }))
  }

  /**
   * Changes any of stable, canary and weight. Validated as a whole before anything
   * changes; applies to the next request, while requests in flight finish where they are.
   */
  setRoutes(routes: Partial<ProxyRoutes>): void {
    const next: ResolvedRoutes = { ...this.#routes }
    if (routes.stable !== undefined) next.stable = resolveUpstream('stable', routes.stable)
    if (routes.canary !== undefined) next.canary = resolveUpstream('canary', routes.canary)
    if (routes.weight !== undefined) {
      const { weight } = routes
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 100) throw new RangeError(`routes.weight must be a number in 0..100, got ${String(weight)}`)
      next.weight = weight
    }
    this.#routes = next
    this.#pool.retainOnly(new Set([next.stable, next.canary].flatMap((u) => (u ? [u.parsed.origin] : []))))
  }

  routes(): ProxyRoutes {
    const copy = (u: Resolved | null): Upstream | null => (u ? { version: u.version, url: u.url } : null)
    return { stable: copy(this.#routes.stable), canary: copy(this.#routes.canary), weight: this.#routes.weight }
  }

  /** The bound address once listening, else null. */
  address(): { host: string; port: number } | null {
    return this.#address ? { ...this.#address } : null
  }

  /** Open upstream sockets (busy and idle); lets tests and diagnostics see that nothing leaks. */
  openUpstreamSockets(): number {
    return this.#pool.openSockets()
  }

  /** Stops listening and drops every connection, client and upstream, in flight or idle. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const wasListening = this.#server.listening
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#server.closeAllConnections()
    this.#pool.destroy()
    this.#address = null
    if (wasListening) await closed
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now()
    const routes = this.#routes // one snapshot per request: later changes do not move it
    const sticky = this.#stickyCookie !== null && routes.stable !== null && routes.canary !== null
    const choice = chooseUpstream(
      routes,
      { canaryHeader: headerValue(req, this.#canaryHeader), stickyVersion: sticky && this.#stickyCookie ? readCookie(headerValue(req, 'cookie'), this.#stickyCookie) : undefined },
      this.#random,
      sticky,
    )
    if (!choice) {
      req.resume()
      const text = 'no upstream: this application has no version to serve yet\n'
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'retry-after': '1' })
      res.end(text)
      return
    }
    const { upstream, stick } = choice
    const responseHeaders: OutgoingHttpHeaders = { [VERSION_HEADER]: upstream.version }
    if (stick && this.#stickyCookie) responseHeaders['set-cookie'] = stickyCookieLine(this.#stickyCookie, upstream.version)
    const { agent, release } = this.#pool.acquire(upstream.parsed.origin)
    forward(req, res, { url: upstream.parsed, agent, timeoutMs: this.#timeoutMs, responseHeaders })
      .then((result) => {
        release()
        this.metrics.record(upstream.version, outcomeOf(result), performance.now() - started)
      })
      .catch((error: unknown) => {
        // forward never rejects by design; if it ever does, keep the proxy up and say so
        release()
        this.metrics.record(upstream.version, { failed: true }, performance.now() - started)
        if (!res.headersSent) res.writeHead(502).end()
        else res.destroy()
        console.error('sentra proxy: unexpected forwarding error', error)
      })
  }
}
