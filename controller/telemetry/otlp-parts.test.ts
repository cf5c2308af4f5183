import { describe, expect, it } from 'vitest'
import { readConfig } from '../../server/config.ts'
import { OtlpAggregator } from './otlp-aggregate.ts'
import { bucketOf, bucketUpperMs, BUCKET_COUNT, quantileSeconds } from './otlp-histogram.ts'
import { LinkedTraceKeeper, type ActiveRollout } from './otlp-keep.ts'
import { type DecodedSpan, isErrorLog, STATUS_ERROR } from './otlp-model.ts'
import { type FinishedTrace, TraceAssembler } from './otlp-traces.ts'

function span(traceId: string, spanId: string, patch: Partial<DecodedSpan> = {}): DecodedSpan {
  return { traceId, spanId, parentSpanId: null, name: 'GET /', kind: 'server', startMs: 1000, endMs: 1030, attributes: {}, statusCode: 0, statusMessage: '', ...patch }
}

function traceId(n: number): string {
  return n.toString(16).padStart(32, '0')
}

describe('span duration histogram', () => {
  it('puts durations in buckets within 10 % and reads quantiles as bucket upper bounds', () => {
    for (const ms of [0.05, 0.1, 0.11, 1, 20, 199.9, 250, 3_000_000]) {
      const b = bucketOf(ms)
      expect(bucketUpperMs(b)).toBeGreaterThanOrEqual(Math.min(ms, bucketUpperMs(BUCKET_COUNT - 1)))
      if (b > 0 && b < BUCKET_COUNT - 1) expect(bucketUpperMs(b - 1)).toBeLessThan(ms)
    }
    expect(bucketOf(-5)).toBe(0)
    expect(bucketOf(Number.NaN)).toBe(0)
    expect(bucketOf(1e12)).toBe(BUCKET_COUNT - 1)
    const h = new Map<number, number>()
    for (let i = 1; i <= 100; i += 1) h.set(bucketOf(i), (h.get(bucketOf(i)) ?? 0) + 1)
    const p95 = quantileSeconds(h, 0.95)!
    expect(p95).toBeGreaterThanOrEqual(0.095)
    expect(p95).toBeLessThan(0.095 * 1.1)
    expect(quantileSeconds(new Map(), 0.95)).toBeNull()
  })
})

describe('error log records', () => {
  it('are severity 17 and above, or ERROR/FATAL text', () => {
    expect(isErrorLog({ severityNumber: 17, severityText: '' })).toBe(true)
    expect(isErrorLog({ severityNumber: 24, severityText: '' })).toBe(true)
    expect(isErrorLog({ severityNumber: 13, severityText: 'WARN' })).toBe(false)
    expect(isErrorLog({ severityNumber: 0, severityText: 'error' })).toBe(true)
    expect(isErrorLog({ severityNumber: 9, severityText: 'FATAL' })).toBe(true)
    expect(isErrorLog({ severityNumber: 0, severityText: 'information' })).toBe(false)
  })
})

