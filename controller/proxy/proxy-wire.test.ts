/**
 * The proxy at the byte level: hostile and unusual requests and answers, sent over raw
 * sockets so nothing between the test and the proxy normalises them.
 */
import { connect, createServer as createNetServer, type AddressInfo, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { sleep, startProxy, startUpstream, type TestProxy, type TestUpstream } from './test-upstreams.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

const ALL = [0, Number.MAX_SAFE_INTEGER] as const

async function setup(handler?: Parameters<typeof startUpstream>[1]): Promise<{ upstream: TestUpstream; seen: string[] } & TestProxy> {
  const seen: string[] = []
  const upstream = await startUpstream('v1', (req, res) => {
    seen.push(`${req.method} ${req.url}`)
    if (handler) handler(req, res)
    else {
      req.resume()
      req.on('end', () => res.end('v1'))
    }
  })
  const started = await startProxy()
  started.proxy.setRoutes({ stable: upstream })
  cleanups.push(() => started.proxy.close(), () => upstream.close())
  return { upstream, seen, ...started }
}

/** Writes `pieces` to the proxy (a pause between them) and returns all it answers until it closes or is quiet for `quietMs`. */
async function raw(url: string, pieces: (string | Buffer)[], quietMs = 300): Promise<{ text: string; closed: boolean }> {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  socket.on('error', () => {})
  let text = ''
  let closed = false
  let last = Date.now()
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1')
    last = Date.now()
  })
  socket.on('close', () => (closed = true))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  for (const piece of pieces) {
    socket.write(piece)
    await sleep(20)
  }
  last = Date.now()
  while (!closed && Date.now() - last < quietMs) await sleep(10)
  socket.destroy()
  return { text, closed }
}

const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))

