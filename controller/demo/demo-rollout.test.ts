/**
 * The demo as `npm start` runs it (controller/demo/spec.ts: sequential gates, adaptive steps),
 * through the real controller, proxy and demo service on SQLite: the bad v2 is rolled back on
 * its e-value within seconds of getting traffic, the good v3 promoted on evidence of
 * non-inferiority, not on timers. Waits generously; asserts outcomes and reasons, never times.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startTestApi, type TestApi } from '../../test/support/api.ts'
import { freePort, waitFor } from '../../test/support/rollouts.ts'
import { startControllerRuntime, type ControllerRuntime } from '../runtime.ts'
import { startLoad } from './load.ts'
import { DEMO_APPLICATION, demoSpec } from './spec.ts'

vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 })

interface View {
  status: string
  decisions: { action: string; reason: string; toWeight: number }[]
}

/** A gate failed by its e-value reaching 1/alpha: the one failure a healthy canary has a bounded chance of. */
const E_VALUE_FAILURE = /failed: .*e-value [\d,.e+]+ ≥ 100 = 1\/alpha/

function isStatisticalRollback(view: View): boolean {
  const rollback = view.decisions.find((d) => d.action === 'ROLLBACK')
  return rollback !== undefined && E_VALUE_FAILURE.test(rollback.reason)
}

describe('the demo spec, end to end', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let load: ReturnType<typeof startLoad> | null = null

  const run = async (version: string, until: string[], timeoutMs: number): Promise<View> => {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($a: String!, $v: String!) { startRollout(application: $a, version: $v) { id } }`, { a: DEMO_APPLICATION, v: version }, api.tokens.operate)
    expect(started.errors).toBeUndefined()
    const id = started.data!.startRollout.id
    return waitFor(
      async () => (await api.gql<{ rollout: View }>(`query($id: ID!) { rollout(id: $id) { status decisions { action reason toWeight } } }`, { id })).data!.rollout,
      (r) => until.includes(r.status),
      { timeoutMs, what: `${version} to reach ${until.join('/')}` },
    )
  }

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    const port = await freePort()
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200 })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: demoSpec({ port }) })
    expect(applied.errors).toBeUndefined()
    expect((await run('v1', ['SUCCEEDED'], 60_000)).status).toBe('SUCCEEDED')
    load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: 100 })
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await api?.close()
  })

  it('rolls the bad v2 back on its e-value', async () => {
    const done = await run('v2', ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'], 120_000)
    expect(done.status).toBe('ROLLED_BACK')
    const rollback = done.decisions.find((d) => d.action === 'ROLLBACK')!
    expect(rollback.reason).toMatch(E_VALUE_FAILURE)
    console.log(`demo v2: ${rollback.reason}`)
  })

  it('promotes the good v3 on evidence of non-inferiority', async () => {
    // A healthy canary is rolled back on an e-value with probability at most alpha (1 % per
    // gate and rollout; docs/sequential.md), so one good rollout in a hundred may be: CI saw
    // v3 rolled back on 7 errors in 505 requests against a baseline that was luckily at 0.1 %.
    // One more good version (v5) after such a rollback makes a false failure of this test at
    // most ~alpha², while a judge that fails good versions still fails it. A pause or any
    // other reason is never retried.
    const good = async (version: string): Promise<View> => {
      const view = await run(version, ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'], 280_000)
      // A false rollback or pause must say why in the CI log, not only that it happened.
      if (view.status !== 'SUCCEEDED') for (const d of view.decisions) console.log(`demo ${version} (${view.status}): ${d.action} → ${d.toWeight} %: ${d.reason}`)
      return view
    }
    let version = 'v3'
    let done = await good(version)
    if (done.status === 'ROLLED_BACK' && isStatisticalRollback(done)) done = await good((version = 'v5'))
    expect(done.status).toBe('SUCCEEDED')
    const passed = done.decisions.filter((d) => d.reason.startsWith('analysis passed'))
    expect(passed.length).toBeGreaterThan(0)
    expect(passed[0]!.reason).toMatch(/errors: canary error rate ≤ baseline \+ 1 pp and (≤ ×5 the baseline \(ratio at most ×[\d.]+\)|below the 0\.1 % floor) with 99 % confidence after [\d,]+ canary requests/)
    expect(passed[0]!.reason).toMatch(/latency: .*not ×1\.5 slower/)
    for (const d of done.decisions) console.log(`demo ${version}: ${d.action} → ${d.toWeight} %: ${d.reason}`)
  })
})
