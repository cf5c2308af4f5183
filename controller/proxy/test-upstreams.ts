/**
 * Test helpers for the proxy suites (not exported from index.ts): tiny loopback upstreams
 * that answer with their version, a proxy on a free port, and deterministic randomness.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WeightedProxy, type WeightedProxyOptions } from './proxy.ts'
import type { Upstream } from './types.ts'

export interface TestUpstream extends Upstream {
  server: Server
  /** Requests this upstream has received. */
  hits: number
  close(): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** An upstream on 127.0.0.1:<free port>; by default answers 200 with its version as the body. */
export async function startUpstream(version: string, handler?: Handler): Promise<TestUpstream> {
  const sockets = new Set<Socket>()
  const answer: Handler = handler ?? ((_req, res) => res.end(version))
  const upstream: TestUpstream = {
    version,
    url: '',
    hits: 0,
    server: createServer((req, res) => {
      upstream.hits++
      answer(req, res)
    }),
    close: () =>
      new Promise<void>((resolve) => {
        upstream.server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
  upstream.server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve))
  upstream.url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`
  return upstream
}

export interface TestProxy {
  proxy: WeightedProxy
  /** Base URL of the proxy, e.g. http://127.0.0.1:41234 */
  url: string
}

export async function startProxy(options: Omit<WeightedProxyOptions, 'host' | 'port'> = {}): Promise<TestProxy> {
  const proxy = new WeightedProxy({ host: '127.0.0.1', port: 0, ...options })
  const { port } = await proxy.listen()
  return { proxy, url: `http://127.0.0.1:${port}` }
}

/** A random source that replays `values` in a loop, for exact routing counts. */
export function sequence(values: readonly number[]): () => number {
  let i = 0
  return () => values[i++ % values.length] ?? 0
}

/** mulberry32: a small seeded PRNG, so "statistical" tests are reproducible and cannot flake. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export interface Answer {
  status: number
  version: string | null
  body: string
  setCookie: string[]
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', ...init })
  return { status: res.status, version: res.headers.get('x-sentra-version'), body: await res.text(), setCookie: res.headers.getSetCookie() }
}

/** Sends `count` GETs, `concurrency` at a time, and counts answers per version. */
export async function tally(url: string, count: number, { concurrency = 16, init }: { concurrency?: number; init?: RequestInit } = {}): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      const { body } = await call(url, init)
      counts.set(body, (counts.get(body) ?? 0) + 1)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return counts
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
