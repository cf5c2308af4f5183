import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention'
import { createYoga } from 'graphql-yoga'
import { Registry } from 'prom-client'
import { OTLP_PATHS, OtlpReceiver, type OtlpReceiverOptions } from '../controller/telemetry/otlp.ts'
import type { Bus } from '../schema/events/bus.ts'
import { createContext, graphSchema, type Actor } from '../schema/graph/index.ts'
import type { Store } from '../schema/store/index.ts'
import { acceptsGraphqlAnswer } from './accept.ts'
import { authenticate, requestToken, sameOrigin, SESSION_COOKIE } from './auth.ts'
import { maskError } from './errors.ts'
import { checkReadiness, isStoreUnavailable, STORE_RETRY_AFTER_SECONDS, STORE_UNAVAILABLE_MESSAGE } from './health.ts'
import { DEFAULT_LIMITS, DEFAULT_QUERY_TIMEOUT_MS, MAX_BODY_BYTES, useQueryLimits, type QueryLimits } from './limits.ts'
import { RateLimiter, rateLimitedMessage, type RateLimit } from './rate-limit.ts'
import { useQueryTimeout } from './timeout.ts'
import { countSubscriber, ServerMetrics, useOperationMetrics } from './metrics.ts'
import { loadPersistedDocuments, usePersistedDocuments, type PersistedDocuments } from './persisted.ts'
import { attachGraphqlWs } from './websocket.ts'

export { DEFAULT_QUERY_TIMEOUT_MS, MAX_BODY_BYTES } from './limits.ts'

/**
 * The dashboard (web/serve.ts), when this process serves it: every path that is not the
 * API's (/graphql, /healthz, /readyz, /metrics, /login with a token or a form, /logout)
 * goes to it, and so do WebSocket upgrades of paths other than /graphql.
 */
export interface DashboardMount {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>
}

export interface ApiServerOptions {
  store: Store
  bus: Bus
  graphiql?: boolean
  production?: boolean
  /** Depth, aliases, tokens, directives, cost (docs/security.md); each one omitted keeps its default. */
  limits?: Partial<QueryLimits>
  /** The largest request body over HTTP (413 beyond) and graphql-ws message (closed with 1009 beyond). */
  maxBodyBytes?: number
  /** Operations per token (per IP without a valid token); null = no rate limit, the default here (the process reads SENTRA_RATE_LIMIT). */
  rateLimit?: RateLimit | null
  /** Queries running longer are cancelled with QUERY_TIMEOUT; null = no timeout. */
  queryTimeoutMs?: number | null
  /** `__schema` / `__type` queries (SENTRA_INTROSPECTION); on by default. */
  introspection?: boolean
  dashboard?: DashboardMount
  /**
   * More registries served at /metrics with the server's own (the embedded controller's).
   * They must not collect the process defaults: the server's registry does.
   */
  extraRegistries?: readonly Registry[]
  /** Run only the documents in the persisted manifests, over HTTP and WebSocket (SENTRA_PERSISTED_ONLY). */
  persistedOnly?: boolean
  /** The documents persisted hashes resolve to; the committed manifests by default (server/persisted.ts). */
  persistedDocuments?: PersistedDocuments
  /** SENTRA_TRACE_URL_TEMPLATE: where LinkedTrace.url points (docs/traces.md); null = no links. */
  traceUrlTemplate?: string | null
  /**
   * The OTLP/HTTP receiver on /v1/traces and /v1/logs (docs/otlp.md): on unless false.
   * (It lives in controller/telemetry/ beside the providers that read what it stores, and
   * depends only on schema/.)
   */
  otlp?: Omit<OtlpReceiverOptions, 'store'> | false
  /** graphql-ws: SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN (100 by default) and SENTRA_WS_FANOUT (on by default); server/websocket.ts. */
  websocket?: { maxConnectionsPerToken?: number; fanout?: boolean }
}

/** The API's own paths; with a dashboard mounted, everything else is the dashboard's. */
export const API_PATHS = ['/graphql', '/healthz', '/readyz', '/metrics', '/login', '/logout', ...OTLP_PATHS] as const
const MAX_FORM_BYTES = 4096

