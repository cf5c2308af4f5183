import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { ClientConnection, type ProxyContext, type ResolvedRoutes, type ResolvedUpstream } from './client-connection.ts'
import { RedMetrics } from './red-metrics.ts'
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
  /**
   * Connection limit per upstream (busy and idle); requests beyond it wait for a free one.
   * Idle connections are kept for reuse until idle for `upstreamTimeoutMs`. Default 256.
   */
  maxSocketsPerUpstream?: number
  /** Routes to start with (same rules as `setRoutes`). */
  routes?: Partial<ProxyRoutes>
}

/** Header naming the version that answered, on every proxied response (also our 502/504). */
export const VERSION_HEADER = 'x-sentra-version'

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** A version goes out in a response header: printable ASCII only (no CR/LF to split it). */
const HEADER_SAFE = /^[\x20-\x7e]+$/
/** Idle time allowed between requests on a client connection (node:http's default). */
const CLIENT_IDLE_MS = 5_000
/** Longest a client may take to send one request head (node:http's headersTimeout). */
const HEAD_TIMEOUT_MS = 60_000

function resolveUpstream(role: string, value: Upstream | null): ResolvedUpstream | null {
  if (value === null) return null
  if (typeof value !== 'object' || typeof value.version !== 'string' || value.version === '') throw new TypeError(`routes.${role}.version must be a non-empty string`)
  if (!HEADER_SAFE.test(value.version)) throw new TypeError(`routes.${role}.version must be printable ASCII: ${JSON.stringify(value.version)}`)
  let parsed: URL
  try {
    parsed = new URL(value.url)
  } catch {
    throw new TypeError(`routes.${role}.url is not a URL: ${JSON.stringify(value.url)}`)
  }
  if (parsed.protocol !== 'http:') throw new TypeError(`routes.${role}.url must be http://, got ${JSON.stringify(value.url)}`)
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') // IPv6 literal without brackets
  const port = Number(parsed.port || 80)
  return { version: value.version, url: value.url, host, port, key: `${host}:${port}`, basePath: parsed.pathname }
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
  readonly #pool: UpstreamPool
  readonly #server: Server
  readonly #clients = new Set<Socket>()
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
    this.metrics = metrics
    this.#pool = new UpstreamPool({ maxSockets: maxSocketsPerUpstream, timeoutMs: upstreamTimeoutMs })
    const context: ProxyContext = {
      routes: () => this.#routes,
      pool: this.#pool,
      metrics,
      random,
      stickyCookie,
      canaryHeader: canaryHeader.toLowerCase(),
      versionHeader: VERSION_HEADER,
      timeoutMs: upstreamTimeoutMs,
      headTimeoutMs: HEAD_TIMEOUT_MS,
      idleSeconds: CLIENT_IDLE_MS / 1000,
    }
    this.#server = createServer((socket) => {
      this.#clients.add(socket)
      socket.once('close', () => this.#clients.delete(socket))
      socket.setTimeout(CLIENT_IDLE_MS)
      new ClientConnection(socket, context) // lives as long as its socket's listeners
    })
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
    this.#pool.retainOnly(new Set([next.stable, next.canary].flatMap((u) => (u ? [u.key] : []))))
  }

  routes(): ProxyRoutes {
    const copy = (u: ResolvedUpstream | null): Upstream | null => (u ? { version: u.version, url: u.url } : null)
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
    for (const socket of this.#clients) socket.destroy()
    this.#pool.destroy()
    this.#address = null
    if (wasListening) await closed
  }
}
