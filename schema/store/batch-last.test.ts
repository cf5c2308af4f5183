import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { makeRollout, queriesOf } from '../../test/support/store-fixtures.ts'
import { rowsPerRollout } from './batch.ts'
import type { Db } from './connect.ts'
import { EvidenceRepository } from './evidence.ts'
import type { Rollout } from './models.ts'

const T0 = Date.parse('2026-02-03T04:05:06.007Z')

/**
 * `last` for ONE rollout (what every controller tick asks) takes an index walk with LIMIT
 * instead of ranking all the rollout's rows; it must give exactly what the ranked query
 * gives for the same rollout among others: the newest `last` rows, oldest first, ties on
 * the order column broken by id.
 */
describe.each(DIALECTS)('rowsPerRollout with `last` for one rollout on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let a: Rollout
  let b: Rollout

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    const evidence = new EvidenceRepository(db)
    a = await makeRollout(db)
    b = await makeRollout(db)
    // Several results share a time: the order within a time is by id.
    for (let i = 0; i < 30; i++) {
      for (const rollout of [a, b]) {
        await db.kysely
          .insertInto('gate_results')
          .values({ id: `r${String(i).padStart(3, '0')}-${rollout === a ? 'a' : 'b'}`, rollout_id: rollout.id, step_index: 1, gate: `g${i}`, verdict: 'PASS', value: i, reason: '', evidence: '{}', window_id: null, at: T0 + Math.floor(i / 3) * 1000 })
          .execute()
      }
    }
    await evidence.addWindow({ rolloutId: a.id, stepIndex: 0, provider: 'builtin', startAt: new Date(T0), endAt: new Date(T0 + 1000), canary: {}, baseline: {} })
  })
  afterAll(async () => store?.dispose())

  it.each([1, 2, 3, 7, 30, 100])('last %i equals the ranked query among several rollouts, in one query', async (last) => {
    const ranked = await rowsPerRollout(db.kysely, 'gate_results', 'at', [a.id, b.id], last)
    const single = await queriesOf(db, () => rowsPerRollout(db.kysely, 'gate_results', 'at', [a.id], last))
    expect(single.queries).toBe(1)
    expect(single.result).toHaveLength(1)
    const strip = (rows: readonly { id: string; at: number | bigint }[]) => rows.map((r) => ({ id: r.id, at: Number(r.at) }))
    expect(strip(single.result[0]!)).toEqual(strip(ranked[0]!))
    expect(single.result[0]!.map((r) => r.id)).toEqual(Array.from({ length: Math.min(last, 30) }, (_, k) => `r${String(30 - Math.min(last, 30) + k).padStart(3, '0')}-a`))
  })

  it('the same id twice is still one rollout; unknown ids and last 0 give nothing', async () => {
    const twice = await rowsPerRollout(db.kysely, 'gate_results', 'at', [b.id, b.id], 2)
    expect(twice.map((rows) => rows.map((r) => r.id))).toEqual([['r028-b', 'r029-b'], ['r028-b', 'r029-b']])
    expect(await rowsPerRollout(db.kysely, 'gate_results', 'at', ['missing'], 5)).toEqual([[]])
    expect(await rowsPerRollout(db.kysely, 'telemetry_windows', 'end_at', [a.id], 0)).toEqual([[]])
    expect((await rowsPerRollout(db.kysely, 'telemetry_windows', 'end_at', [a.id], 5))[0]).toHaveLength(1)
  })

  it.each([-1, 1.5, Number.NaN])('refuses last %d', async (last) => {
    await expect(rowsPerRollout(db.kysely, 'gate_results', 'at', [a.id], last)).rejects.toThrow(RangeError)
  })
})
