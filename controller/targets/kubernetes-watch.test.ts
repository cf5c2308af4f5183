import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { afterEach, describe, expect, it } from 'vitest'
import { nextWatchEvent } from './kubernetes-watch.ts'

let server: Server | null = null
const sockets = new Set<Socket>()

async function apiServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<KubeConfig> {
  server = createServer(handler)
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const config = new KubeConfig()
  config.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  })
  return config
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25))
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = null
})

describe('nextWatchEvent', () => {
  it('resolves on the first event, sending watch=true, the query and the credentials', async () => {
    let seen: IncomingMessage | null = null
    const config = await apiServer((req, res) => {
      seen = req
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"type":"MODIFIED","object":{}}\n')
    })
    await nextWatchEvent(config, '/apis/apps/v1/namespaces/shop/deployments', { fieldSelector: 'metadata.name=a', resourceVersion: undefined }, 30_000)
    const url = new URL(seen!.url!, 'http://x')
    expect(url.searchParams.get('watch')).toBe('true')
    expect(url.searchParams.get('fieldSelector')).toBe('metadata.name=a')
    expect(url.searchParams.has('resourceVersion')).toBe(false)
    expect(seen!.headers.authorization).toBe('Bearer secret-token')
    await until(() => sockets.size === 0)
    expect(sockets.size).toBe(0)
  })

  it('gives up after the time allowed and closes the connection of a server that never answers', async () => {
    const config = await apiServer(() => {
      // accepts the request and never answers the headers
    })
    await nextWatchEvent(config, '/apis/apps/v1/namespaces/shop/deployments', {}, 300)
    await until(() => sockets.size === 0)
    expect(sockets.size).toBe(0)
  })

  it('stops at once when the signal aborts, while the server has not answered', async () => {
    const config = await apiServer(() => {})
    const stop = new AbortController()
    const waiting = nextWatchEvent(config, '/x', {}, 60_000, stop.signal)
    await until(() => sockets.size === 1)
    stop.abort()
    await waiting
    await until(() => sockets.size === 0)
    expect(sockets.size).toBe(0)
  })

  it.each([
    ['an error status', (_req: IncomingMessage, res: ServerResponse) => res.writeHead(410).end('{"kind":"Status","code":410}')],
    ['a closed connection', (req: IncomingMessage) => req.socket.destroy()],
    ['an answer that ends without an event', (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200).end()],
  ])('returns (so the caller re-reads) on %s', async (_name, handler) => {
    const config = await apiServer(handler)
    await nextWatchEvent(config, '/x', {}, 60_000)
  })
})
