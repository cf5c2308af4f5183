import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { call, seeded, sequence, startProxy, startUpstream, tally, type TestProxy, type TestUpstream } from './test-upstreams.ts'

let v1: TestUpstream
let v2: TestUpstream
let v3: TestUpstream
const proxies: TestProxy[] = []

beforeAll(async () => {
  ;[v1, v2, v3] = await Promise.all([startUpstream('v1'), startUpstream('v2'), startUpstream('v3')])
})
afterEach(async () => {
  await Promise.all(proxies.splice(0).map(({ proxy }) => proxy.close()))
})
afterAll(async () => {
  await Promise.all([v1, v2, v3].map((u) => u?.close()))
})

async function proxyWith(options: Parameters<typeof startProxy>[0] = {}): Promise<TestProxy> {
  const started = await startProxy(options)
  proxies.push(started)
  return started
}

const even = (): (() => number) => sequence(Array.from({ length: 100 }, (_, i) => i / 100))

describe('weighted routing', () => {
  it('sends exactly weight % to the canary with a deterministic random source', async () => {
    const { proxy, url } = await proxyWith({ random: even() })
    proxy.setRoutes({ stable: v1, canary: v2, weight: 20 })
    const counts = await tally(url, 500)
    expect(counts.get('v2')).toBe(100)
    expect(counts.get('v1')).toBe(400)
  })

  it('stays within 20 % ± 4 % over 2000 requests with a (seeded) random draw', async () => {
    const { proxy, url } = await proxyWith({ random: seeded(20_240_601) })
    proxy.setRoutes({ stable: v1, canary: v2, weight: 20 })
    const counts = await tally(url, 2000, { concurrency: 32 })
    const share = (counts.get('v2') ?? 0) / 2000
    expect(share).toBeGreaterThan(0.16)
    expect(share).toBeLessThan(0.24)
    expect((counts.get('v1') ?? 0) + (counts.get('v2') ?? 0)).toBe(2000)
  })

  it('weight 0 → all stable, 100 → all canary', async () => {
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: v1, canary: v2, weight: 0 })
    expect(await tally(url, 100)).toEqual(new Map([['v1', 100]]))
    proxy.setRoutes({ weight: 100 })
    expect(await tally(url, 100)).toEqual(new Map([['v2', 100]]))
  })

  it('with only a stable or only a canary, everything goes there; with neither, 503', async () => {
    const { proxy, url } = await proxyWith()
    expect((await call(url)).status).toBe(503)
    proxy.setRoutes({ canary: v2, weight: 0 }) // initial deploy: the canary is all there is
    expect(await tally(url, 20)).toEqual(new Map([['v2', 20]]))
    proxy.setRoutes({ stable: v1, canary: null, weight: 100 })
    expect(await tally(url, 20)).toEqual(new Map([['v1', 20]]))
  })

  it('applies a weight change to the very next request', async () => {
    const { proxy, url } = await proxyWith({ random: () => 0.5 })
    proxy.setRoutes({ stable: v1, canary: v2, weight: 50 })
    expect((await call(url)).body).toBe('v1') // 0.5 * 100 < 50 is false
    proxy.setRoutes({ weight: 51 })
    expect((await call(url)).body).toBe('v2')
    proxy.setRoutes({ weight: 50 })
    expect((await call(url)).body).toBe('v1')
    proxy.setRoutes({ canary: v3, weight: 100 })
    const answer = await call(url)
    expect(answer).toMatchObject({ status: 200, body: 'v3', version: 'v3' })
  })

  it('lets requests in flight finish on the version they started on', async () => {
    let release: () => void = () => {}
    const slow = await startUpstream('slow', (_req, res) => {
      release = () => res.end('slow')
    })
    try {
      const { proxy, url } = await proxyWith()
      proxy.setRoutes({ stable: slow })
      const pending = call(url)
      while (slow.hits === 0) await new Promise((r) => setTimeout(r, 5))
      proxy.setRoutes({ stable: v1 }) // retires slow's agent, but only once the request is done
      expect((await call(url)).body).toBe('v1')
      release()
      expect(await pending).toMatchObject({ status: 200, body: 'slow', version: 'slow' })
    } finally {
      await slow.close()
    }
  })

  it('validates routes as a whole and changes nothing on a bad one', async () => {
    const { proxy } = await proxyWith()
    proxy.setRoutes({ stable: v1, canary: v2, weight: 10 })
    const before = proxy.routes()
    expect(() => proxy.setRoutes({ weight: 101 })).toThrow(/weight/)
    expect(() => proxy.setRoutes({ weight: -1 })).toThrow(/weight/)
    expect(() => proxy.setRoutes({ weight: Number.NaN })).toThrow(/weight/)
    expect(() => proxy.setRoutes({ canary: v3, weight: 200 })).toThrow(/weight/)
    expect(() => proxy.setRoutes({ canary: { version: 'v3', url: 'not a url' } })).toThrow(/canary\.url/)
    expect(() => proxy.setRoutes({ stable: { version: '', url: v1.url } })).toThrow(/stable\.version/)
    expect(() => proxy.setRoutes({ stable: { version: 'x', url: 'https://example.com' } })).toThrow(/http:/)
    expect(proxy.routes()).toEqual(before)
    expect(proxy.routes()).toEqual({ stable: { version: 'v1', url: v1.url }, canary: { version: 'v2', url: v2.url }, weight: 10 })
  })
})

