import { createServer, request as httpRequest, type IncomingMessage, type RequestOptions, type ServerResponse } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { createDashboardHandler, hasProductionBuild } from './serve.ts'

/**
 * The dashboard as a process of its own, in front of an API server elsewhere
 * (SENTRA_API_URL): `tsx web/main.ts`. The browser talks to this one origin only; the
 * API's paths (/graphql over HTTP and WebSocket, /login with a token or the sign-in form,
 * /logout, /healthz, /readyz, /metrics) are passed to the API unchanged, Host header
 * included, so the API's session cookie and its same-origin check on WebSockets work as
 * when it serves the dashboard itself. Everything else is Next.js.
 *
 *   SENTRA_API_URL        the API server, e.g. http://127.0.0.1:4000 (required)
 *   SENTRA_WEB_PORT / SENTRA_WEB_HOST   where the dashboard listens (3000 / 127.0.0.1)
 *   NODE_ENV=production   serve the `next build` output (required then); otherwise
 *                         development mode unless a build exists
 */

const API_PATHS = new Set(['/graphql', '/logout', '/healthz', '/readyz', '/metrics'])

function isApiRequest(req: IncomingMessage): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (API_PATHS.has(url.pathname)) return true
  // The sign-in page is the dashboard's; the token URL and the form post are the API's.
  return url.pathname === '/login' && (req.method === 'POST' || url.searchParams.has('token'))
}

function readEnv(): { api: URL; port: number; host: string; dev: boolean; dir: string } {
  const raw = process.env.SENTRA_API_URL
  if (!raw) throw new Error('SENTRA_API_URL: the API server the dashboard talks to, e.g. http://127.0.0.1:4000')
  const api = new URL(raw)
  if (api.protocol !== 'http:' && api.protocol !== 'https:') throw new Error(`SENTRA_API_URL: "${raw}" is not an http(s) URL`)
  const port = Number(process.env.SENTRA_WEB_PORT || 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SENTRA_WEB_PORT: "${process.env.SENTRA_WEB_PORT}" is not a port number`)
  const dir = fileURLToPath(new URL('.', import.meta.url))
  const dev = process.env.NODE_ENV !== 'production' && !hasProductionBuild(dir)
  return { api, port, host: process.env.SENTRA_WEB_HOST || '127.0.0.1', dev, dir }
}

function upstreamOptions(api: URL, req: IncomingMessage): RequestOptions {
  const address = req.socket.remoteAddress ?? ''
  const forwarded = req.headers['x-forwarded-for']
  return {
    protocol: api.protocol,
    hostname: api.hostname,
    port: api.port || (api.protocol === 'https:' ? 443 : 80),
    method: req.method,
    path: req.url,
    headers: { ...req.headers, 'x-forwarded-for': forwarded ? `${String(forwarded)}, ${address}` : address },
  }
}

function send(api: URL, options: RequestOptions) {
  return api.protocol === 'https:' ? httpsRequest(options) : httpRequest(options)
}

function proxyHttp(api: URL, req: IncomingMessage, res: ServerResponse): void {
  const upstream = send(api, upstreamOptions(api, req))
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders)
    answer.pipe(res)
  })
  upstream.on('error', (error) => {
    if (res.headersSent) return void res.destroy()
    res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' })
    res.end(JSON.stringify({ errors: [{ message: `the Sentra API at ${api.origin} did not answer: ${error.message}` }] }))
  })
  req.pipe(upstream)
}

function rawHead(status: number, message: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${message}\r\n`
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`
  return `${head}\r\n`
}

/** A WebSocket to /graphql, tunnelled to the API byte for byte after its handshake answer. */
function proxyUpgrade(api: URL, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const upstream = send(api, upstreamOptions(api, req))
  socket.on('error', () => upstream.destroy())
  upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
    socket.write(rawHead(answer.statusCode ?? 101, answer.statusMessage ?? 'Switching Protocols', answer.rawHeaders))
    if (upstreamHead.length > 0) socket.write(upstreamHead)
    if (head.length > 0) upstreamSocket.write(head)
    upstreamSocket.pipe(socket).pipe(upstreamSocket)
    upstreamSocket.on('error', () => socket.destroy())
    socket.on('close', () => upstreamSocket.destroy())
    upstreamSocket.on('close', () => socket.destroy())
  })
  upstream.on('response', (answer) => {
    // Refused (e.g. 404): pass the answer on and close.
    socket.end(rawHead(answer.statusCode ?? 502, answer.statusMessage ?? '', ['connection', 'close']))
    answer.resume()
  })
  upstream.on('error', () => socket.destroy())
  upstream.end()
}

try {
  const { api, port, host, dev, dir } = readEnv()
  const dashboard = await createDashboardHandler({ dev, dir, hostname: host, port })
  const server = createServer((req, res) => {
    if (isApiRequest(req)) return proxyHttp(api, req, res)
    dashboard.handle(req, res).catch((error: unknown) => {
      console.error('dashboard request failed:', error)
      if (!res.headersSent) res.writeHead(500).end()
      else res.destroy()
    })
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname === '/graphql') return proxyUpgrade(api, req, socket, head)
    dashboard.upgrade(req, socket, head).catch(() => socket.destroy())
  })
  server.listen(port, host, () => {
    const shownHost = host.includes(':') ? `[${host}]` : host
    console.log(`sentra dashboard (${dev ? 'development' : 'production'}) on http://${shownHost}:${port}/  (API: ${api.origin})`)
  })
  const stop = () => {
    server.closeAllConnections()
    server.close()
    dashboard.close().finally(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  console.error(error instanceof Error ? `sentra dashboard: ${error.message}` : error)
  process.exit(1)
}
