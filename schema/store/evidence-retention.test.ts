import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EvidencePruner } from '../../controller/evidence-retention.ts'
import { RedisLeases, rolloutLeaseName } from '../../controller/leases.ts'
import { DIALECTS, openTestStore, TEST_REDIS_URL } from '../../test/support/databases.ts'
import { makeRollout } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { createStore, type Store } from './index.ts'
import type { Rollout } from './models.ts'

const DAY = 24 * 60 * 60 * 1000
const NOW = Date.parse('2026-11-28T12:00:00.000Z')

describe.each(DIALECTS)('evidence retention on %s', (dialect) => {
  let database: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let store: Store

  beforeAll(async () => {
    database = await openTestStore(dialect)
    db = database.db
    store = createStore(db)
  })
  afterAll(async () => database?.dispose())

  /** A rollout with `ticks` windows and two gate results per window, finished `finishedDaysAgo` ago (null: still running), and a decision. */
  async function rolloutWithEvidence(ticks: number, finishedDaysAgo: number | null): Promise<Rollout> {
    let rollout = await makeRollout(db, { status: 'PROGRESSING' })
    for (let i = 0; i < ticks; i++) {
      const window = await store.evidence.addWindow({ rolloutId: rollout.id, stepIndex: 1, provider: 'builtin', startAt: new Date(NOW - 40 * DAY + i * 5000), endAt: new Date(NOW - 40 * DAY + i * 5000 + 5000), canary: { errorRate: 0.01 }, baseline: { errorRate: 0.01 } })
      await store.evidence.addGateResults(
        ['errors', 'latency'].map((gate) => ({ rolloutId: rollout.id, stepIndex: 1, gate, verdict: 'INCONCLUSIVE' as const, value: 0.01, reason: 'not yet', evidence: {}, windowId: window.id })),
      )
    }
    await store.decisions.append({ rolloutId: rollout.id, seq: rollout.seq + 1, at: new Date(NOW - 40 * DAY), action: 'ROLLBACK', actor: 'controller', reason: 'errors 5 % vs 1 %', stepIndex: 1, fromWeight: 25, toWeight: 0, evidence: { errors: 0.05 } })
    if (finishedDaysAgo !== null) rollout = await store.rollouts.update(rollout.id, { status: 'ROLLED_BACK', finishedAt: new Date(NOW - finishedDaysAgo * DAY) })
    return rollout
  }

  async function evidenceOf(rollout: Rollout): Promise<{ windows: number; gateResults: number; decisions: number }> {
    const [[windows = []], [gateResults = []], [decisions = []]] = await Promise.all([store.evidence.windowsFor([rollout.id]), store.evidence.gateResultsFor([rollout.id]), store.decisions.for([rollout.id])])
    return { windows: windows.length, gateResults: gateResults.length, decisions: decisions.length }
  }

  it('lists finished rollouts past the cutoff, oldest first, and none still running or within it', async () => {
    const older = await rolloutWithEvidence(1, 45)
    const old = await rolloutWithEvidence(1, 31)
    const recent = await rolloutWithEvidence(1, 29)
    const running = await rolloutWithEvidence(1, null)
    const listed = await store.evidence.rolloutsToPrune(new Date(NOW - 30 * DAY), 100)
    expect(listed.filter((id) => [older.id, old.id, recent.id, running.id].includes(id))).toEqual([older.id, old.id])
    expect(await store.evidence.rolloutsToPrune(new Date(NOW - 30 * DAY), 1)).toHaveLength(1)
  })

  it('deletes in chunks of at most the limit per table, then nothing is left; a marked rollout is not listed again', async () => {
    const rollout = await rolloutWithEvidence(7, 40)
    expect(await evidenceOf(rollout)).toEqual({ windows: 7, gateResults: 14, decisions: 1 })
    expect(await store.evidence.deleteEvidenceChunk(rollout.id, 5)).toBe(10)
    expect(await evidenceOf(rollout)).toEqual({ windows: 2, gateResults: 9, decisions: 1 })
    expect(await store.evidence.deleteEvidenceChunk(rollout.id, 5)).toBe(7)
    expect(await store.evidence.deleteEvidenceChunk(rollout.id, 5)).toBe(4)
    expect(await store.evidence.deleteEvidenceChunk(rollout.id, 5)).toBe(0)
    expect(await evidenceOf(rollout)).toEqual({ windows: 0, gateResults: 0, decisions: 1 })
    await store.evidence.markEvidencePruned(rollout.id, new Date(NOW))
    expect(await store.evidence.rolloutsToPrune(new Date(NOW), 1000)).not.toContain(rollout.id)
  })

  it('the pruner deletes the windows, gate results, lease and fence rows and Redis fencing counter of expired rollouts only, and keeps decisions, the chain and the rollout', async () => {
    const expired = await rolloutWithEvidence(3, 31)
    const kept = await rolloutWithEvidence(3, 29)
    const running = await rolloutWithEvidence(3, null)
    // Each held once by a controller: an expired lease row and a fence row in the store, a fencing counter in Redis.
    const redis = new RedisLeases(TEST_REDIS_URL, { prefix: `sentra-test-${randomBytes(4).toString('hex')}:` })
    for (const rollout of [expired, kept]) {
      const name = rolloutLeaseName(rollout.id)
      await store.leases.acquire(name, 'controller-a', 1000, NOW - 31 * DAY)
      await store.leases.takeFence(name, 'controller-a')
      await redis.release((await redis.acquire(name, 'controller-a', 5000))!)
    }
    const leaseRows = async (rollout: Rollout) => (await db.kysely.selectFrom('leases').select('name').where('name', 'like', `%${rollout.id}`).orderBy('name').execute()).map((r) => r.name)
    const lines: string[] = []
    const pruner = new EvidencePruner({ store, leases: redis, retentionMs: 30 * DAY, clock: () => NOW, log: (line) => lines.push(line) })
    const result = await pruner.runOnce()
    expect(result.more).toBe(false)
    expect(result.rows).toBeGreaterThanOrEqual(9)
    expect(await evidenceOf(expired)).toEqual({ windows: 0, gateResults: 0, decisions: 1 })
    expect(await evidenceOf(kept)).toEqual({ windows: 3, gateResults: 6, decisions: 1 })
    expect(await evidenceOf(running)).toEqual({ windows: 3, gateResults: 6, decisions: 1 })
    expect(await store.rollouts.byId(expired.id)).toMatchObject({ status: 'ROLLED_BACK', evidencePrunedAt: new Date(NOW) })
    expect((await store.rollouts.byId(kept.id))?.evidencePrunedAt).toBeNull()
    expect((await store.decisions.verify({ rolloutId: expired.id })).ok).toBe(true)
    expect(await leaseRows(expired)).toEqual([])
    expect(await leaseRows(kept)).toEqual([`fence:rollout:${kept.id}`, `rollout:${kept.id}`])
    // Redis: the expired rollout's counter is gone (a new take starts at 1), the kept one's is not.
    expect((await redis.acquire(rolloutLeaseName(expired.id), 'controller-b', 5000))?.token).toBe(1)
    expect((await redis.acquire(rolloutLeaseName(kept.id), 'controller-b', 5000))?.token).toBe(2)
    await redis.close()
    expect(lines.join('\n')).toMatch(/evidence retention: deleted \d+ windows and gate results of \d+ rollouts finished before 2026-10-29T12:00:00.000Z/)
    // A second pass finds nothing to do.
    expect(await pruner.runOnce()).toEqual({ rollouts: 0, rows: 0, more: false })
    await pruner.stop()
  })
})

describe('EvidencePruner settings', () => {
  it.each([0, -1, Number.NaN])('refuses a retention of %s ms', (retentionMs) => {
    expect(() => new EvidencePruner({ store: {} as Store, retentionMs })).toThrow(/evidence retention must be positive/)
  })
})
