import { createHash, randomBytes } from 'node:crypto'
import { request, type IncomingHttpHeaders } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { call, sleep, startProxy, startUpstream, type TestProxy, type TestUpstream } from './test-upstreams.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

async function serve(version: string, handler: Parameters<typeof startUpstream>[1]): Promise<{ upstream: TestUpstream } & TestProxy> {
  const upstream = await startUpstream(version, handler)
  const started = await startProxy()
  started.proxy.setRoutes({ stable: upstream })
  cleanups.push(() => started.proxy.close(), () => upstream.close())
  return { upstream, ...started }
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

describe('streaming', () => {
  it('echoes a 5 MiB request body back intact', async () => {
    const { url } = await serve('echo', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      req.pipe(res)
    })
    const body = randomBytes(5 * 1024 * 1024)
    const res = await fetch(`${url}/echo`, { method: 'POST', body })
    expect(res.status).toBe(200)
    const echoed = new Uint8Array(await res.arrayBuffer())
    expect(echoed.byteLength).toBe(body.byteLength)
    expect(sha256(echoed)).toBe(sha256(body))
  })

  it('delivers a chunked response progressively: the first chunk arrives before the upstream finishes', async () => {
    let finished = false
    let sendRest: () => void = () => {}
    const { url } = await serve('chunks', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first;')
      sendRest = () => {
        res.end('second')
        finished = true
      }
    })
    const res = await fetch(url)
    const reader = res.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('first;')
    expect(finished).toBe(false)
    sendRest()
    let rest = ''
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value)
    expect(rest).toBe('second')
  })

  it('does not buffer a slow upload: the upstream sees the first part before the client sends the rest', async () => {
    let received = ''
    let sawFirstPart: () => void = () => {}
    const firstPart = new Promise<void>((resolve) => (sawFirstPart = resolve))
    const { url } = await serve('upload', (req, res) => {
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => {
        received += chunk
        if (received.startsWith('part1')) sawFirstPart()
      })
      req.on('end', () => res.end(received))
    })
    const { port } = new URL(url)
    const answer = new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve(text))
      })
      req.on('error', reject)
      req.write('part1;')
      void firstPart.then(() => req.end('part2'))
    })
    expect(await answer).toBe('part1;part2')
  })
})

describe('forwarding', () => {
  it('forwards method, path and query, end-to-end headers and X-Forwarded-*, and drops hop-by-hop headers', async () => {
    let seen: { method?: string; url?: string; headers: IncomingHttpHeaders } = { headers: {} }
    const { url } = await serve('mirror', (req, res) => {
      seen = { method: req.method, url: req.url, headers: req.headers }
      req.resume()
      res.writeHead(201, { 'x-custom': 'yes', 'keep-alive': 'timeout=99', 'proxy-authenticate': 'Basic', 'x-private': 'drop-me', connection: 'x-private' })
      res.end('ok')
    })
    const { port } = new URL(url)
    const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/a/b?x=1&y=%20',
          headers: { 'x-request-id': 'abc', 'proxy-authorization': 'secret', te: 'trailers', 'x-hop': '1', connection: 'keep-alive, x-hop', 'x-forwarded-for': '10.0.0.1', 'content-length': '4' },
        },
        (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => (body += chunk.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        },
      )
      req.on('error', reject)
      req.end('data')
    })
    expect(seen.method).toBe('PUT')
    expect(seen.url).toBe('/a/b?x=1&y=%20')
    expect(seen.headers['x-request-id']).toBe('abc')
    expect(seen.headers['proxy-authorization']).toBeUndefined()
    expect(seen.headers.te).toBeUndefined()
    expect(seen.headers['x-hop']).toBeUndefined()
    expect(seen.headers['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1')
    expect(seen.headers['x-forwarded-proto']).toBe('http')
    expect(seen.headers['x-forwarded-host']).toBe(`127.0.0.1:${port}`)
    expect(seen.headers.host).toBe(`127.0.0.1:${port}`) // the name the client used
    expect(answer.status).toBe(201)
    expect(answer.body).toBe('ok')
    expect(answer.headers['x-custom']).toBe('yes')
    expect(answer.headers['x-sentra-version']).toBe('mirror')
    expect(answer.headers['proxy-authenticate']).toBeUndefined()
    expect(answer.headers['x-private']).toBeUndefined()
    expect(answer.headers['keep-alive']).not.toBe('timeout=99') // ours, if any, not the upstream's
  })

  it('passes redirects through instead of following them, and adds the upstream URL\'s base path', async () => {
    let path = ''
    const { proxy, url, upstream } = await serve('redirects', (req, res) => {
      path = req.url ?? ''
      res.writeHead(302, { location: '/elsewhere' })
      res.end()
    })
    const answer = await call(`${url}/start?q=1`)
    expect(answer.status).toBe(302)
    expect(path).toBe('/start?q=1')
    proxy.setRoutes({ stable: { version: 'redirects', url: `${upstream.url}/base/` } })
    await call(`${url}/start`)
    expect(path).toBe('/base/start')
  })

  it('reuses keep-alive connections to the upstream', async () => {
    const { url, upstream } = await serve('reuse', (_req, res) => res.end('reuse'))
    let connections = 0
    upstream.server.on('connection', () => connections++)
    for (let i = 0; i < 20; i++) await call(url)
    await sleep(10)
    expect(connections).toBe(1)
  })
})