export interface ApiServer {
  readonly http: Server
  readonly metrics: ServerMetrics
  /** null when started with `otlp: false`. */
  readonly otlp: OtlpReceiver | null
  listen(port: number, host: string): Promise<{ url: string; port: number }>
  close(): Promise<void>
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}

function unauthenticated(res: ServerResponse): void {
  json(
    res,
    401,
    { errors: [{ message: 'a valid API token is required (Authorization: Bearer <token>)', extensions: { code: 'UNAUTHENTICATED' } }] },
    { 'www-authenticate': 'Bearer realm="sentra"' },
  )
}

function tooManyRequests(res: ServerResponse, retryAfterSeconds: number): void {
  json(res, 429, { errors: [{ message: rateLimitedMessage(retryAfterSeconds), extensions: { code: 'RATE_LIMITED', retryAfter: retryAfterSeconds } }] }, { 'retry-after': String(retryAfterSeconds) })
}

/**
 * The API process: yoga over HTTP and graphql-ws on one port and one path (/graphql),
 * plus /healthz, /readyz, /metrics and /login. Every request but health, readiness and
 * login must carry a valid token; unauthenticated GraphQL never reaches the executor.
 */
export function createApiServer({
  store,
  bus,
  graphiql = false,
  production = false,
  limits: givenLimits = {},
  maxBodyBytes = MAX_BODY_BYTES,
  rateLimit = null,
  queryTimeoutMs = DEFAULT_QUERY_TIMEOUT_MS,
  introspection = true,
  dashboard,
  extraRegistries = [],
  persistedOnly = false,
  persistedDocuments = loadPersistedDocuments(),
  traceUrlTemplate = null,
  otlp: otlpOptions = {},
  websocket = {},
}: ApiServerOptions): ApiServer {
  const otlp = otlpOptions === false ? null : new OtlpReceiver({ store, ...otlpOptions })
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...givenLimits }
  const rateLimiter = rateLimit ? new RateLimiter(rateLimit) : null
  const metrics = new ServerMetrics()
  // Only the server's registry collects the process defaults, so the merge has no duplicates.
  const served = extraRegistries.length > 0 ? Registry.merge([metrics.registry, ...extraRegistries]) : metrics.registry
  const yoga = createYoga<{ actor: Actor | null }>({
    schema: graphSchema(),
    graphqlEndpoint: '/graphql',
    graphiql,
    landingPage: false,
    // One operation per request: a JSON array body is refused (400), so a rate limit and a
    // body limit count operations, not requests (docs/security.md, "Batching").
    batching: false,
    // Expected errors (bad input, conflicts) are answers, not incidents; maskError logs the unexpected ones.
    logging: false,
    maskedErrors: { maskError: (error, message) => maskError(error, message) },
    context: ({ actor }) => createContext(store, bus, actor ?? null, { traceUrlTemplate }),
    plugins: [
      // A browser cannot add Authorization or our header to a cross-site form or image request.
      useCSRFPrevention({ requestHeaders: ['authorization', 'x-sentra-csrf', 'x-graphql-yoga-csrf'] }),
      usePersistedDocuments(persistedDocuments, { only: persistedOnly }),
      useQueryLimits(limits, { hideSuggestions: production, introspection }),
      ...(queryTimeoutMs ? [useQueryTimeout(queryTimeoutMs)] : []),
      useOperationMetrics(metrics),
    ],
  })

  async function route(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (pathname === '/healthz') return json(res, 200, { status: 'ok' })
    if (pathname === '/readyz') {
      const readiness = await checkReadiness(store, bus)
      return json(res, readiness.ready ? 200 : 503, readiness)
    }
    if (pathname === '/login') {
      if (req.method === 'POST') return loginForm(req, res)
      // The sign-in page itself is the dashboard's; the token URL printed at start is ours.
      if (dashboard && !new URL(req.url ?? '/', 'http://localhost').searchParams.has('token')) return dashboard.handle(req, res)
      return login(req, res)
    }
    if (pathname === '/logout') return logout(req, res)
    if (otlp && (OTLP_PATHS as readonly string[]).includes(pathname)) {
      // Exporters send a header; a session cookie never writes telemetry.
      const sent = requestToken(req)
      const caller = sent?.via === 'header' ? await authenticate(store, sent.token) : null
      return otlp.handle(req, res, pathname, caller)
    }
    if (pathname !== '/metrics' && pathname !== '/graphql') {
      if (dashboard) return dashboard.handle(req, res)
      return json(res, 404, { error: 'not found' })
    }
    // An address whose requests keep failing to authenticate is held off before the next
    // token check (each one costs a hash); its bucket is charged only by failures (below).
    const address = `ip:${req.socket.remoteAddress ?? 'unknown'}`
    const held = pathname === '/graphql' ? rateLimiter?.peek(address) : undefined
    if (held && !held.allowed) return tooManyRequests(res, held.retryAfterSeconds)
    const actor = await authenticate(store, requestToken(req)?.token)
    if (pathname === '/metrics') {
      if (!actor) return unauthenticated(res)
      // The controller's series are labelled by application: a limited token would see them all.
      if (actor.applications !== null) return json(res, 403, { error: '/metrics needs a token that is not limited to some applications' })
      res.writeHead(200, { 'content-type': served.contentType })
      res.end(await served.metrics())
      return
    }
    if (pathname === '/graphql') {
      // Before anything is parsed: per token, or per address for requests without a valid one.
      const limited = rateLimiter?.take(actor ? `token:${actor.tokenId}` : address)
      if (limited && !limited.allowed) return tooManyRequests(res, limited.retryAfterSeconds)
      if (!actor) return unauthenticated(res)
      const length = Number(req.headers['content-length'] ?? 0)
      if (req.method === 'POST' && req.headers['content-length'] === undefined) {
        return json(res, 411, { errors: [{ message: 'a Content-Length header is required', extensions: { code: 'BAD_USER_INPUT' } }] })
      }
      if (length > maxBodyBytes) {
        return json(res, 413, { errors: [{ message: `request body over ${maxBodyBytes} bytes (SENTRA_GRAPHQL_MAX_BYTES)`, extensions: { code: 'BAD_USER_INPUT', limit: 'bytes', maxBytes: maxBodyBytes } }] })
      }
      if (req.method === 'POST' && !acceptsGraphqlAnswer(req.headers.accept)) {
        // Refused before execution: yoga would run a mutation first and then answer 406.
        return json(res, 406, { errors: [{ message: 'Accept names no type a GraphQL answer comes in (application/graphql-response+json, application/json, text/event-stream, multipart/mixed)', extensions: { code: 'BAD_USER_INPUT' } }] })
      }
      await yoga.handle(req, res, { actor })
      return
    }
    json(res, 404, { error: 'not found' })
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const held = signInHeld(req)
    if (held) return signInsHeldOff(res, held)
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token')
    return signIn(req, res, token)
  }

  /**
   * Sign-ins share the failed-sign-in bucket of /graphql (`ip:<address>`, docs/security.md):
   * an address out of it is held off before its token is hashed or its form read. Seconds to
   * wait, or null when it may try.
   */
  function signInHeld(req: IncomingMessage): number | null {
    const held = rateLimiter?.peek(`ip:${req.socket.remoteAddress ?? 'unknown'}`)
    return held && !held.allowed ? held.retryAfterSeconds : null
  }

  /** A sign-in that did not sign in (bad, missing or malformed token) costs its address one. */
  function chargeFailedSignIn(req: IncomingMessage): void {
    rateLimiter?.take(`ip:${req.socket.remoteAddress ?? 'unknown'}`)
  }

  function signInsHeldOff(res: ServerResponse, retryAfterSeconds: number): void {
    res.writeHead(429, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': String(retryAfterSeconds) })
    res.end(`Too many failed sign-ins from this address (SENTRA_RATE_LIMIT); retry in ${retryAfterSeconds} s.\n`)
  }

  async function signIn(req: IncomingMessage, res: ServerResponse, token: string | null): Promise<void> {
    const actor = await authenticate(store, token)
    if (!actor || !token) {
      chargeFailedSignIn(req)
      // With the dashboard, back to its sign-in page with the reason; without, a plain answer.
      if (dashboard) return redirect(res, '/login?error=invalid')
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      res.end('That token is not valid (unknown, revoked or mistyped).\n')
      return
    }
    redirect(res, graphiql && !dashboard ? '/graphql' : '/', sessionCookie(encodeURIComponent(token)))
  }

  function sessionCookie(value: string, extra = ''): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${production ? '; Secure' : ''}${extra}`
  }

  function redirect(res: ServerResponse, location: string, cookie?: string): void {
    res.writeHead(303, { location, 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) })
    res.end()
  }

  /** A form post from another site could sign a browser in (or out) without its user: only our own origin may. */
  function crossSite(req: IncomingMessage): boolean {
    return req.headers.origin !== undefined && !sameOrigin(req)
  }

  /** The sign-in form: `token=…` as application/x-www-form-urlencoded. */
  async function loginForm(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const held = signInHeld(req)
    if (held) return signInsHeldOff(res, held)
    // Not charged: a page of another site could make a visitor's browser send these, to lock them out.
    if (crossSite(req)) return json(res, 403, { error: 'sign-in must come from this site' })
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') {
      chargeFailedSignIn(req)
      return json(res, 415, { error: 'send the token as a form (application/x-www-form-urlencoded)' })
    }
    let body = ''
    for await (const chunk of req) {
      body += String(chunk)
      if (body.length > MAX_FORM_BYTES) {
        chargeFailedSignIn(req)
        return json(res, 413, { error: `form over ${MAX_FORM_BYTES} bytes` })
      }
    }
    return signIn(req, res, new URLSearchParams(body).get('token')?.trim() ?? null)
  }

  /** Signing out forgets the session cookie in this browser; the token itself stays valid until revoked. */
  async function logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return json(res, 405, { error: 'sign out with POST' }, { allow: 'POST' })
    if (crossSite(req)) return json(res, 403, { error: 'sign-out must come from this site' })
    redirect(res, dashboard ? '/login?status=signed-out' : '/', sessionCookie('', '; Max-Age=0'))
  }

  const http = createServer((req, res) => {
    const started = performance.now()
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    const known = (API_PATHS as readonly string[]).includes(pathname) ? pathname : 'other'
    res.on('finish', () => {
      metrics.httpRequests.inc({ route: known, method: req.method ?? 'GET', status: String(res.statusCode) })
      metrics.httpDuration.observe({ route: known, method: req.method ?? 'GET' }, (performance.now() - started) / 1000)
    })
    route(req, res, pathname).catch((error: unknown) => {
      if (isStoreUnavailable(error)) {
        // The database is down (a token check or a login needs it): a clear, retryable 503.
        console.error(`request failed: the store is not reachable: ${error instanceof Error ? error.message : String(error)}`)
        if (!res.headersSent) json(res, 503, { errors: [{ message: STORE_UNAVAILABLE_MESSAGE, extensions: { code: 'STORE_UNAVAILABLE' } }] }, { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) })
        else res.destroy()
        return
      }
      console.error('request failed:', error)
      if (!res.headersSent) json(res, 500, { errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] })
      else res.destroy()
    })
  })
  const ws = attachGraphqlWs(http, { yoga, store, otherUpgrades: dashboard?.upgrade, persisted: { documents: persistedDocuments, only: persistedOnly }, maxPayload: maxBodyBytes, rateLimiter, onSharedSubscriber: (document, operationName) => countSubscriber(metrics, document, operationName), ...websocket })
  metrics.countFanout(() => ws.fanoutStats)

  return {
    http,
    metrics,
    otlp,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        http.once('error', reject)
        http.listen(port, host, () => {
          http.off('error', reject)
          const address = http.address() as AddressInfo
          const shownHost = host.includes(':') ? `[${host}]` : host
          resolve({ url: `http://${shownHost}:${address.port}`, port: address.port })
        })
      }),
    close: async () => {
      await ws.close()
      await otlp?.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await yoga.dispose?.()
    },
  }
}
