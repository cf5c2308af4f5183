import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ProxyListenError, ProxyRegistry } from './registry.ts'
import { call, startUpstream } from './test-upstreams.ts'

const registries: ProxyRegistry[] = []
afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.closeAll()))
})

function registry(): ProxyRegistry {
  const created = new ProxyRegistry({ upstreamTimeoutMs: 5000 })
  registries.push(created)
  return created
}

const LOCAL = { host: '127.0.0.1', port: 0 }

describe('ProxyRegistry', () => {
  it('creates one listening proxy per application and returns the same instance after', async () => {
    const proxies = registry()
    const [a, b] = await Promise.all([proxies.ensure('checkout', LOCAL), proxies.ensure('checkout', LOCAL)])
    expect(a).toBe(b)
    expect(await proxies.ensure('checkout', LOCAL)).toBe(a)
    expect(proxies.get('checkout')).toBe(a)
    const other = await proxies.ensure('search', LOCAL)
    expect(other).not.toBe(a)
    expect(proxies.applications().sort()).toEqual(['checkout', 'search'])
    expect(a.address()?.port).toBeGreaterThan(0)
  })

  it('recreates the proxy on a new address, keeping its routes and metrics', async () => {
    const proxies = registry()
    const v1 = await startUpstream('v1')
    try {
      const first = await proxies.ensure('checkout', LOCAL)
      first.setRoutes({ stable: v1 })
      const firstPort = first.address()!.port
      expect((await call(`http://127.0.0.1:${firstPort}`)).body).toBe('v1')
      expect(await proxies.ensure('checkout', LOCAL)).toBe(first) // same address asked: same proxy

      const free = await freePort()
      const second = await proxies.ensure('checkout', { host: '127.0.0.1', port: free })
      expect(second).not.toBe(first)
      expect(second.address()).toEqual({ host: '127.0.0.1', port: free })
      expect(second.routes().stable).toEqual({ version: 'v1', url: v1.url })
      expect(second.metrics).toBe(first.metrics)
      expect((await call(`http://127.0.0.1:${free}`)).body).toBe('v1')
      await expect(fetch(`http://127.0.0.1:${firstPort}`)).rejects.toThrow() // the old one is closed
      expect(second.metrics.window('v1', 0, Date.now() + 1000).requests).toBe(2)
    } finally {
      await v1.close()
    }
  })

  it('fails clearly when the address is in use, naming the application and the address', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as AddressInfo
    try {
      const proxies = registry()
      const failure = proxies.ensure('checkout', { host: '127.0.0.1', port })
      await expect(failure).rejects.toBeInstanceOf(ProxyListenError)
      await expect(failure).rejects.toThrow(`proxy for application "checkout" cannot listen on 127.0.0.1:${port}: address already in use`)
      await expect(failure).rejects.toMatchObject({ code: 'EADDRINUSE', application: 'checkout', address: { host: '127.0.0.1', port } })
      expect(proxies.get('checkout')).toBeUndefined()
      // once the port is free, the same call succeeds
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
      const proxy = await proxies.ensure('checkout', { host: '127.0.0.1', port })
      expect(proxy.address()?.port).toBe(port)
    } finally {
      if (blocker.listening) await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })

  it('close() and closeAll() stop the proxies and forget them', async () => {
    const proxies = registry()
    const a = await proxies.ensure('a', LOCAL)
    const b = await proxies.ensure('b', LOCAL)
    const aPort = a.address()!.port
    const bPort = b.address()!.port
    await proxies.close('a')
    expect(proxies.get('a')).toBeUndefined()
    await expect(fetch(`http://127.0.0.1:${aPort}`)).rejects.toThrow()
    expect((await call(`http://127.0.0.1:${bPort}`)).status).toBe(503) // still up, nothing routed
    await proxies.closeAll()
    expect(proxies.applications()).toEqual([])
    await expect(fetch(`http://127.0.0.1:${bPort}`)).rejects.toThrow()
    await proxies.close('never-existed') // no-op
  })
})

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}
