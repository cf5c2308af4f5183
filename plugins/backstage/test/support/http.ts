import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LoopbackServer {
  url: string
  /** Bodies the server received, in order (to check what the client sent). */
  received: { url: string; headers: IncomingMessage['headers']; body: string }[]
  close(): Promise<void>
}

/** A tiny HTTP server on 127.0.0.1 answering with `handle`: stands in for a broken Sentra or proxy. */
export async function startLoopbackServer(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<LoopbackServer> {
  const received: LoopbackServer['received'] = []
  const sockets = new Set<import('node:net').Socket>()
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body })
      handle(req, res, body)
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        // Hanging answers keep their sockets open; end them so close() returns.
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * What Backstage's proxy does for `proxy.endpoints./sentra` (target + headers): forwards
 * `/api/proxy/sentra/*` to Sentra, replacing the browser's Authorization (a Backstage
 * identity token) with the configured one. Requests without `backstageToken` are refused
 * with 401, as the proxy does for unauthenticated users.
 */
export function startBackstageProxy(target: string, { sentraToken, backstageToken }: { sentraToken: string | null; backstageToken: string }): Promise<LoopbackServer> {
  const prefix = '/api/proxy/sentra'
  return startLoopbackServer((req, res, body) => {
    if (!req.url?.startsWith(`${prefix}/`)) return void res.writeHead(404).end('not found')
    if (req.headers.authorization !== `Bearer ${backstageToken}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"name":"AuthenticationError","message":"Missing credentials"}}')
    const upstream = new URL(req.url.slice(prefix.length), target)
    const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? 'application/json' }
    if (sentraToken !== null) headers.authorization = `Bearer ${sentraToken}`
    const forward = request(upstream, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/octet-stream' })
      answer.pipe(res)
    })
    forward.on('error', () => res.writeHead(502).end('bad gateway'))
    forward.end(body)
  })
}
