/**
 * The OTLP receiver against the real OpenTelemetry JS SDK exporters (protobuf and JSON over
 * HTTP, with and without gzip) sending to a real Sentra server: counts per version, the
 * built-in provider's OTLP signals, and linked traces of an active rollout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinProvider } from '../../controller/telemetry/builtin.ts'
import type { WindowQuery } from '../../controller/telemetry/provider.ts'
import type { GateSpec } from '../../schema/spec.ts'
import { DIALECTS } from '../support/databases.ts'
import { exportLogs, exportSpans, recordLogs, recordSpans, requests, startOtlpServer, type OtlpTestServer } from './support.ts'

const SUCCESS = 0

function gate(signal: string): GateSpec {
  return { name: signal, signal, judge: { kind: 'threshold', max: 1 } } as unknown as GateSpec
}

describe.each(DIALECTS)('OTLP receiver with the OpenTelemetry SDK exporters, on %s', (dialect) => {
  let t: OtlpTestServer
  const since = Date.now() - 60_000

  beforeAll(async () => {
    // Applications and rollouts are looked up afresh for every payload, so a rollout made by the test is seen at once.
    t = await startOtlpServer(dialect, { applicationTtlMs: 0, keep: { windowMs: 1e12 } })
  })
  afterAll(async () => {
    await t?.close()
  })

  async function settle(): Promise<void> {
    // Grouping waits for stragglers; the test does not need to.
    await t.server.otlp!.settle()
  }

  async function window(version: string) {
    return (await t.store.otlp.window('shop', [version], since, Date.now() + 60_000)).get(version)
  }

  it('counts spans, traces and error traces per version from the protobuf exporter', async () => {
    const spans = recordSpans('shop', 'v1', (tracer) => requests(tracer, 40, 2))
    expect(await exportSpans(t.url, t.tokens.operate, spans, 'proto')).toEqual({ code: SUCCESS })
    await settle()
    const v1 = await window('v1')
    expect(v1).toMatchObject({ spans: 80, errorSpans: 4, traces: 40, errorTraces: 2, logs: 0 })
    // Only entry spans (the SERVER roots) are in the duration histogram.
    expect([...v1!.durations.values()].reduce((a, b) => a + b, 0)).toBe(40)
  })

  it('accepts the JSON exporter and gzip the same way', async () => {
    const json = recordSpans('shop', 'v2', (tracer) => requests(tracer, 20, 5, () => 200))
    expect(await exportSpans(t.url, t.tokens.operate, json, 'json')).toEqual({ code: SUCCESS })
    const gzipped = recordSpans('shop', 'v2', (tracer) => requests(tracer, 20, 5, () => 200))
    expect(await exportSpans(t.url, t.tokens.admin, gzipped, 'proto', 'gzip')).toEqual({ code: SUCCESS })
    await settle()
    expect(await window('v2')).toMatchObject({ spans: 80, errorSpans: 20, traces: 40, errorTraces: 10 })
  })

  it('counts log records and error log records from both log exporters', async () => {
    expect(await exportLogs(t.url, t.tokens.operate, recordLogs('shop', 'v1', 30, 3), 'proto')).toEqual({ code: SUCCESS })
    expect(await exportLogs(t.url, t.tokens.operate, recordLogs('shop', 'v2', 10, 4), 'json')).toEqual({ code: SUCCESS })
    await settle()
    expect(await window('v1')).toMatchObject({ logs: 30, errorLogs: 3 })
    expect(await window('v2')).toMatchObject({ logs: 10, errorLogs: 4 })
  })

  it('answers traceErrorRate, spanDurationP95 and logErrorRatio with counts through the built-in provider, and no data for a silent version', async () => {
    const provider = new BuiltinProvider(() => undefined, t.store.otlp)
    const query: WindowQuery = {
      application: 'shop',
      canaryVersion: 'v2',
      baselineVersion: 'v1',
      start: new Date(since),
      end: new Date(Date.now() + 1000),
      canaryWeight: 10,
      gates: [gate('traceErrorRate'), gate('spanDurationP95'), gate('logErrorRatio')],
    }
    const sample = await provider.sample(query, AbortSignal.timeout(10_000))
    expect(sample.canary.values).toMatchObject({ traceErrorRate: 0.25, 'traceErrorRate.errors': 10, 'traceErrorRate.total': 40, logErrorRatio: 0.4, 'logErrorRatio.total': 10 })
    expect(sample.baseline.values).toMatchObject({ traceErrorRate: 0.05, logErrorRatio: 0.1 })
    // 200 ms roots for v2, 20-59 ms for v1: the quantiles are within a 10 % bucket.
    expect(sample.canary.values.spanDurationP95).toBeGreaterThanOrEqual(0.2)
    expect(sample.canary.values.spanDurationP95).toBeLessThan(0.22)
    expect(sample.baseline.values.spanDurationP95).toBeGreaterThanOrEqual(0.057)
    expect(sample.baseline.values.spanDurationP95).toBeLessThan(0.065)
    // Proxy signals are no data here (no proxy), with the reason.
    expect(sample.canary.values.errorRate).toBeNull()

    const silent = await provider.sample({ ...query, canaryVersion: 'v7' }, AbortSignal.timeout(10_000))
    expect(silent.canary.values.traceErrorRate).toBeNull()
    expect(silent.canary.values.spanDurationP95).toBeNull()
    expect(silent.canary.values.logErrorRatio).toBeNull()
    expect(silent.canary.reasons?.traceErrorRate).toMatch(/no traces of shop v7 reached the OTLP receiver/)
  })

  it('keeps error traces and the slowest traces of an active rollout as linked traces, with their spans', async () => {
    const app = (await t.store.applications.byName('shop'))!
    await t.store.applications.setStableVersion(app.id, 'v1')
    const rollout = await t.store.rollouts.create({ application: (await t.store.applications.byName('shop'))!, toVersion: 'v3', steps: [] })
    // 30 requests of the canary, 3 failing; durations rise so "slowest" is well defined.
    const spans = recordSpans('shop', 'v3', (tracer) => requests(tracer, 30, 3, (i) => 10 + i * 10))
    expect(await exportSpans(t.url, t.tokens.operate, spans, 'proto')).toEqual({ code: SUCCESS })
    // A trace of a version that is not part of the rollout is not linked.
    expect(await exportSpans(t.url, t.tokens.operate, recordSpans('shop', 'v9', (tracer) => requests(tracer, 3, 3)), 'json')).toEqual({ code: SUCCESS })
    await settle()
    const page = await t.store.evidence.tracesPage(rollout.id, { first: 100 })
    const traces = page.items.map((item) => item.node)
    const errors = traces.filter((tr) => tr.error)
    expect(errors).toHaveLength(3)
    expect(traces.every((tr) => tr.version === 'v3' && tr.application === 'shop' && tr.source === 'otlp')).toBe(true)
    const slow = traces.filter((tr) => !tr.error)
    // The five slowest healthy traces (durations 10 + 10 i ms, i = 25..29).
    expect(slow.map((tr) => Math.round(tr.durationMs)).sort((a, b) => a - b)).toEqual([260, 270, 280, 290, 300])
    const [spansOfFirst] = await t.store.evidence.spansOf([errors[0]!.id])
    expect(spansOfFirst).toHaveLength(2)
    expect(spansOfFirst!.map((s) => s.kind).sort()).toEqual(['client', 'server'])
    expect(spansOfFirst!.find((s) => s.kind === 'client')).toMatchObject({ status: 'error', service: 'shop' })
    expect(errors[0]).toMatchObject({ rootName: 'GET /checkout', status: 'error', stepIndex: 0 })
  })
})
