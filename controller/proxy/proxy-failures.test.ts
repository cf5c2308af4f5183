import { request } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { call, sleep, startProxy, startUpstream, type TestProxy, type TestUpstream } from './test-upstreams.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

async function proxyWith(options: Parameters<typeof startProxy>[0] = {}): Promise<TestProxy> {
  const started = await startProxy(options)
  cleanups.push(() => started.proxy.close())
  return started
}

async function upstream(...args: Parameters<typeof startUpstream>): Promise<TestUpstream> {
  const started = await startUpstream(...args)
  cleanups.push(() => started.close())
  return started
}

const ALL = [0, Number.MAX_SAFE_INTEGER] as const

describe('upstream failures', () => {
  it('answers 502 when the upstream is down, and counts an error for that version', async () => {
    const gone = await startUpstream('v2')
    await gone.close() // nothing listens on its port any more
    const v1 = await upstream('v1')
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: v1, canary: gone, weight: 100 })
    const answer = await call(url)
    expect(answer.status).toBe(502)
    expect(answer.version).toBe('v2')
    expect(answer.body).toMatch(/upstream unavailable/)
    expect(proxy.metrics.window('v2', ...ALL)).toMatchObject({ requests: 1, errors: 1 })
    expect(proxy.metrics.window('v2', ...ALL).latencyP50).not.toBeNull()
    expect(proxy.metrics.window('v1', ...ALL).requests).toBe(0)
  })

  it('answers 502 when the upstream drops the connection without answering', async () => {
    const rude = await upstream('rude', (req) => req.socket.destroy())
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: rude })
    expect((await call(url)).status).toBe(502)
    expect((await call(url, { method: 'POST', body: 'x'.repeat(100_000) })).status).toBe(502)
    expect(proxy.metrics.window('rude', ...ALL)).toMatchObject({ requests: 2, errors: 2 })
  })

  it('answers 504 after upstreamTimeoutMs when the upstream hangs', async () => {
    const hung = await upstream('hung', () => {}) // never answers
    const { proxy, url } = await proxyWith({ upstreamTimeoutMs: 150 })
    proxy.setRoutes({ stable: hung })
    const started = performance.now()
    const answer = await call(url)
    const elapsed = performance.now() - started
    expect(answer.status).toBe(504)
    expect(answer.version).toBe('hung')
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(elapsed).toBeLessThan(2000)
    const stats = proxy.metrics.window('hung', ...ALL)
    expect(stats).toMatchObject({ requests: 1, errors: 1 })
    expect(stats.latencyP50!).toBeGreaterThanOrEqual(0.14)
  })

  it('cuts a response whose body stalls longer than upstreamTimeoutMs, and counts it as an error', async () => {
    const stalls = await upstream('stalls', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('partial ')
    })
    const { proxy, url } = await proxyWith({ upstreamTimeoutMs: 150 })
    proxy.setRoutes({ stable: stalls })
    const res = await fetch(url)
    expect(res.status).toBe(200)
    await expect(res.text()).rejects.toThrow()
    await sleep(20)
    expect(proxy.metrics.window('stalls', ...ALL)).toMatchObject({ requests: 1, errors: 1 })
  })

  it('answers 503 when there is no upstream at all', async () => {
    const { url } = await proxyWith()
    const answer = await call(url)
    expect(answer.status).toBe(503)
    expect(answer.version).toBeNull()
    expect(answer.body).toMatch(/no upstream/)
  })

  it('counts upstream 5xx answers as errors of that version, 4xx not', async () => {
    const flaky = await upstream('flaky', (req, res) => {
      res.statusCode = req.url === '/boom' ? 500 : req.url === '/missing' ? 404 : 200
      res.end('flaky')
    })
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: flaky })
    for (const path of ['/boom', '/boom', '/missing', '/ok']) await call(url + path)
    expect(proxy.metrics.window('flaky', ...ALL)).toMatchObject({ requests: 4, errors: 2 })
  })

  it('survives a client that disconnects mid-request: aborts the upstream request, leaks nothing, answers the next one', async () => {
    let upstreamSawClose = false
    const hung = await upstream('hung', (req) => {
      req.on('close', () => {
        upstreamSawClose = true
      })
    })
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: hung })
    const controller = new AbortController()
    const pending = fetch(url, { signal: controller.signal })
    while (hung.hits === 0) await sleep(5)
    controller.abort()
    await expect(pending).rejects.toThrow()
    for (let i = 0; i < 100 && !upstreamSawClose; i++) await sleep(10)
    expect(upstreamSawClose).toBe(true)
    expect(proxy.openUpstreamSockets()).toBe(0)
    // recorded as a client-closed request (499): a request, not an error of the version
    await sleep(10)
    expect(proxy.metrics.window('hung', ...ALL)).toMatchObject({ requests: 1, errors: 0 })

    const v1 = await upstream('v1')
    proxy.setRoutes({ stable: v1 })
    expect(await call(url)).toMatchObject({ status: 200, body: 'v1' })
  })

  it('survives a client that disconnects mid-upload and mid-download', async () => {
    const streaming = await upstream('streaming', (req, res) => {
      req.resume()
      res.writeHead(200)
      const timer = setInterval(() => res.write('x'.repeat(1024)), 5)
      res.on('close', () => clearInterval(timer))
    })
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: streaming })
    const { port } = new URL(url)

    // upload: announce 1 MB, send 10 kB, hang up
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-length': 1_000_000 } })
      req.on('error', () => resolve())
      req.write('y'.repeat(10_000), () => setTimeout(() => req.destroy(), 20))
      req.on('close', () => resolve())
    })
    // download: read a few chunks of a never-ending response, hang up
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port }, (res) => {
        res.once('data', () => req.destroy())
      })
      req.on('error', () => resolve())
      req.on('close', () => resolve())
      req.end()
    })
    for (let i = 0; i < 100 && proxy.openUpstreamSockets() > 0; i++) await sleep(10)
    expect(proxy.openUpstreamSockets()).toBe(0)
    const v1 = await upstream('v1')
    proxy.setRoutes({ stable: v1 })
    expect(await call(url)).toMatchObject({ status: 200, body: 'v1' })
  })

  it('retries a body-less request once when a reused keep-alive socket turns out closed; never one with a body', async () => {
    // Each connection answers its first request with keep-alive, then hangs up on the next
    // one unanswered: the race of an upstream closing an idle socket just as we reuse it.
    let connections = 0
    const server = createNetServer((socket) => {
      connections++
      let requests = 0
      socket.on('data', (chunk) => {
        if (!chunk.toString('latin1').includes('\r\n\r\n')) return
        requests++
        if (requests === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok')
        else socket.destroy()
      })
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: { version: 'racy', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } })

    expect(await call(url)).toMatchObject({ status: 200, body: 'ok' })
    expect(await call(url)).toMatchObject({ status: 200, body: 'ok' }) // reused socket dropped → retried on a new one
    expect(connections).toBe(2)
    expect(proxy.metrics.window('racy', ...ALL)).toMatchObject({ requests: 2, errors: 0 })

    // a request with a body was streamed already and cannot be replayed: 502
    expect((await call(url, { method: 'POST', body: 'payload' })).status).toBe(502)
    expect(proxy.metrics.window('racy', ...ALL)).toMatchObject({ requests: 3, errors: 1 })
  })
})
