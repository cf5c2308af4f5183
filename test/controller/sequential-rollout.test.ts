import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startLoad } from '../../controller/demo/load.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 120_000 })

interface View {
  status: string
  decisions: { action: string; reason: string }[]
  gateResults: { verdict: string; reason: string; evidence: { state?: string } }[]
}

/** The sequential judge in the real loop: fast on a bad canary, and "collecting evidence" is not missing data. */
describe('a rollout judged by the sequential test', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let port: number
  let load: ReturnType<typeof startLoad> | null = null

  const run = async (version: string, until: string[]) => {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "seq", version: $v) { id } }`, { v: version })
    const id = started.data!.startRollout.id
    return waitFor(
      async () =>
        (await api.gql<{ rollout: View }>(`query($id: ID!) { rollout(id: $id) { status decisions { action reason } gateResults(last: 5) { verdict reason evidence } } }`, { id })).data!
          .rollout,
      (r) => until.includes(r.status),
      { timeoutMs: 90_000, what: `${version} to reach ${until.join('/')}` },
    )
  }

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    port = await freePort()
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200 })
    const spec = quickSpec('seq', port, {
      // 30 s: a bad canary fails in a few seconds, but with the MariaDB fault suites running
      // alongside it once ended PAUSED under a 12 s limit (why was not recorded; the decisions
      // are printed now).
      strategy: { canary: { steps: [{ setWeight: 30 }, { analyze: { min: '3s', max: '30s' } }] } },
      gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 } }],
      // Far below the ticks a 30 s analysis takes: only real missing data may count toward it.
      inconclusiveLimit: 2,
    })
    expect((await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec })).errors).toBeUndefined()
    expect((await run('v1', ['SUCCEEDED'])).status).toBe('SUCCEEDED')
    load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: 50 })
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await api?.close()
  })

  it('rolls a bad canary back on its e-value', async () => {
    const bad = await run('v2', ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'])
    // Why it ended otherwise, in the CI log.
    if (bad.status !== 'ROLLED_BACK') for (const d of bad.decisions) console.log(`seq v2 (${bad.status}): ${d.action}: ${d.reason}`)
    expect(bad.status).toBe('ROLLED_BACK')
    expect(bad.decisions.find((d) => d.action === 'ROLLBACK')?.reason).toMatch(/e-value/)
  })

  it('keeps collecting evidence on a healthy canary without counting it as missing data', async () => {
    const good = await run('v3', ['PAUSED', 'SUCCEEDED', 'ROLLED_BACK'])
    expect(good.status).not.toBe('ROLLED_BACK')
    const collecting = good.gateResults.filter((g) => g.evidence.state === 'collecting')
    if (good.status === 'PAUSED') {
      // Paused by the analysis time limit, never by the inconclusive limit of 2 windows.
      expect(good.decisions.at(-1)?.reason).not.toMatch(/in a row/)
      expect(collecting.length).toBeGreaterThan(0)
    }
  })
})
