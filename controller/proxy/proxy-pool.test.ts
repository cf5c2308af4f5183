/**
 * The upstream connection pool as an upstream sees it: how many connections the proxy opens
 * for a given shape of traffic, counted where they arrive.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { sleep, startProxy, startUpstream, type TestUpstream } from './test-upstreams.ts'
import type { WeightedProxy } from './proxy.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

interface Gated {
  upstream: TestUpstream
  proxy: WeightedProxy
  url: string
  /** TCP connections the upstream has accepted. */
  connections(): number
  /** Sends `count` GETs at once and waits for every answer. */
  burst(count: number): Promise<void>
}

/**
 * A proxy in front of an upstream that holds its answers until a whole burst is in, so a
 * burst of n requests needs n upstream connections at the same moment.
 */
async function gated(options: Parameters<typeof startProxy>[0] = {}): Promise<Gated> {
  let size = 1
  let held: (() => void)[] = []
  let connections = 0
  const upstream = await startUpstream('v1', (req, res) => {
    req.resume()
    held.push(() => res.end('v1'))
    if (held.length < size) return
    const answers = held
    held = []
    for (const answer of answers) answer()
  })
  upstream.server.on('connection', () => connections++)
  const { proxy, url } = await startProxy(options)
  proxy.setRoutes({ stable: upstream })
  cleanups.push(() => proxy.close(), () => upstream.close())
  const burst = async (count: number): Promise<void> => {
    size = count
    const answers = await Promise.all(Array.from({ length: count }, async () => (await fetch(url)).text()))
    expect(answers.every((body) => body === 'v1')).toBe(true)
  }
  return { upstream, proxy, url, connections: () => connections, burst }
}

describe('the upstream connection pool', () => {
  it('reuses one connection for sequential requests, and keeps every connection of a burst for the next burst', async () => {
    const { proxy, connections, burst } = await gated()
    for (let i = 0; i < 20; i++) await burst(1)
    expect(connections()).toBe(1)

    // more than the 64 idle connections the pool used to keep: the ones beyond were closed
    // as the burst ended and opened again by the next one
    await burst(100)
    expect(connections()).toBe(100)
    await burst(100)
    await burst(100)
    expect(connections()).toBe(100)
    expect(proxy.openUpstreamSockets()).toBe(100)
  })

  it('closes what a past burst opened once idle for the timeout, while steady traffic keeps reusing the most recent connection', async () => {
    // an idle timeout well above the pause between requests, so only a stall of a whole second
    // on a busy machine could close the connection in use
    const { proxy, connections, burst } = await gated({ upstreamTimeoutMs: 1_000 })
    await burst(10)
    expect(proxy.openUpstreamSockets()).toBe(10)
    // most recently used first: sequential requests keep taking the same connection, so the
    // other nine carry nothing and time out (taken in turn, all ten would stay open)
    for (let i = 0; i < 200 && proxy.openUpstreamSockets() > 1; i++) {
      await burst(1)
      await sleep(20)
    }
    expect(proxy.openUpstreamSockets()).toBe(1)
    expect(connections()).toBe(10)
  })

  it("stops handing out an idle connection a second before the upstream's announced keep-alive timeout", async () => {
    const { upstream, connections, burst } = await gated()
    // Node answers `Keep-Alive: timeout=4` and closes idle connections after 4 s: the pool
    // hands one out for 3 s of idleness, then opens a new one rather than race that close
    upstream.server.keepAliveTimeout = 4000
    await burst(1)
    await burst(1)
    expect(connections()).toBe(1)
    await sleep(3300)
    await burst(1)
    expect(connections()).toBe(2)
    await burst(1)
    expect(connections()).toBe(2)
  })
})
