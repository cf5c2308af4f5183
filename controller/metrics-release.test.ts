import { describe, expect, it } from 'vitest'
import type { GateEvaluation } from './evaluate.ts'
import { ControllerMetrics } from './metrics.ts'

/** finished() counts the rollouts per label set instead of scanning the others (bench/controller). */
function evaluation(gate: string, value: number): GateEvaluation {
  return { gate: { name: gate } as GateEvaluation['gate'], verdict: { gate, verdict: 'PASS', value, baseline: value, reason: 'test', evidence: {} }, sample: null }
}

async function series(metrics: ControllerMetrics, name: string): Promise<string[]> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)
  return (metric?.values ?? []).map((v) => Object.values(v.labels).join('/'))
}

describe('ControllerMetrics.finished with shared label sets', () => {
  it('keeps gauges while another rollout of the same application is tracked, removes them with the last', async () => {
    const metrics = new ControllerMetrics()
    for (const id of ['a', 'b']) {
      metrics.weight(id, 'shop', 25)
      metrics.weight(id, 'shop', 30)
      metrics.evaluated(id, 'shop', [evaluation('errors', 0.01)])
      metrics.evaluated(id, 'shop', [evaluation('errors', 0.02)])
    }
    metrics.finished('a')
    metrics.finished('a')
    expect(await series(metrics, 'sentra_rollout_canary_weight')).toEqual(['shop'])
    expect(await series(metrics, 'sentra_gate_value')).toEqual(['shop/errors/canary', 'shop/errors/baseline'])
    metrics.finished('b')
    expect(await series(metrics, 'sentra_rollout_canary_weight')).toEqual([])
    expect(await series(metrics, 'sentra_gate_value')).toEqual([])
    expect(metrics.tracking).toBe(0)
  })

  it('lets go of thousands of rollouts, under the label cap and above it, and leaves nothing behind', async () => {
    const metrics = new ControllerMetrics({ cap: 50 })
    const ids = Array.from({ length: 5000 }, (_, i) => `r${i}`)
    for (const [i, id] of ids.entries()) {
      metrics.weight(id, `app${i % 2500}`, 10)
      metrics.evaluated(id, `app${i % 2500}`, [evaluation('errors', 0.01), evaluation('latency', 0.2)])
    }
    expect((await series(metrics, 'sentra_rollout_canary_weight')).length).toBeLessThanOrEqual(51)
    for (const id of ids.slice(0, 4999)) metrics.finished(id)
    // r4999 (app2499, recorded as "other") is the last one: only "other" is left.
    expect(await series(metrics, 'sentra_rollout_canary_weight')).toEqual(['other'])
    metrics.finished('r4999')
    expect(await series(metrics, 'sentra_rollout_canary_weight')).toEqual([])
    expect(await series(metrics, 'sentra_gate_value')).toEqual([])
    // Places freed: a new application gets its own label set again.
    metrics.weight('new', 'fresh', 5)
    expect(await series(metrics, 'sentra_rollout_canary_weight')).toEqual(['fresh'])
  })
})
