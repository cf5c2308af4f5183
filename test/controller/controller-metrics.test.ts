import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ControllerMetrics } from '../../controller/metrics.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startLoad } from '../../controller/demo/load.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { prometheusExpressions } from '../support/grafana.ts'
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 90_000 })

interface VectorResult {
  metric: Record<string, string>
  value: [number, string]
}

/**
 * Composed as embedded.ts composes it: the controller's metrics served in the API's /metrics
 * (read-token protected), scraped by a real Prometheus while a bad version is rolled back.
 */
describe("Sentra's own metrics of the analysis, scraped by a real Prometheus", () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let prometheus: RunningPrometheus
  let load: ReturnType<typeof startLoad> | null = null
  const metrics = new ControllerMetrics()

  async function query(expr: string): Promise<VectorResult[]> {
    const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)
    const body = (await response.json()) as { status: string; data: { result: VectorResult[] } }
    expect(body.status).toBe('success')
    return body.data.result
  }
  async function start(version: string): Promise<string> {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "metered", version: $v) { id } }`, { v: version }, api.tokens.operate)
    expect(started.errors).toBeUndefined()
    return started.data!.startRollout.id
  }
  const until = (id: string, statuses: string[]) =>
    waitFor(
      async () => (await api.gql<{ rollout: { status: string } }>(`query($id: ID!) { rollout(id: $id) { status } }`, { id })).data!.rollout.status,
      (status) => statuses.includes(status),
      { timeoutMs: 45_000, what: `rollout ${statuses.join('/')}` },
    )

  beforeAll(async () => {
    api = await startTestApi('sqlite', { extraRegistries: [metrics.registry] })
    const port = await freePort()
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false, metrics })
    expect(runtime.metrics).toBe(metrics)
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec('metered', port) })
    expect(applied.errors).toBeUndefined()
    const target = new URL(api.url)
    prometheus = await startPrometheus([target.host], {}, { bearerToken: api.tokens.read, metricsPath: '/metrics' })
    expect(await until(await start('v1'), ['SUCCEEDED'])).toBe('SUCCEEDED')
    // The outcome counters exist at 0 from v1's decision on; increase() sees the coming rollback
    // only if a scrape saw that 0 first (v2's START and first weight now come in one go, so its
    // rollback can follow v1's deploy within a scrape interval).
    await waitFor(
      () => query('sentra_decisions_total{application="metered",action="ROLLBACK",job="sentra-test"}'),
      (result) => result.length > 0,
      { timeoutMs: 15_000, everyMs: 250, what: 'a scrape with the ROLLBACK counter at 0' },
    )
    load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: 40 })
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await prometheus?.stop()
    await api?.close()
  })

  it('serves both registries at the API /metrics, behind the read token, without duplicate metrics', async () => {
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401)
    const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.tokens.read}` } })
    expect(response.status).toBe(200)
    const text = await response.text()
    for (const name of ['sentra_http_requests_total', 'sentra_process_cpu_seconds_total', 'sentra_rollouts_active', 'sentra_decisions_total', 'sentra_controller_tick_duration_seconds', 'sentra_controller_tick_lag_seconds']) {
      expect(text).toContain(`# TYPE ${name} `)
    }
    const types = text.split('\n').filter((line) => line.startsWith('# TYPE '))
    expect(new Set(types).size).toBe(types.length)
  })

  it('shows a rollback of a bad version: decisions, failing verdicts, latencies, and no lingering gauges', async () => {
    // The weight gauge lives only while the rollout runs: watch the API's /metrics meanwhile.
    const weightsSeen = new Set<string>()
    let watching = true
    const watcher = (async () => {
      while (watching) {
        const text = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.tokens.read}` } }).then((r) => r.text())
        for (const match of text.matchAll(/^sentra_rollout_canary_weight\{application="metered"\} (\S+)$/gm)) weightsSeen.add(match[1]!)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    const id = await start('v2')
    const status = await until(id, ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED']).finally(() => (watching = false))
    await watcher
    expect(status).toBe('ROLLED_BACK')
    expect(weightsSeen).toContain('20')
    // Prometheus scrapes every second; wait for a scrape that saw the rollback.
    const rollbacks = await waitFor(
      () => query('sentra_decisions_total{application="metered",action="ROLLBACK",job="sentra-test"}'),
      (result) => result.length > 0 && Number(result[0]!.value[1]) >= 1,
      { timeoutMs: 15_000, everyMs: 500, what: 'the ROLLBACK decision in Prometheus' },
    )
    expect(rollbacks[0]!.metric).toMatchObject({ application: 'metered', action: 'ROLLBACK' })
    expect(rollbacks[0]!.metric).not.toHaveProperty('rollout')
    const failed = await query('sum by (application, gate) (sentra_gate_verdicts_total{verdict="FAIL"})')
    expect(failed.length).toBeGreaterThan(0)
    expect(failed.every((r) => r.metric.application === 'metered')).toBe(true)
    expect(failed.reduce((sum, r) => sum + Number(r.value[1]), 0)).toBeGreaterThanOrEqual(1)
    const decided = await query('sentra_time_to_decision_seconds_count')
    expect(Number(decided[0]?.value[1] ?? 0)).toBeGreaterThanOrEqual(4)
    expect(Number((await query('sentra_controller_tick_duration_seconds_count'))[0]?.value[1] ?? 0)).toBeGreaterThan(0)
    expect(Number((await query('sentra_bus_publish_duration_seconds_count'))[0]?.value[1] ?? 0)).toBeGreaterThan(0)
    // Gauges of the finished rollout are gone from the exposition (Prometheus marks them stale).
    const exposition = await metrics.registry.metrics()
    expect(exposition).not.toMatch(/sentra_rollout_canary_weight\{/)
    expect(exposition).not.toMatch(/sentra_gate_value\{/)
    expect(exposition).toContain('sentra_rollouts_active 0')
    // (Whether a scrape caught the gauges in between depends on timing: a first failing
    // window rolls back within milliseconds, so Prometheus is not asked about them.)
  })

  it("answers every query of the Grafana dashboard (deploy/grafana), with data for the analysis panels", async () => {
    for (const { title, expr } of prometheusExpressions()) {
      const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)
      const body = (await response.json()) as { status: string; error?: string }
      expect(body.error, title).toBeUndefined()
      expect(body.status, title).toBe('success')
    }
    // After the rollback above, the panels about it have something to show.
    for (const expr of ['sum(increase(sentra_decisions_total{action="ROLLBACK",application=~".*"}[1h]))', 'sum(rate(sentra_http_requests_total[1m]))']) {
      const result = await waitFor(() => query(expr), (r) => r.length > 0, { timeoutMs: 15_000, everyMs: 500, what: expr })
      expect(Number(result[0]!.value[1]), expr).toBeGreaterThan(0)
    }
  })
})
