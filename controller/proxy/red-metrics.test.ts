import { describe, expect, it } from 'vitest'
import { LATENCY_BUCKETS, bucketOf } from './latency-histogram.ts'
import { RedMetrics } from './red-metrics.ts'

const T0 = 1_700_000_000_000 // a whole second, so bucket edges are easy to reason about

describe('RedMetrics', () => {
  it('counts requests and errors (5xx and failures) per version', () => {
    const metrics = new RedMetrics()
    metrics.record('v1', { status: 200 }, 10, T0)
    metrics.record('v1', { status: 404 }, 10, T0)
    metrics.record('v1', { status: 503 }, 10, T0)
    metrics.record('v1', { failed: true }, 10, T0)
    metrics.record('v2', { status: 500 }, 10, T0)
    expect(metrics.window('v1', T0, T0 + 1000)).toMatchObject({ requests: 4, errors: 2 })
    expect(metrics.window('v2', T0, T0 + 1000)).toMatchObject({ requests: 1, errors: 1 })
    expect(metrics.versions().sort()).toEqual(['v1', 'v2'])
  })

  it('reports nulls for a window without requests, and for an unknown version', () => {
    const metrics = new RedMetrics()
    metrics.record('v1', { status: 200 }, 10, T0)
    expect(metrics.window('v1', T0 + 5000, T0 + 10_000)).toEqual({ requests: 0, errors: 0, latencyP50: null, latencyP95: null, latencyP99: null })
    expect(metrics.window('nope', T0, T0 + 1000).latencyP95).toBeNull()
    expect(metrics.window('v1', T0 + 1000, T0).requests).toBe(0)
  })

  it('sums exactly the one-second buckets that overlap [from, to)', () => {
    const metrics = new RedMetrics()
    for (let s = 0; s < 10; s++) for (let n = 0; n <= s; n++) metrics.record('v1', { status: 200 }, 5, T0 + s * 1000 + 500)
    // seconds 2, 3, 4 hold 3 + 4 + 5 requests
    expect(metrics.window('v1', T0 + 2000, T0 + 5000).requests).toBe(12)
    // an edge inside a second includes that whole second: 2..4 again
    expect(metrics.window('v1', T0 + 2999, T0 + 4001).requests).toBe(3 + 4 + 5)
    // the end is exclusive at a second boundary
    expect(metrics.window('v1', T0 + 9000, T0 + 9000).requests).toBe(0)
    expect(metrics.window('v1', T0 + 9000, T0 + 9001).requests).toBe(10)
    expect(metrics.window('v1', T0 - 60_000, T0 + 60_000).requests).toBe(55)
  })

  it('computes percentiles within 10 % of the true values', () => {
    const metrics = new RedMetrics()
    // 1000 requests at 1..1000 ms (p50 = 500, p95 = 950, p99 = 990) plus a tight cluster per version
    for (let ms = 1; ms <= 1000; ms++) metrics.record('spread', { status: 200 }, ms, T0 + (ms % 7) * 1000)
    const spread = metrics.window('spread', T0, T0 + 10_000)
    expect(spread.latencyP50! * 1000).toBeGreaterThan(450)
    expect(spread.latencyP50! * 1000).toBeLessThan(550)
    expect(Math.abs(spread.latencyP95! * 1000 - 950) / 950).toBeLessThan(0.1)
    expect(Math.abs(spread.latencyP99! * 1000 - 990) / 990).toBeLessThan(0.1)

    for (let i = 0; i < 500; i++) {
      metrics.record('fast', { status: 200 }, 5 + (i % 10) / 10, T0)
      metrics.record('slow', { status: 200 }, 150 + (i % 10), T0)
    }
    const fast = metrics.window('fast', T0, T0 + 1000)
    const slow = metrics.window('slow', T0, T0 + 1000)
    expect(fast.latencyP95! * 1000).toBeGreaterThan(4.5)
    expect(fast.latencyP95! * 1000).toBeLessThan(6.5)
    expect(Math.abs(slow.latencyP50! * 1000 - 154.5) / 154.5).toBeLessThan(0.1)
    expect(Math.abs(slow.latencyP95! * 1000 - 159) / 159).toBeLessThan(0.1)
  })

  it('reports a constant latency exactly and clamps the overflow bucket to what was seen', () => {
    const metrics = new RedMetrics()
    for (let i = 0; i < 100; i++) metrics.record('v1', { status: 200 }, 42, T0)
    expect(metrics.window('v1', T0, T0 + 1000)).toMatchObject({ latencyP50: 0.042, latencyP99: 0.042 })
    metrics.record('v2', { failed: true }, 45_000, T0)
    expect(metrics.window('v2', T0, T0 + 1000).latencyP99).toBe(45)
    expect(bucketOf(45_000)).toBe(LATENCY_BUCKETS - 1)
    expect(bucketOf(0)).toBe(0)
    expect(bucketOf(-3)).toBe(0)
  })

  it('keeps bucket edges about 10 % apart from 1 ms to 30 s', () => {
    expect(LATENCY_BUCKETS).toBeGreaterThan(100)
    expect(LATENCY_BUCKETS).toBeLessThan(130)
    // 150 ms and 165 ms (10 % more) land in different buckets
    expect(bucketOf(165)).toBeGreaterThan(bucketOf(150))
  })

  it('stays bounded: 1e6 events over simulated hours keep at most retentionSeconds buckets', () => {
    const metrics = new RedMetrics({ retentionSeconds: 900 })
    const events = 1_000_000
    for (let i = 0; i < events; i++) metrics.record('v1', i % 50 === 0 ? { status: 500 } : { status: 200 }, (i % 300) + 1, T0 + i * 10) // 100/s for ~2.8 h
    expect(metrics.retainedBuckets('v1')).toBe(900)
    const end = T0 + events * 10
    // only the last 900 s are answerable; older seconds were overwritten in place
    expect(metrics.window('v1', T0, end).requests).toBe(90_000)
    expect(metrics.window('v1', end - 60_000, end).requests).toBe(6000)
    expect(metrics.window('v1', end - 60_000, end).errors).toBe(120)
  })

  it('drops events older than the ring, and forget() removes a version', () => {
    const metrics = new RedMetrics({ retentionSeconds: 10 })
    metrics.record('v1', { status: 200 }, 1, T0 + 100_000)
    metrics.record('v1', { status: 200 }, 1, T0) // 100 s before the newest: outside the ring
    expect(metrics.window('v1', T0 - 1000, T0 + 200_000).requests).toBe(1)
    metrics.record('v1', { status: 200 }, 1, T0 + 95_000) // late but within the ring: kept
    expect(metrics.window('v1', T0, T0 + 200_000).requests).toBe(2)
    metrics.forget('v1')
    expect(metrics.versions()).toEqual([])
    expect(metrics.retainedBuckets('v1')).toBe(0)
  })

  it('rejects a nonsensical retention', () => {
    expect(() => new RedMetrics({ retentionSeconds: 0 })).toThrow(/retentionSeconds/)
  })
})