describe('hostile requests', () => {
  it.each([
    ['Content-Length with Transfer-Encoding (CL.TE smuggling)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['two Content-Lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an obfuscated Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n', 501],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n', 400],
    ['a bare LF', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
    ['an oversized head', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('refuses %s, closes the connection, and forwards nothing', async (_name, text, status) => {
    const { proxy, url, seen } = await setup()
    const answer = await raw(url, [text])
    expect(statuses(answer.text)).toEqual([status])
    expect(answer.text).toMatch(/connection: close/i)
    expect(answer.closed).toBe(true)
    expect(seen).toEqual([])
    expect(proxy.openUpstreamSockets()).toBe(0)
  })

  it('refuses a malformed chunked upload mid-way, counts no error for the version, and keeps serving', async () => {
    const { proxy, url, seen } = await setup()
    const answer = await raw(url, ['POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 'zz\r\nGET /smuggled HTTP/1.1\r\n\r\n'])
    expect(statuses(answer.text)).toEqual([400])
    expect(answer.closed).toBe(true)
    expect(seen).not.toContain('GET /smuggled')
    await sleep(20)
    expect(proxy.metrics.window('v1', ...ALL).errors).toBe(0)
    expect((await fetch(url)).status).toBe(200)
  })

  it('closes an idle client connection with half a head after the client timeout, without answering it', async () => {
    const { url, seen } = await setup()
    const { port } = new URL(url)
    const socket = connect(Number(port), '127.0.0.1')
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n')
    const closed = await new Promise<boolean>((resolve) => {
      socket.on('close', () => resolve(true))
      socket.on('error', () => {})
      setTimeout(() => resolve(false), 8000)
    })
    expect(closed).toBe(true)
    expect(seen).toEqual([])
  }, 10_000)
})

describe('keep-alive, pipelining and old clients', () => {
  it('answers pipelined requests in order on one connection', async () => {
    const { url, seen } = await setup((req, res) => {
      req.resume()
      // the first answer is the slowest: the order must still hold
      setTimeout(() => res.end(`body of ${req.url}`), req.url === '/1' ? 50 : 0)
    })
    const answer = await raw(url, ['GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: a\r\n\r\n'])
    expect(statuses(answer.text)).toEqual([200, 200, 200])
    expect(answer.text.indexOf('body of /1')).toBeLessThan(answer.text.indexOf('body of /2'))
    expect(answer.text.indexOf('body of /2')).toBeLessThan(answer.text.indexOf('body of /3'))
    expect(seen).toEqual(['GET /1', 'POST /2', 'GET /3'])
    expect(answer.closed).toBe(false)
    // the idle timeout is announced, so a client does not send on a connection we are closing
    expect(answer.text.match(/keep-alive: timeout=5\r\n/gi)).toHaveLength(3)
  })

  it('serves an HTTP/1.0 client without chunked framing and closes after the answer', async () => {
    const { url } = await setup((req, res) => {
      req.resume()
      res.write('part1 ')
      res.end('part2')
    })
    const answer = await raw(url, ['GET / HTTP/1.0\r\nHost: a\r\n\r\n'])
    expect(statuses(answer.text)).toEqual([200])
    expect(answer.text).not.toMatch(/transfer-encoding/i)
    expect(answer.text.endsWith('part1 part2')).toBe(true)
    expect(answer.closed).toBe(true)
  })

  it('answers HEAD with the headers only, and keeps the connection usable', async () => {
    const { url } = await setup((req, res) => {
      req.resume()
      res.setHeader('content-length', 10)
      res.end(req.method === 'HEAD' ? undefined : '0123456789')
    })
    const answer = await raw(url, ['HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'])
    expect(statuses(answer.text)).toEqual([200, 200])
    expect(answer.text.match(/0123456789/g)).toHaveLength(1)
  })

  it('passes 100 Continue on, so a client waiting for it sends its body', async () => {
    const { url } = await setup((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => res.end(`got ${body}`))
    })
    const { port } = new URL(url)
    const socket = connect(Number(port), '127.0.0.1')
    let text = ''
    let sent = false
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (text.includes('100 Continue') && !sent) {
        sent = true
        socket.write('hello')
      }
    })
    socket.write('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n')
    for (let i = 0; i < 200 && !text.includes('got hello'); i++) await sleep(10)
    socket.destroy()
    expect(statuses(text)).toEqual([100, 200])
    expect(text).toContain('got hello')
  })
})

describe('unusual upstream answers', () => {
  async function rawUpstream(answer: string): Promise<{ url: string; connections: () => number }> {
    let connections = 0
    const server: Server = createNetServer((socket) => {
      connections++
      socket.on('error', () => {})
      socket.on('data', (chunk) => {
        if (chunk.toString('latin1').includes('\r\n\r\n')) socket.end(answer)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections }
  }

  it('answers 502 for a smuggling-shaped answer and counts it as the version\'s error', async () => {
    const bad = await rawUpstream('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok')
    const { proxy, url } = await startProxy()
    cleanups.push(() => proxy.close())
    proxy.setRoutes({ stable: { version: 'bad', url: bad.url } })
    const res = await fetch(url)
    expect(res.status).toBe(502)
    await res.text()
    expect(proxy.metrics.window('bad', ...ALL)).toMatchObject({ requests: 1, errors: 1 })
  })

  it('relays a close-delimited answer whole, telling the client the connection closes', async () => {
    const old = await rawUpstream('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end')
    const { proxy, url } = await startProxy()
    cleanups.push(() => proxy.close())
    proxy.setRoutes({ stable: { version: 'old', url: old.url } })
    const answer = await raw(url, ['GET / HTTP/1.1\r\nHost: a\r\n\r\n'])
    expect(statuses(answer.text)).toEqual([200])
    expect(answer.text).toMatch(/connection: close/i)
    expect(answer.text.endsWith('until the end')).toBe(true)
    expect(answer.closed).toBe(true)
    expect(proxy.metrics.window('old', ...ALL)).toMatchObject({ requests: 1, errors: 0 })
  })

  it('forwards a chunked answer verbatim, trailers included', async () => {
    const chunked = await rawUpstream('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n')
    const { proxy, url } = await startProxy()
    cleanups.push(() => proxy.close())
    proxy.setRoutes({ stable: { version: 'c', url: chunked.url } })
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('abcde')
  })
})

describe('the upstream connection limit', () => {
  it('queues requests beyond maxSocketsPerUpstream and serves them, in turn, on the same connection', async () => {
    let connections = 0
    let inFlight = 0
    let most = 0
    const upstream = await startUpstream('v1', (req, res) => {
      inFlight++
      most = Math.max(most, inFlight)
      req.resume()
      setTimeout(() => {
        inFlight--
        res.end(req.url)
      }, 30)
    })
    upstream.server.on('connection', () => connections++)
    const { proxy, url } = await startProxy({ maxSocketsPerUpstream: 1 })
    cleanups.push(() => proxy.close(), () => upstream.close())
    proxy.setRoutes({ stable: upstream })
    const bodies = await Promise.all(['/a', '/b', '/c'].map(async (path) => (await fetch(url + path)).text()))
    expect(bodies).toEqual(['/a', '/b', '/c'])
    expect(connections).toBe(1)
    expect(most).toBe(1)
    expect(proxy.openUpstreamSockets()).toBe(1) // kept idle for the next request
  })
})
