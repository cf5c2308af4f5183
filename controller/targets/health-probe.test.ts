import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_PROBE_MS, MIN_PROBE_MS, probe, probeTimeout } from './health-probe.ts'

describe('probeTimeout', () => {
  it.each([
    ['a wait with long to go', 60_000, MAX_PROBE_MS],
    ['a wait with 700 ms to go', 700, 700],
    ['a wait with 1 ms to go', 1, MIN_PROBE_MS],
    ['a wait already over', -50, MIN_PROBE_MS],
  ])('%s: %s ms left gives %s ms', (_name, left, expected) => {
    expect(probeTimeout(1_000_000 + left, 1_000_000)).toBe(expected)
  })
})

describe('probe', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    // A version that is up but not ready: 503, after a moment.
    server = createServer((_req, res) => setTimeout(() => res.writeHead(503).end(), 30))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it("the last probe of a wait still hears a slow 503 (it was 'no answer within 1 ms')", async () => {
    expect(await probe(url, probeTimeout(Date.now() - 1))).toEqual({ ok: false, detail: 'HTTP 503' })
  })

  it('names a refused connection and an answer that does not come', async () => {
    expect((await probe('http://127.0.0.1:1/healthz', 500)).detail).toBe('ECONNREFUSED')
    expect(await probe(url, 5)).toEqual({ ok: false, detail: 'no answer within 5 ms' })
  })
})
