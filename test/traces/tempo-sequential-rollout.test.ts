/**
 * A sequential Tempo gate rolls a bad version back, end to end through the real controller:
 * the controller runtime and API, the demo service as a process target, and the Tempo
 * stand-in (test/standins/tempo.ts) declared as a provider. The sequential judge reads the
 * gate's per-tick trace counts (`<gate>.errors` / `<gate>.total`, from the per-tick
 * increments evaluate.ts asks the provider for) and fails v2 on its trace error rate.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { DEFAULT_ERROR_QUERY } from '../../controller/telemetry/tempo.ts'
import { parseProviderSpec } from '../../schema/provider-spec.ts'
import { pushVersionTraces } from '../standins/tempo-fixtures.ts'
import { TempoStandin } from '../standins/tempo.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 150_000, hookTimeout: 90_000 })

const APP = 'seqtraced'

describe('a sequential Tempo gate', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let tempo: TempoStandin

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    tempo = await TempoStandin.start()
    // Traces for the next two minutes, as the services would send them: v1 healthy, v2 failing.
    const from = new Date(Date.now() - 5_000)
    const to = new Date(Date.now() + 120_000)
    pushVersionTraces(tempo, { application: APP, version: 'v1', from, to, traces: 1250, errorRatio: 0.01, durationMs: (i) => 40 + (i % 10) })
    pushVersionTraces(tempo, { application: APP, version: 'v2', from, to, traces: 1250, errorRatio: 0.2, durationMs: (i) => 40 + (i % 10) })
    const provider = parseProviderSpec({ name: 'tempo', kind: 'tempo', url: tempo.url, timeout: '5s' })
    if (!provider.ok) throw new Error(JSON.stringify(provider.issues))
    await api.store.providers.upsert(provider.provider)
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false })
    const spec = quickSpec(APP, await freePort(), {
      strategy: { canary: { steps: [{ setWeight: 50 }, { analyze: { min: '3s', max: '90s' } }] } },
      gates: [{ name: 'trace-errors', provider: 'tempo', query: DEFAULT_ERROR_QUERY, judge: { kind: 'sequential', alpha: 0.01 } }],
    })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec })
    expect(applied.errors).toBeUndefined()
  })
  afterAll(async () => {
    await runtime?.stop()
    await tempo?.close()
    await api?.close()
  })

  const run = async (version: string) => {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "${APP}", version: $v) { id } }`, { v: version })
    expect(started.errors).toBeUndefined()
    const id = started.data!.startRollout.id
    const rollout = await waitFor(
      async () => (await api.gql<{ rollout: { status: string; decisions: { action: string; reason: string }[]; gateResults: { gate: string; verdict: string; evidence: Record<string, unknown> }[] } }>(`query($id: ID!) { rollout(id: $id) { status decisions { action reason } gateResults { gate verdict evidence } } }`, { id })).data!.rollout,
      (r) => ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'].includes(r.status),
      { timeoutMs: 120_000, what: `rollout of ${version}` },
    )
    return rollout
  }

  it('rolls v2 back on its trace error rate, judged on per-tick trace counts', async () => {
    // v1 is the first version: an initial deploy, nothing to compare with.
    expect((await run('v1')).status).toBe('SUCCEEDED')
    const bad = await run('v2')
    expect(bad.status).toBe('ROLLED_BACK')
    const rollback = bad.decisions.find((d) => d.action === 'ROLLBACK')!
    expect(rollback.reason).toMatch(/trace-errors failed: canary trace-errors [\d.]+ % vs [\d.]+ % baseline over [\d,]+ canary traces and [\d,]+ baseline traces .*e-value .* ≥ 100 = 1\/alpha/)

    // The failing verdict is the sequential judge's, on counts the Tempo stand-in reported.
    const results = bad.gateResults
    const failed = results.find((r) => r.verdict === 'FAIL')!
    expect(failed.gate).toBe('trace-errors')
    expect(failed.evidence).toMatchObject({ judge: 'sequential', key: 'trace-errors', provider: 'tempo', state: 'regression' })
    const e = failed.evidence as { canaryErrorsTotal: number; canaryRequestsTotal: number; intervals: number }
    expect(e.canaryRequestsTotal).toBeGreaterThan(0)
    expect(e.canaryErrorsTotal / e.canaryRequestsTotal).toBeGreaterThan(0.1)
    expect(e.intervals).toBeGreaterThan(0)
    // Never a PASS on the way there.
    expect(results.some((r) => r.gate === 'trace-errors' && r.verdict === 'PASS')).toBe(false)
  })
})
