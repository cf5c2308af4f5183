import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControllerRuntime } from '../../controller/runtime.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { waitFor } from '../support/rollouts.ts'
import { makeApplication, makeRollout } from '../support/store-fixtures.ts'

const DAY = 24 * 60 * 60 * 1000

/**
 * As `npm run controller` and `npm start` compose it: SENTRA_EVIDENCE_RETENTION_DAYS reaches
 * the runtime, which prunes from its start; the graph says when a rollout's evidence went.
 */
describe("the controller runtime's evidence retention", () => {
  let api: TestApi

  beforeAll(async () => {
    api = await startTestApi('sqlite')
  })
  afterAll(async () => {
    await api?.close()
  })

  async function finishedWithWindow(daysAgo: number): Promise<string> {
    const db = api.store.db
    // No stable version: the runtime's start brings none up (the fixture's spec is not a runnable one).
    const rollout = await makeRollout(db, { application: await makeApplication(db, undefined, null), status: 'PROGRESSING' })
    await api.store.evidence.addWindow({ rolloutId: rollout.id, stepIndex: 1, provider: 'builtin', startAt: new Date(Date.now() - daysAgo * DAY), endAt: new Date(Date.now() - daysAgo * DAY + 5000), canary: { errorRate: 0.01 }, baseline: { errorRate: 0.01 } })
    await api.store.rollouts.update(rollout.id, { status: 'SUCCEEDED', finishedAt: new Date(Date.now() - daysAgo * DAY) })
    return rollout.id
  }
  const windows = async (id: string) => (await api.store.evidence.windowsFor([id]))[0]?.length ?? 0
  const graph = async (id: string) =>
    (await api.gql<{ rollout: { evidencePrunedAt: string | null; windows: { id: string }[] } }>(`query($id: ID!) { rollout(id: $id) { evidencePrunedAt windows(last: 10) { id } } }`, { id: encodeGlobalID('Rollout', id) })).data!.rollout

  it('keeps evidence without a retention, and deletes what expired once it has one', async () => {
    const old = await finishedWithWindow(40)
    const recent = await finishedWithWindow(2)
    const keeping = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false, evidenceRetentionMs: null })
    await keeping.stop()
    expect(await windows(old)).toBe(1)
    expect(await graph(old)).toEqual({ evidencePrunedAt: null, windows: [expect.objectContaining({ id: expect.any(String) })] })

    const pruning = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false, evidenceRetentionMs: 30 * DAY })
    try {
      await waitFor(() => windows(old), (n) => n === 0, { timeoutMs: 10_000, what: 'the expired window deleted' })
      expect(await windows(recent)).toBe(1)
      await waitFor(() => graph(old), (r) => r.evidencePrunedAt !== null, { timeoutMs: 10_000, what: 'evidencePrunedAt in the graph' })
      const pruned = await graph(old)
      expect(pruned.windows).toEqual([])
      expect(Date.now() - Date.parse(pruned.evidencePrunedAt!)).toBeLessThan(60_000)
      expect((await graph(recent)).evidencePrunedAt).toBeNull()
    } finally {
      await pruning.stop()
    }
  })
})
