import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention'
import { createYoga } from 'graphql-yoga'
import type { Bus } from '../schema/events/bus.ts'
import { createContext, graphSchema, type Actor } from '../schema/graph/index.ts'
import type { Store } from '../schema/store/index.ts'
import { authenticate, requestToken, SESSION_COOKIE } from './auth.ts'
import { maskError } from './errors.ts'
import { checkReadiness } from './health.ts'
import { DEFAULT_LIMITS, useQueryLimits, type QueryLimits } from './limits.ts'
import { ServerMetrics, useOperationMetrics } from './metrics.ts'
import { attachGraphqlWs } from './websocket.ts'

export const MAX_BODY_BYTES = 1 << 20

export interface ApiServerOptions {
  store: Store
  bus: Bus
  graphiql?: boolean
  production?: boolean
  limits?: QueryLimits
}

export interface ApiServer {
  readonly http: Server
  readonly metrics: ServerMetrics
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

/**
 * The API process: yoga over HTTP and graphql-ws on one port and one path (/graphql),
 * plus /healthz, /readyz, /metrics and /login. Every request but health, readiness and
 * login must carry a valid token; unauthenticated GraphQL never reaches the executor.
 */
export function createApiServer({ store, bus, graphiql = false, production = false, limits = DEFAULT_LIMITS }: ApiServerOptions): ApiServer {
  const metrics = new ServerMetrics()
  const yoga = createYoga<{ actor: Actor | null }>({
    schema: graphSchema(),
    graphqlEndpoint: '/graphql',
    graphiql,
    landingPage: false,
    batching: false,
    // Expected errors (bad input, conflicts) are answers, not incidents; maskError logs the unexpected ones.
    logging: false,
    maskedErrors: { maskError: (error, message) => maskError(error, message) },
    context: ({ actor }) => createContext(store, bus, actor ?? null),
    plugins: [
      // A browser cannot add Authorization or our header to a cross-site form or image request.
      useCSRFPrevention({ requestHeaders: ['authorization', 'x-sentra-csrf', 'x-graphql-yoga-csrf'] }),
      useQueryLimits(limits, { hideSuggestions: production }),
      useOperationMetrics(metrics),
    ],
  })

  async function route(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (pathname === '/healthz') return json(res, 200, { status: 'ok' })
    if (pathname === '/readyz') {
      const readiness = await checkReadiness(store, bus)
      return json(res, readiness.ready ? 200 : 503, readiness)
    }
    if (pathname === '/login') return login(req, res)
    const actor = await authenticate(store, requestToken(req)?.token)
    if (pathname === '/metrics') {
      if (!actor) return unauthenticated(res)
      res.writeHead(200, { 'content-type': metrics.registry.contentType })
      res.end(await metrics.registry.metrics())
      return
    }
    if (pathname === '/graphql') {
      if (!actor) return unauthenticated(res)
      const length = Number(req.headers['content-length'] ?? 0)
      if (req.method === 'POST' && req.headers['content-length'] === undefined) {
        return json(res, 411, { errors: [{ message: 'a Content-Length header is required', extensions: { code: 'BAD_USER_INPUT' } }] })
      }
      if (length > MAX_BODY_BYTES) {
        return json(res, 413, { errors: [{ message: `request body over ${MAX_BODY_BYTES} bytes`, extensions: { code: 'BAD_USER_INPUT' } }] })
      }
      await yoga.handle(req, res, { actor })
      return
    }
    json(res, 404, { error: 'not found' })
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token')
    const actor = await authenticate(store, token)
    if (!actor || !token) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' })
      res.end('That token is not valid (unknown, revoked or mistyped).\n')
      return
    }
    res.writeHead(303, {
      'set-cookie': `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${production ? '; Secure' : ''}`,
      location: graphiql ? '/graphql' : '/',
      'cache-control': 'no-store',
    })
    res.end()
  }

  const http = createServer((req, res) => {
    const started = performance.now()
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    const known = ['/graphql', '/healthz', '/readyz', '/metrics', '/login'].includes(pathname) ? pathname : 'other'
    res.on('finish', () => {
      metrics.httpRequests.inc({ route: known, method: req.method ?? 'GET', status: String(res.statusCode) })
      metrics.httpDuration.observe({ route: known, method: req.method ?? 'GET' }, (performance.now() - started) / 1000)
    })
    route(req, res, pathname).catch((error: unknown) => {
      console.error('request failed:', error)
      if (!res.headersSent) json(res, 500, { errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] })
      else res.destroy()
    })
  })
  const ws = attachGraphqlWs(http, { yoga, store })

  return {
    http,
    metrics,
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
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await yoga.dispose?.()
    },
  }
}
