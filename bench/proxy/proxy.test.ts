import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { cpuMicrosPerRequest, latencyMs, median, nginxConfig, procStatCpuTicks, quantile, verdicts } from './summary.ts'

describe('quantile', () => {
  it.each([
    [[], 0.5, null],
    [[7], 0.99, 7],
    [[1, 2, 3, 4], 0.5, 2.5],
    [[1, 2, 3, 4], 0, 1],
    [[1, 2, 3, 4], 1, 4],
    [[0, 100], 0.99, 99],
  ] as const)('of %j at %d is %j', (sample, q, expected) => {
    expect(quantile(sample, q)).toBe(expected)
  })
})

describe('latencyMs', () => {
  it('turns microseconds into milliseconds with three decimals', () => {
    expect(latencyMs([100, 200, 300, 400, 1_000_000])).toEqual({ p50: 0.3, p99: 960.016, max: 1000 })
    expect(latencyMs([])).toEqual({ p50: null, p99: null, max: null })
  })
})

describe('procStatCpuTicks', () => {
  it('adds utime and stime, whatever the command name holds', () => {
    const tail = ' S 1 2 3 0 -1 4194560 100 0 0 0 250 40 0 0 20 0 1 0 123 456789 100'
    expect(procStatCpuTicks(`4242 (node)${tail}`)).toBe(290)
    expect(procStatCpuTicks(`4242 (nginx: worker (x) y)${tail}`)).toBe(290)
  })

  it('refuses text that is not a stat line', () => {
    expect(() => procStatCpuTicks('nonsense')).toThrow(/unreadable/)
    expect(() => procStatCpuTicks('1 (x) S 1 2')).toThrow(/unreadable/)
  })
})

describe('median', () => {
  it.each([
    [[], null],
    [[0.6], 0.6],
    [[0.7, 0.5, 0.6], 0.6],
    [[0.4, 0.8], 0.6],
  ] as const)('of %j is %j', (values, expected) => {
    if (expected === null) expect(median(values)).toBeNull()
    else expect(median(values)).toBeCloseTo(expected, 10)
  })
})

describe('cpuMicrosPerRequest', () => {
  it('divides CPU time by requests, and knows when it cannot', () => {
    expect(cpuMicrosPerRequest(1500, 10_000)).toBe(150)
    expect(cpuMicrosPerRequest(null, 10_000)).toBeNull()
    expect(cpuMicrosPerRequest(1500, 0)).toBeNull()
  })
})

describe('nginxConfig', () => {
  const base = { prefix: '/tmp/x', port: 8080, stablePort: 9001, canaryPort: 9002, canaryWeight: 10 }

  it('weights the two versions as the canary weight says, with keep-alive upstreams and one worker', () => {
    const conf = nginxConfig(base)
    expect(conf).toContain('server 127.0.0.1:9001 weight=90;')
    expect(conf).toContain('server 127.0.0.1:9002 weight=10;')
    expect(conf).toContain('listen 127.0.0.1:8080;')
    expect(conf).toContain('worker_processes 1;')
    expect(conf).toContain('proxy_set_header Connection "";')
  })

  it.each([0, 100, 10.5, Number.NaN, -1])('refuses a canary weight of %d', (canaryWeight) => {
    expect(() => nginxConfig({ ...base, canaryWeight })).toThrow(RangeError)
  })
})

describe('verdicts', () => {
  it.each([
    [{ p99OverheadMs: 0.4, throughputVsNginx: 0.6 }, { p99OverheadAtMost1ms: true, atLeastHalfOfNginx: true }],
    [{ p99OverheadMs: 1.2, throughputVsNginx: 0.3 }, { p99OverheadAtMost1ms: false, atLeastHalfOfNginx: false }],
    [{ p99OverheadMs: null, throughputVsNginx: null }, { p99OverheadAtMost1ms: null, atLeastHalfOfNginx: null }],
  ])('%j', (input, expected) => {
    expect(verdicts(input)).toEqual(expected)
  })
})

describe('the load generator', () => {
  it('runs the warm-up at the rate in the same process, counts only what follows, and reports every connection it opened', async () => {
    let connections = 0
    const server = createServer((_req, res) => res.end('ok'))
    server.on('connection', () => connections++)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      // 100 requests/s: 0.5 s of warm-up is the 50 requests scheduled before it ends
      const child = spawn(process.execPath, [fileURLToPath(new URL('./load.mjs', import.meta.url)), 'rate', `http://127.0.0.1:${port}/`, '100', '0.5', '0.5'], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
      const code = await new Promise((resolve) => child.once('exit', resolve))
      expect(code).toBe(0)
      const result = JSON.parse(out) as { sent: number; ok: number; failed: number; connections: number; warmupSent: number; latencyUs: number[] }
      expect(result.warmupSent).toBe(50)
      expect(result.sent).toBeGreaterThan(0)
      expect(result.sent).toBeLessThanOrEqual(50)
      expect(result.ok).toBe(result.sent)
      expect(result.latencyUs).toHaveLength(result.sent)
      expect(result.connections).toBe(connections)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('refuses a negative warm-up', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./load.mjs', import.meta.url)), 'rate', 'http://127.0.0.1:1/', '100', '0.1', '-1'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')))
    expect(await new Promise((resolve) => child.once('exit', resolve))).not.toBe(0)
    expect(err).toMatch(/warm-up seconds must be >= 0/)
  })
})

describe('the proxy benchmark, end to end at a tiny load', () => {
  it('measures the direct path and Sentra, and nginx or says why not', async () => {
    process.env.BENCH_SECONDS = '1'
    process.env.BENCH_RATE = '100'
    process.env.BENCH_CONNECTIONS = '4'
    process.env.BENCH_ROUNDS = '1'
    const { run } = await import('./index.ts')
    const summary = (await run()) as Record<string, any>
    expect(summary.benchmark).toBe('proxy')
    for (const path of ['direct', 'sentra']) {
      expect(summary[path].atFixedRate.sent).toBeGreaterThan(50)
      expect(summary[path].atFixedRate.failed).toBe(0)
      expect(summary[path].maxThroughput.requestsPerSecond).toBeGreaterThan(0)
      expect(summary[path].atFixedRate.latencyMs.p99).toBeGreaterThan(0)
      // the load generator's connections, and the upstreams' count of what the path opened
      expect(summary[path].atFixedRate.clientConnectionsOpened).toBeGreaterThan(0)
      expect(summary[path].atFixedRate.upstreamConnectionsOpened).toBeGreaterThan(0)
      expect(summary[path].maxThroughput.upstreamConnectionsOpened).toBeGreaterThanOrEqual(0)
    }
    // the direct path's connections are the upstream's: each counted once, at both ends
    expect(summary.direct.atFixedRate.upstreamConnectionsOpened).toBe(summary.direct.atFixedRate.clientConnectionsOpened)
    if ('skipped' in summary.nginx) expect(summary.nginx.skipped).toMatch(/nginx/)
    else {
      expect(summary.nginx.maxThroughput.requestsPerSecond).toBeGreaterThan(0)
      expect(summary.pairedThroughput).toHaveLength(1)
      expect(summary.sentraThroughputVsNginx).toBe(summary.pairedThroughput[0].ratio)
    }
    expect(typeof summary.targets.p99OverheadAtMost1ms).toBe('boolean')
  }, 60_000)
})
