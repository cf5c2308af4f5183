import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startLoad } from '../../controller/demo/load.ts'
import { parseProviderSpec } from '../../schema/provider-spec.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.ts'
import { freePort, quickSpec, versionsServed, waitFor } from '../support/rollouts.ts'
import { createServer } from 'node:net'

vi.setConfig({ testTimeout: 150_000, hookTimeout: 90_000 })

/** A run of `count` consecutive free loopback ports, for process-target versions Prometheus scrapes. */
async function freePortRange(count: number): Promise<[number, number]> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = 20_000 + Math.floor(Math.random() * 30_000)
    const ports = Array.from({ length: count }, (_, i) => start + i)
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return [start, start + count - 1]
  }
  throw new Error('no free port range')
}

/**
 * `or vector(0)`: a good version may serve for a minute without one 5xx (0.3 % of 20 requests/s),
 * and until its first one the error series does not exist: the plain ratio is then no data, and
 * 60 inconclusive ticks paused the good v3 (about one run in forty). With it the ratio is 0
 * once the version serves (the total is still no data before that).
 */
const ERROR_RATE = '(sum(rate(http_server_requests_total{version="{{version}}",code=~"5.."}[15s])) or vector(0)) / sum(rate(http_server_requests_total{version="{{version}}"}[15s]))'

/** Decided on Prometheus data alone: the built-in signals play no part here. */
describe('a rollout judged on a real Prometheus', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let prometheus: RunningPrometheus
  let appPort: number
  let load: ReturnType<typeof startLoad> | null = null

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    appPort = await freePort()
    const ports = await freePortRange(6)
    prometheus = await startPrometheus(Array.from({ length: 6 }, (_, i) => `127.0.0.1:${ports[0] + i}`))
    const provider = parseProviderSpec({ name: 'prometheus', kind: 'prometheus', url: prometheus.url, timeout: '5s' })
    if (!provider.ok) throw new Error(JSON.stringify(provider.issues))
    await api.store.providers.upsert(provider.provider)
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, processPorts: ports })
    const spec = quickSpec('metrics', appPort, {
      strategy: { canary: { steps: [{ setWeight: 50 }, { analyze: { min: '15s', max: '90s' } }] } },
      gates: [{ name: 'errors', provider: 'prometheus', query: ERROR_RATE, judge: { kind: 'threshold', max: 0.03 } }],
      inconclusiveLimit: 60,
    })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec })
    expect(applied.errors).toBeUndefined()
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await prometheus?.stop()
    await api?.close()
  })

  const run = async (version: string) => {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "metrics", version: $v) { id } }`, { v: version })
    const id = started.data!.startRollout.id
    return waitFor(
      async () =>
        (await api.gql<{ rollout: { status: string; decisions: { action: string; reason: string }[]; gateResults: { verdict: string; reason: string }[] } }>(
          `query($id: ID!) { rollout(id: $id) { status decisions { action reason } gateResults(last: 3) { verdict reason } } }`,
          { id },
        )).data!.rollout,
      (r) => ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'].includes(r.status),
      { timeoutMs: 120_000, what: `rollout of ${version}` },
    )
  }

  it('rolls back the bad version on the Prometheus error rate and promotes the good one', async () => {
    expect((await run('v1')).status).toBe('SUCCEEDED')
    load = startLoad({ url: `http://127.0.0.1:${appPort}/`, rate: 40 })
    const bad = await run('v2')
    expect(bad.status, JSON.stringify(bad, null, 1)).toBe('ROLLED_BACK')
    expect(bad.decisions.find((d) => d.action === 'ROLLBACK')?.reason).toMatch(/errors failed/)
    expect(await versionsServed(appPort, 10)).toEqual({ v1: 10 })
    const good = await run('v3')
    expect(good.status, JSON.stringify(good, null, 1)).toBe('SUCCEEDED')
    expect(good.gateResults.at(-1)?.verdict).toBe('PASS')
  })
})