describe('header routing', () => {
  it('forces the canary with always/true/1 and the stable with never/false/0', async () => {
    const { proxy, url } = await proxyWith({ random: () => 0.5 })
    proxy.setRoutes({ stable: v1, canary: v2, weight: 50 })
    for (const value of ['always', 'true', '1']) {
      expect(await tally(url, 10, { init: { headers: { 'x-sentra-canary': value } } })).toEqual(new Map([['v2', 10]]))
    }
    proxy.setRoutes({ weight: 100 })
    for (const value of ['never', 'false', '0']) {
      expect(await tally(url, 10, { init: { headers: { 'x-sentra-canary': value } } })).toEqual(new Map([['v1', 10]]))
    }
  })

  it('falls back to the stable when "always" asks for a canary that does not exist', async () => {
    const { proxy, url } = await proxyWith()
    proxy.setRoutes({ stable: v1 })
    expect((await call(url, { headers: { 'x-sentra-canary': 'always' } })).body).toBe('v1')
  })

  it('uses a custom header name', async () => {
    const { proxy, url } = await proxyWith({ canaryHeader: 'X-Beta' })
    proxy.setRoutes({ stable: v1, canary: v2, weight: 0 })
    expect((await call(url, { headers: { 'x-beta': 'always' } })).body).toBe('v2')
    expect((await call(url, { headers: { 'x-sentra-canary': 'always' } })).body).toBe('v1')
  })
})

describe('stickiness', () => {
  it('sets the cookie when both versions exist, and honours it afterwards', async () => {
    const draws = sequence([0.1, 0.9])
    const { proxy, url } = await proxyWith({ random: draws })
    proxy.setRoutes({ stable: v1, canary: v2, weight: 50 })
    const first = await call(url)
    expect(first.body).toBe('v2')
    expect(first.setCookie).toEqual(['sentra_canary=v2; Path=/; HttpOnly; SameSite=Lax'])
    // the next draw (0.9) would pick v1, but the cookie wins, and is not set again
    for (let i = 0; i < 5; i++) {
      const again = await call(url, { headers: { cookie: 'theme=dark; sentra_canary=v2' } })
      expect(again.body).toBe('v2')
      expect(again.setCookie).toEqual([])
    }
    expect((await call(url, { headers: { cookie: 'sentra_canary=v1' } })).body).toBe('v1')
  })

  it('ignores and replaces a cookie naming a version that is gone', async () => {
    const { proxy, url } = await proxyWith({ random: () => 0.9 })
    proxy.setRoutes({ stable: v1, canary: v3, weight: 50 })
    const answer = await call(url, { headers: { cookie: 'sentra_canary=v2' } })
    expect(answer.body).toBe('v1')
    expect(answer.setCookie).toEqual(['sentra_canary=v1; Path=/; HttpOnly; SameSite=Lax'])
  })

  it('sets no cookie with a single version, nor when disabled with null', async () => {
    const single = await proxyWith()
    single.proxy.setRoutes({ stable: v1 })
    expect((await call(single.url)).setCookie).toEqual([])

    const { proxy, url } = await proxyWith({ stickyCookie: null, random: sequence([0.1, 0.9]) })
    proxy.setRoutes({ stable: v1, canary: v2, weight: 50 })
    const first = await call(url)
    expect(first).toMatchObject({ body: 'v2', setCookie: [] })
    expect((await call(url, { headers: { cookie: 'sentra_canary=v2' } })).body).toBe('v1')
  })

  it('keeps the upstream\'s own Set-Cookie lines next to ours', async () => {
    const cookies = await startUpstream('c1', (_req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/'])
      res.end('c1')
    })
    try {
      const { proxy, url } = await proxyWith({ random: () => 0.9 })
      proxy.setRoutes({ stable: cookies, canary: v2, weight: 50 })
      expect((await call(url)).setCookie).toEqual(['a=1; Path=/', 'b=2; Path=/', 'sentra_canary=c1; Path=/; HttpOnly; SameSite=Lax'])
    } finally {
      await cookies.close()
    }
  })
})
