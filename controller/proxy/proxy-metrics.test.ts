import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RedMetrics, type RequestOutcome } from './red-metrics.ts'
import { call, startProxy, startUpstream, type TestProxy, type TestUpstream } from './test-upstreams.ts'

/** Keeps every raw duration too, so the histogram's percentiles can be checked against exact ones. */
class RecordingMetrics extends RedMetrics {
  raw = new Map<string, number[]>()
  override record(version: string, outcome: RequestOutcome, durationMs: number, atMs?: number): void {
    this.raw.set(version, [...(this.raw.get(version) ?? []), durationMs])
    super.record(version, outcome, durationMs, atMs)
  }
}

/** Exact percentile of samples (nearest rank), in seconds. */
function exact(samplesMs: number[], q: number): number {
  const sorted = [...samplesMs].sort((a, b) => a - b)
  return (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN) / 1000
}

let fast: TestUpstream
let slow: TestUpstream
let started: TestProxy
let metrics: RecordingMetrics

/** Answers after `ms`; `/fail` answers 500. */
const sleeper = (ms: number, version: string) => (req: { url?: string }, res: { statusCode: number; end(body: string): void }) =>
  setTimeout(() => {
    if (req.url === '/fail') res.statusCode = 500
    res.end(version)
  }, ms)

beforeAll(async () => {
  fast = await startUpstream('fast', sleeper(5, 'fast'))
  slow = await startUpstream('slow', sleeper(150, 'slow'))
})
beforeEach(async () => {
  // a fresh proxy (and metrics) per test: windows have one-second resolution, so tests
  // sharing one would see each other's last second
  metrics = new RecordingMetrics()
  started = await startProxy({ metrics })
  started.proxy.setRoutes({ stable: fast, canary: slow, weight: 50 })
})
afterEach(async () => {
  await started?.proxy.close()
})
afterAll(async () => {
  await Promise.all([fast?.close(), slow?.close()])
})

/** `count` requests forced to one version (the header makes counts exact), `concurrency` at a time. */
async function send(force: 'always' | 'never', count: number, path = '/', concurrency = 8): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      await call(started.url + path, { headers: { 'x-sentra-canary': force } })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

describe('RED metrics through the proxy', () => {
  it('records latency per version: percentiles within 10 % of the true ones, 150 ms and 5 ms clearly apart', async () => {
    const from = Date.now()
    await Promise.all([send('always', 100), send('never', 100)])
    const to = Date.now() + 1
    const canary = started.proxy.metrics.window('slow', from, to)
    const stable = started.proxy.metrics.window('fast', from, to)
    expect(canary).toMatchObject({ requests: 100, errors: 0 })
    expect(stable).toMatchObject({ requests: 100, errors: 0 })
    // what the histogram reports vs the exact percentiles of the durations the proxy measured
    for (const [version, stats] of [['slow', canary], ['fast', stable]] as const) {
      const samples = metrics.raw.get(version) ?? []
      expect(samples).toHaveLength(100)
      for (const [q, reported] of [[0.5, stats.latencyP50], [0.95, stats.latencyP95], [0.99, stats.latencyP99]] as const) {
        const truth = exact(samples, q)
        expect(Math.abs(reported! - truth) / truth, `${version} p${q * 100}: ${reported} vs ${truth}`).toBeLessThan(0.1)
      }
    }
    // and those are the upstreams' real speeds. Client, proxy and both upstreams share one
    // event loop here, so the fast tail carries scheduling noise; the medians do not.
    expect(canary.latencyP50!).toBeGreaterThanOrEqual(0.149)
    expect(canary.latencyP50!).toBeLessThan(0.25)
    expect(stable.latencyP50!).toBeGreaterThanOrEqual(0.0049)
    expect(stable.latencyP50!).toBeLessThan(0.05)
    expect(canary.latencyP50! - stable.latencyP50!).toBeGreaterThan(0.1)
    expect(stable.latencyP95!).toBeLessThan(canary.latencyP50!)
  })

  it('records upstream 5xx answers as errors of the version that gave them', async () => {
    const from = Date.now()
    await send('always', 6, '/fail')
    await send('always', 4, '/')
    await send('never', 5, '/')
    const to = Date.now() + 1
    expect(started.proxy.metrics.window('slow', from, to)).toMatchObject({ requests: 10, errors: 6 })
    expect(started.proxy.metrics.window('fast', from, to)).toMatchObject({ requests: 5, errors: 0 })
  })

  it('answers window() only for the seconds asked', async () => {
    const from = Date.now()
    await send('never', 3)
    const to = Date.now() + 1
    expect(started.proxy.metrics.window('fast', from, to).requests).toBe(3)
    expect(started.proxy.metrics.window('fast', to + 1000, to + 5000).requests).toBe(0)
    expect(started.proxy.metrics.versions()).toEqual(['fast'])
  })
})