describe('TraceAssembler', () => {
  function assembler(options: Partial<ConstructorParameters<typeof TraceAssembler>[0]> = {}) {
    const aggregator = new OtlpAggregator()
    const candidates: FinishedTrace[] = []
    const a = new TraceAssembler({ aggregator, onCandidate: (t) => candidates.push(t), rootGraceMs: 1000, orphanMs: 5000, ...options })
    const counts = () => aggregator.take().reduce((n, s) => ({ traces: n.traces + s.traces, errorTraces: n.errorTraces + s.errorTraces }), { traces: 0, errorTraces: 0 })
    return { a, candidates, counts }
  }
  const at = 10_000

  it('counts a trace once per application and version, an error trace when one of its own spans failed', () => {
    const { a, counts } = assembler()
    a.add({ span: span(traceId(1), 'a'.repeat(16), { parentSpanId: 'b'.repeat(16), statusCode: STATUS_ERROR }), application: 'shop', version: 'v1', atMs: at }, false, 0)
    a.add({ span: span(traceId(1), 'c'.repeat(16), { parentSpanId: 'b'.repeat(16) }), application: 'pay', version: 'v7', atMs: at }, false, 0)
    a.add({ span: span(traceId(1), 'b'.repeat(16)), application: 'shop', version: 'v1', atMs: at }, false, 0)
    a.sweep(999)
    expect(a.pending).toBe(1)
    a.sweep(1000)
    expect(a.pending).toBe(0)
    expect(counts()).toEqual({ traces: 2, errorTraces: 1 })
  })

  it('counts a trace with no root after the orphan delay, and a late span never counts it twice', () => {
    const { a, counts } = assembler()
    a.add({ span: span(traceId(2), 'a'.repeat(16), { parentSpanId: 'f'.repeat(16) }), application: 'shop', version: 'v1', atMs: at }, false, 0)
    a.sweep(4999)
    expect(a.pending).toBe(1)
    a.sweep(5000)
    expect(counts()).toEqual({ traces: 1, errorTraces: 0 })
    // A straggler with an error: the trace becomes an error trace, still one trace.
    a.add({ span: span(traceId(2), 'b'.repeat(16), { parentSpanId: 'f'.repeat(16), statusCode: STATUS_ERROR }), application: 'shop', version: 'v1', atMs: at }, false, 6000)
    expect(a.pending).toBe(0)
    expect(counts()).toEqual({ traces: 0, errorTraces: 1 })
  })

  it('stays within its bounds: oldest traces finish early, held spans are capped', () => {
    const { a, candidates, counts } = assembler({ maxPending: 3, maxHeldSpans: 4, maxSpansPerTrace: 2 })
    for (let i = 0; i < 10; i += 1) {
      for (let s = 0; s < 3; s += 1) a.add({ span: span(traceId(100 + i), `${s + 1}`.repeat(16), { parentSpanId: 'f'.repeat(16) }), application: 'shop', version: 'v1', atMs: at }, true, 0)
    }
    expect(a.pending).toBeLessThanOrEqual(3)
    expect(a.heldSpans).toBeLessThanOrEqual(4)
    a.finishAll()
    expect(counts().traces).toBe(10)
    expect(a.heldSpans).toBe(0)
    expect(candidates.every((c) => c.spans.length <= 2 && c.spanCount === 3)).toBe(true)
  })
})

describe('LinkedTraceKeeper', () => {
  const rollout: ActiveRollout = { id: 'r1', stepIndex: 1, fromVersion: 'v1', toVersion: 'v2' }
  function finished(n: number, version: string, error: boolean, durationMs: number): FinishedTrace {
    const root = { span: span(traceId(n), 'a'.repeat(16), { startMs: 0, endMs: durationMs, statusCode: error ? STATUS_ERROR : 0 }), application: 'shop', version, atMs: 0 }
    return { traceId: traceId(n), parts: [{ application: 'shop', version, error, atMs: 0 }], root, spans: [root], spanCount: 1 }
  }

  it('keeps every error trace up to the cap at once, and the slowest healthy ones when the window ends', () => {
    const keeper = new LinkedTraceKeeper((app) => (app === 'shop' ? rollout : null), { errorTraces: 3, slowest: 2, windowMs: 10_000 })
    for (let i = 0; i < 5; i += 1) keeper.consider(finished(i, 'v2', true, 10), 1000)
    for (let i = 0; i < 20; i += 1) keeper.consider(finished(100 + i, 'v2', false, i), 1000)
    keeper.consider(finished(200, 'v9', true, 10), 1000)
    const now = keeper.take(2000)
    expect(now.map((t) => t.error)).toEqual([true, true, true])
    const later = keeper.take(10_000)
    expect(later.map((t) => t.durationMs).sort((a, b) => a - b)).toEqual([18, 19])
    expect(later.every((t) => t.rolloutId === 'r1' && t.stepIndex === 1 && t.version === 'v2' && t.source === 'otlp' && t.spans.length === 1)).toBe(true)
  })

  it('drops traces past its queue and window bounds, counting them', () => {
    const keeper = new LinkedTraceKeeper(() => rollout, { errorTraces: 100, maxQueued: 2, maxWindows: 1 })
    for (let i = 0; i < 4; i += 1) keeper.consider(finished(i, 'v2', true, 10), 0)
    keeper.consider(finished(9, 'v1', true, 10), 0)
    expect(keeper.take(0)).toHaveLength(2)
    expect(keeper.dropped).toBe(2)
  })
})

describe('SENTRA_OTLP_MAX_BYTES', () => {
  it('defaults to 4 MiB and refuses values that are not a byte count in range', () => {
    expect(readConfig({}).otlpMaxBytes).toBe(4 * 1024 * 1024)
    expect(readConfig({ SENTRA_OTLP_MAX_BYTES: '65536' }).otlpMaxBytes).toBe(65536)
    for (const bad of ['12', '1e6', '-5', 'lots', String(128 * 1024 * 1024)]) {
      expect(() => readConfig({ SENTRA_OTLP_MAX_BYTES: bad })).toThrow(/SENTRA_OTLP_MAX_BYTES: ".*" must be a whole number of bytes from 1024 to 67108864/)
    }
  })
})
