import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadGeneratorChoice, NODE_LOAD_GENERATOR, prepareLoadGenerator, type LoadGenerator } from './load-generator.ts'
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

describe('choosing the load generator', () => {
  it.each([
    [undefined, 'default'],
    ['', 'default'],
    ['go', 'go'],
    ['node', 'node'],
  ] as const)('BENCH_LOAD_GENERATOR=%j is %j', (value, expected) => {
    expect(loadGeneratorChoice(value)).toBe(expected)
  })

  it.each(['Go', 'wrk', 'node; rm -rf /', ' go'])('refuses %j', (value) => {
    expect(() => loadGeneratorChoice(value)).toThrow(/BENCH_LOAD_GENERATOR must be go or node/)
  })

  it('falls back to the Node generator when go is missing and nobody asked for it, and says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sentra-loadgen-test-'))
    try {
      const generator = await prepareLoadGenerator('default', dir, { PATH: dir })
      expect(generator).toMatchObject({ name: 'node', args: [NODE_LOAD_GENERATOR.args[0]] })
      expect(generator.note).toMatch(/go is not installed/)
      await expect(prepareLoadGenerator('go', dir, { PATH: dir })).rejects.toThrow(/BENCH_LOAD_GENERATOR=go: go is not installed/)
      expect(await prepareLoadGenerator('node', dir, { PATH: dir })).toEqual(NODE_LOAD_GENERATOR)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe.each(['node', 'go'] as const)('the %s load generator', (name) => {
  let generator: LoadGenerator
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentra-loadgen-test-'))
    generator = await prepareLoadGenerator(name, dir)
    expect(generator.name).toBe(name)
  }, 120_000)
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function runGenerator(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const child = spawn(generator.command, [...generator.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    return { code, out, err }
  }

  async function withServer(handler: (port: number, connections: () => number) => Promise<void>): Promise<void> {
    let connections = 0
    const server = createServer((_req, res) => res.end('ok'))
    server.on('connection', () => connections++)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      await handler(port, () => connections)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  it('runs the warm-up at the rate in the same process, counts only what follows, and reports every connection it opened', async () => {
    await withServer(async (port, connections) => {
      // 100 requests/s: 0.5 s of warm-up is the 50 requests scheduled before it ends
      const { code, out } = await runGenerator(['rate', `http://127.0.0.1:${port}/`, '100', '0.5', '0.5'])
      expect(code).toBe(0)
      const result = JSON.parse(out) as { sent: number; ok: number; failed: number; connections: number; warmupSent: number; latencyUs: number[] }
      expect(result.warmupSent).toBe(50)
      expect(result.sent).toBeGreaterThan(0)
      expect(result.sent).toBeLessThanOrEqual(50)
      expect(result.ok).toBe(result.sent)
      expect(result.latencyUs).toHaveLength(result.sent)
      expect([...result.latencyUs].sort((a, b) => a - b)).toEqual(result.latencyUs)
      expect(result.connections).toBe(connections())
    })
  })

  it('keeps each of its connections busy in the closed loop', async () => {
    await withServer(async (port, connections) => {
      const { code, out } = await runGenerator(['max', `http://127.0.0.1:${port}/`, '3', '0.3'])
      expect(code).toBe(0)
      const result = JSON.parse(out) as { sent: number; ok: number; failed: number; connections: number }
      expect(result.ok).toBeGreaterThan(3)
      expect(result.failed).toBe(0)
      expect(result.connections).toBe(3)
      expect(connections()).toBe(3)
    })
  })

  it('counts requests that find nothing listening as failed', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer()
      probe.listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo
        probe.close(() => resolve(free))
      })
    })
    const { code, out } = await runGenerator(['rate', `http://127.0.0.1:${port}/`, '50', '0.2', '0'])
    expect(code).toBe(0)
    const result = JSON.parse(out) as { sent: number; ok: number; failed: number }
    expect(result.sent).toBeGreaterThan(0)
    expect(result.ok).toBe(0)
    expect(result.failed).toBe(result.sent)
  })

  it.each([
    [['rate', 'http://127.0.0.1:1/', '100', '0.1', '-1'], /warm-up seconds must be/],
    [['rate', 'http://127.0.0.1:1/', 'lots', '0.1'], /amount|number/],
    [['sideways', 'http://127.0.0.1:1/', '1', '0.1'], /unknown mode/],
    [['rate', 'http://127.0.0.1:1/', 'Infinity', '0.1'], /amount/],
    [['rate', 'http://127.0.0.1:1/', '100', 'NaN'], /seconds/],
    [['max', 'http://127.0.0.1:1/', '0', '0.1'], /amount/],
  ])('refuses %j', async (args, message) => {
    const { code, err } = await runGenerator(args)
    expect(code).not.toBe(0)
    expect(err).toMatch(message)
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
      // (through Sentra the warm-up may already have opened every upstream connection the run needs)
      expect(summary[path].atFixedRate.upstreamConnectionsOpened).toBeGreaterThanOrEqual(path === 'direct' ? 1 : 0)
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
    // one latency round (BENCH_ROUNDS=1): every path once, overheads against that round's direct run
    expect(summary.latencyRounds).toHaveLength(1)
    const round = summary.latencyRounds[0]
    expect(round.order[0]).toBe('direct')
    expect(round.p99OverheadMs.sentra).toBeCloseTo(round.p99Ms.sentra - round.p99Ms.direct, 2)
    expect(summary.p99OverheadMedianMs.sentra).toBe(round.p99OverheadMs.sentra)
    expect(summary.targets.p99OverheadAtMost1ms).toBe(round.p99OverheadMs.sentra <= 1)
    expect(['go', 'node']).toContain(summary.settings.loadGenerator)
  }, 60_000)
})
