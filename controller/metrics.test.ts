import { afterEach, describe, expect, it } from 'vitest'
import type { GateEvaluation } from './evaluate.ts'
import { ControllerMetrics, MAX_LABEL_SETS, serveMetrics } from './metrics.ts'

function evaluation(gate: string, verdict: 'PASS' | 'FAIL' | 'INCONCLUSIVE', value: number | null, baseline: number | null): GateEvaluation {
  return {
    gate: { name: gate } as GateEvaluation['gate'],
    verdict: { gate, verdict, value, baseline, reason: 'test', evidence: {} },
    sample: null,
  }
}

async function values(metrics: ControllerMetrics, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)
  return (metric?.values ?? []).map(({ labels, value }) => ({ labels: { ...labels } as Record<string, string | number>, value }))
}

describe('ControllerMetrics', () => {
  it("creates an application's outcome counters at 0 when its rollout is first seen, before any decision, and once", async () => {
    const metrics = new ControllerMetrics()
    expect(await values(metrics, 'sentra_decisions_total')).toEqual([])
    metrics.weight('r1', 'shop', 0)
    const zeros = [
      { labels: { application: 'shop', action: 'ROLLBACK' }, value: 0 },
      { labels: { application: 'shop', action: 'PROMOTE' }, value: 0 },
    ]
    expect(await values(metrics, 'sentra_decisions_total')).toEqual(zeros)
    metrics.knownApplication('shop')
    metrics.evaluated('r2', 'shop', [])
    expect(await values(metrics, 'sentra_decisions_total')).toEqual(zeros)
  })

  it('records verdicts, gate values, decisions and weights with application/gate labels and no rollout id', async () => {
    const metrics = new ControllerMetrics()
    metrics.held(1)
    metrics.weight('r1', 'shop', 20)
    metrics.evaluated('r1', 'shop', [evaluation('errors', 'FAIL', 0.08, 0.01), evaluation('latency', 'INCONCLUSIVE', null, null)])
    metrics.evaluated('r1', 'shop', [evaluation('errors', 'FAIL', 0.09, 0.01)])
    metrics.decided('shop', 'ROLLBACK', 1000, 1250)
    expect(await values(metrics, 'sentra_gate_verdicts_total')).toEqual([
      { labels: { application: 'shop', gate: 'errors', verdict: 'FAIL' }, value: 2 },
      { labels: { application: 'shop', gate: 'latency', verdict: 'INCONCLUSIVE' }, value: 1 },
    ])
    // A null value sets nothing: no made-up zeros.
    expect(await values(metrics, 'sentra_gate_value')).toEqual([
      { labels: { application: 'shop', gate: 'errors', role: 'canary' }, value: 0.09 },
      { labels: { application: 'shop', gate: 'errors', role: 'baseline' }, value: 0.01 },
    ])
    // PROMOTE exists at 0 from the first decision, so increase() in Grafana sees the first one.
    expect(await values(metrics, 'sentra_decisions_total')).toEqual([
      { labels: { application: 'shop', action: 'ROLLBACK' }, value: 1 },
      { labels: { application: 'shop', action: 'PROMOTE' }, value: 0 },
    ])
    expect(await values(metrics, 'sentra_rollout_canary_weight')).toEqual([{ labels: { application: 'shop' }, value: 20 }])
    expect(await values(metrics, 'sentra_rollouts_active')).toEqual([{ labels: {}, value: 1 }])
    const text = await metrics.registry.metrics()
    expect(text).toContain('sentra_time_to_decision_seconds_bucket{le="0.25"} 1')
    expect(text).toContain('sentra_time_to_decision_seconds_sum 0.25')
    expect(text).not.toContain('r1')
    // The controller registry collects no process defaults (the server's does; merging would clash).
    expect(text).not.toContain('process_cpu')
    expect(text).not.toContain('nodejs_')
  })

  it('removes the gauges of a finished rollout; counters stay', async () => {
    const metrics = new ControllerMetrics()
    metrics.weight('r1', 'shop', 60)
    metrics.weight('r2', 'cart', 10)
    metrics.evaluated('r1', 'shop', [evaluation('errors', 'PASS', 0.01, 0.01)])
    metrics.evaluated('r2', 'cart', [evaluation('errors', 'PASS', 0.02, 0.02)])
    expect(metrics.tracking).toBe(2)
    metrics.finished('r1')
    metrics.finished('r1')
    expect(metrics.tracking).toBe(1)
    expect(await values(metrics, 'sentra_rollout_canary_weight')).toEqual([{ labels: { application: 'cart' }, value: 10 }])
    expect((await values(metrics, 'sentra_gate_value')).map((v) => v.labels.application)).toEqual(['cart', 'cart'])
    expect((await values(metrics, 'sentra_gate_verdicts_total')).map((v) => v.labels.application)).toEqual(['shop', 'cart'])
    metrics.finished('r2')
    expect(await values(metrics, 'sentra_rollout_canary_weight')).toEqual([])
    expect(await values(metrics, 'sentra_gate_value')).toEqual([])
  })

  it('caps distinct label sets per metric, then records under "other"; removal frees places', async () => {
    expect(MAX_LABEL_SETS).toBe(500)
    const metrics = new ControllerMetrics({ cap: 3 })
    for (let i = 0; i < 6; i++) {
      metrics.decided(`app${i}`, 'START', 0, 0)
      metrics.evaluated(`r${i}`, `app${i}`, [evaluation(`gate${i}`, 'PASS', 1, 1)])
      metrics.weight(`r${i}`, `app${i}`, i)
    }
    // app0's ROLLBACK and PROMOTE (at 0) and START take the three places; the rest is "other".
    const decisions = await values(metrics, 'sentra_decisions_total')
    expect(decisions.map((d) => `${d.labels.application}/${d.labels.action}`)).toEqual(['app0/ROLLBACK', 'app0/PROMOTE', 'app0/START', 'other/ROLLBACK', 'other/PROMOTE', 'other/START'])
    expect(decisions.at(-1)).toMatchObject({ labels: { action: 'START' }, value: 5 })
    const verdicts = await values(metrics, 'sentra_gate_verdicts_total')
    expect(verdicts.at(-1)).toEqual({ labels: { application: 'other', gate: 'other', verdict: 'PASS' }, value: 3 })
    expect(verdicts).toHaveLength(4)
    // gate_value: app0 canary, app0 baseline, app1 canary; then everything is "other".
    const gateValues = await values(metrics, 'sentra_gate_value')
    expect(gateValues.map((v) => `${v.labels.application}/${v.labels.gate}/${v.labels.role}`)).toEqual([
      'app0/gate0/canary',
      'app0/gate0/baseline',
      'app1/gate1/canary',
      'other/other/baseline',
      'other/other/canary',
    ])
    expect((await values(metrics, 'sentra_rollout_canary_weight')).map((v) => v.labels.application)).toEqual(['app0', 'app1', 'app2', 'other'])
    // "other" stays while any rollout recorded under it is active.
    for (const id of ['r0', 'r3', 'r4']) metrics.finished(id)
    expect((await values(metrics, 'sentra_rollout_canary_weight')).map((v) => v.labels.application)).toEqual(['app1', 'app2', 'other'])
    metrics.finished('r5')
    expect((await values(metrics, 'sentra_rollout_canary_weight')).map((v) => v.labels.application)).toEqual(['app1', 'app2'])
    // Freed places are used by new applications.
    metrics.weight('r9', 'app9', 90)
    expect((await values(metrics, 'sentra_rollout_canary_weight')).map((v) => v.labels.application)).toEqual(['app1', 'app2', 'app9'])
  })

  describe('serveMetrics', () => {
    let close: (() => Promise<void>) | null = null
    afterEach(async () => {
      await close?.()
      close = null
    })

    it('answers GET /metrics on loopback in the Prometheus text format, and nothing else', async () => {
      const metrics = new ControllerMetrics()
      metrics.held(2)
      const served = await serveMetrics(metrics.registry, 0, '127.0.0.1')
      close = served.close
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      const response = await fetch(served.url)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(await response.text()).toContain('sentra_rollouts_active 2')
      expect((await fetch(served.url.replace('/metrics', '/'))).status).toBe(404)
      expect((await fetch(served.url, { method: 'POST' })).status).toBe(405)
    })
  })
})
