import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { parseProviderSpec } from '../../schema/provider-spec.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { ACTIVE_STATUSES } from '../../schema/store/models.ts'
import { openTestStore, TEST_REDIS_URL } from '../support/databases.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'
import { startFaultyPrometheus, type FaultMode, type FaultyPrometheus } from '../standins/prometheus-faults.ts'
import { controllerEnv, startController, type ControllerProcess } from './support.ts'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

const INCONCLUSIVE_LIMIT = 3
const QUERY = 'sum(rate(http_server_requests_total{version="{{version}}",code=~"5.."}[1m]))'

/** What the pause reason should say about each fault, so a person knows what to fix. */
const SAYS: Record<Exclude<FaultMode, 'ok'>, RegExp> = {
  hang: /did not answer|time|abort/i,
  error: /500|internal|fell over/i,
  garbage: /malformed|json|number|not a|shape|expected|invalid/i,
}

/**
 * Issue #9, item 2: a telemetry provider that hangs, answers 500, or answers garbage gives
 * INCONCLUSIVE verdicts, never PASS; after the gate's inconclusive limit the rollout
 * pauses and says why. A well-behaved provider on the same stand-in promotes (the control).
 */
describe('a telemetry provider that hangs, errors or answers garbage', () => {
  let store: Store
  let bus: Bus
  let dispose: () => Promise<void>
  let prometheus: FaultyPrometheus
  let controller: ControllerProcess | null = null
  const rollouts = new Map<FaultMode, string>()

  beforeAll(async () => {
    const opened = await openTestStore('mysql')
    store = createStore(opened.db)
    dispose = opened.dispose
    bus = createBus(TEST_REDIS_URL)
    prometheus = await startFaultyPrometheus()
    for (const mode of ['ok', 'hang', 'error', 'garbage'] as const) {
      const parsed = parseProviderSpec({ name: `faulty-${mode}`, kind: 'prometheus', url: prometheus.url(mode), timeout: '2s' })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      await store.providers.upsert(parsed.provider)
      const name = `provider-${mode}`
      const spec = quickSpec(name, await freePort(), {
        strategy: { canary: { steps: [{ setWeight: 20 }, { analyze: { min: '3s', max: '120s' } }] } },
        gates: [{ name: 'errors', provider: 'prometheus', source: `faulty-${mode}`, query: QUERY, judge: { kind: 'threshold', max: 0.04 } }],
        inconclusiveLimit: INCONCLUSIVE_LIMIT,
      })
      const created = await store.applications.upsert(name, spec)
      await store.applications.setStableVersion(created.id, 'v1')
      rollouts.set(mode, (await beginRollout(store, bus, (await store.applications.byId(created.id))!, 'v3')).id)
    }
    controller = await startController(controllerEnv(opened.url, 5000))
  })
  afterAll(async () => {
    await controller?.stop()
    await prometheus?.close()
    await bus?.close()
    await dispose?.()
  })

  it('promotes on a provider that answers (the control)', async () => {
    onTestFailed(() => console.log(controller?.output().slice(-6000)))
    const id = rollouts.get('ok')!
    const done = await waitFor(() => store.rollouts.byId(id), (r) => r !== null && !ACTIVE_STATUSES.includes(r.status), { what: 'the control rollout', timeoutMs: 120_000 })
    expect(done?.status).toBe('SUCCEEDED')
    expect(prometheus.requests('ok')).toBeGreaterThan(0)
  })

  for (const mode of ['hang', 'error', 'garbage'] as const) {
    it(`${mode}: INCONCLUSIVE every window, then PAUSED with the reason; never PASS`, async () => {
      onTestFailed(() => console.log(controller?.output().slice(-6000)))
      const id = rollouts.get(mode)!
      const paused = await waitFor(() => store.rollouts.byId(id), (r) => r !== null && r.status !== 'PENDING' && r.status !== 'PROGRESSING', {
        what: `the ${mode} rollout to stop progressing`,
        timeoutMs: 120_000,
      })
      expect(paused?.status).toBe('PAUSED')
      expect(prometheus.requests(mode)).toBeGreaterThan(0)

      // A few more ticks' time: a paused rollout stays paused and judges nothing into a pass.
      await new Promise((resolve) => setTimeout(resolve, 3000))
      expect((await store.rollouts.byId(id))?.status).toBe('PAUSED')

      const [results = []] = await store.evidence.gateResultsFor([id])
      expect(results.length).toBeGreaterThanOrEqual(INCONCLUSIVE_LIMIT)
      expect(results.map((g) => g.verdict).filter((v) => v !== 'INCONCLUSIVE')).toEqual([])
      for (const result of results) expect(result.reason, 'each verdict says what went wrong').toMatch(SAYS[mode])

      const [decisions = []] = await store.decisions.for([id])
      expect(decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'PAUSE'])
      expect(Math.max(...decisions.map((d) => d.toWeight))).toBe(20)
      const pause = decisions.at(-1)!
      expect(pause.actor).toBe('controller')
      expect(pause.reason).toMatch(/errors: .* in a row; waiting for a person/)
      expect(pause.reason).toMatch(SAYS[mode])
    })
  }
})
