import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, createTestDatabase, openTestStore, type TestDatabase } from '../../test/support/databases.ts'
import { makeRollout } from '../../test/support/store-fixtures.ts'
import { connect, type Db } from './connect.ts'
import { GENESIS_HASH } from './decision-chain.ts'
import { DecisionRepository, type NewDecision } from './decisions.ts'
import { ConflictError } from './errors.ts'
import { createStore } from './index.ts'
import { migrate } from './migrate.ts'
import { migrations } from './migrations/index.ts'
import type { Rollout } from './models.ts'

const T0 = Date.parse('2026-02-03T04:05:06.007Z')

function decision(rollout: Rollout, seq: number, extra: Partial<NewDecision> = {}): NewDecision {
  return {
    rolloutId: rollout.id,
    seq,
    action: 'ADVANCE',
    actor: 'controller',
    reason: `step ${seq}`,
    stepIndex: seq,
    fromWeight: seq,
    toWeight: seq + 5,
    evidence: { gates: [{ name: 'errors', verdict: 'PASS', value: 0.001, threshold: { max: 0.02 } }], note: 'Ω ✅' },
    at: new Date(T0 + seq * 1000),
    ...extra,
  }
}

async function chainColumns(db: Db, rolloutId: string) {
  return db.kysely
    .selectFrom('decisions')
    .select(['id', 'seq', 'chain_seq', 'prev_hash', 'hash'])
    .where('rollout_id', '=', rolloutId)
    .orderBy('chain_seq')
    .execute()
}

describe.each(DIALECTS)('the decision hash chain on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let decisions: DecisionRepository

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    decisions = new DecisionRepository(db)
  })
  afterAll(async () => store?.dispose())

  /** A rollout with `n` decisions appended in order. */
  async function rolloutWith(n: number): Promise<Rollout> {
    const rollout = await makeRollout(db)
    for (let seq = 1; seq <= n; seq++) await decisions.append(decision(rollout, seq * 2))
    return rollout
  }

  it('links each appended decision to the previous one, from the genesis hash', async () => {
    const rollout = await rolloutWith(3)
    const rows = await chainColumns(db, rollout.id)
    expect(rows.map((r) => [Number(r.seq), Number(r.chain_seq)])).toEqual([[2, 1], [4, 2], [6, 3]])
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH)
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash)
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash)
    for (const row of rows) expect(row.hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('a clean log verifies, paged or not, whole or per rollout', async () => {
    const rollout = await rolloutWith(4)
    const whole = await decisions.verify()
    expect(whole).toMatchObject({ ok: true, brokenRollouts: 0, firstBroken: null })
    expect(await decisions.verify({ pageSize: 1 })).toEqual(whole)
    expect(await decisions.verify({ pageSize: 3 })).toEqual(whole)
    const one = await decisions.verify({ rolloutId: rollout.id, pageSize: 2 })
    const rows = await chainColumns(db, rollout.id)
    expect(one).toMatchObject({ ok: true, rolloutsChecked: 1, decisionsChecked: 4 })
    expect(one.lastHead).toEqual({ rolloutId: rollout.id, chainSeq: 4, decisionId: rows[3]!.id, hash: rows[3]!.hash })
    expect(await decisions.verify({ rolloutId: 'unknown' })).toMatchObject({ ok: true, rolloutsChecked: 0, decisionsChecked: 0, lastHead: null })
  })

  /** Verifies in calls of `maxRows` rows, each going on from the last one's `next`; sums what they report. */
  async function inChunks(maxRows: number, rolloutId?: string) {
    let after: Awaited<ReturnType<DecisionRepository['verify']>>['next'] = null
    const total = { calls: 0, rolloutsChecked: 0, decisionsChecked: 0, brokenRollouts: 0, firstBroken: null as unknown, lastHead: null as unknown }
    do {
      const part = await decisions.verify({ rolloutId, after, maxRows, pageSize: 2 })
      total.calls++
      total.rolloutsChecked += part.rolloutsChecked
      total.decisionsChecked += part.decisionsChecked
      total.brokenRollouts += part.brokenRollouts
      total.firstBroken ??= part.firstBroken
      total.lastHead = part.lastHead
      after = part.next
    } while (after !== null)
    return total
  }

  it('spread over several calls (maxRows, after), the counts add up to one whole run', async () => {
    const rollout = await rolloutWith(5)
    const whole = await decisions.verify()
    for (const maxRows of [1, 2, 3, 7]) {
      const chunked = await inChunks(maxRows)
      expect(chunked, `maxRows ${maxRows}`).toMatchObject({ rolloutsChecked: whole.rolloutsChecked, decisionsChecked: whole.decisionsChecked, brokenRollouts: 0, firstBroken: null })
      expect(chunked.calls).toBeGreaterThan(1)
    }
    const one = await inChunks(2, rollout.id)
    expect(one).toMatchObject({ rolloutsChecked: 1, decisionsChecked: 5, lastHead: (await decisions.verify({ rolloutId: rollout.id })).lastHead })
    await expect(decisions.verify({ rolloutId: 'other', after: { rolloutId: rollout.id, chainSeq: 1, decisionId: 'x', hash: GENESIS_HASH, broken: false } })).rejects.toThrow(/another rollout/)
    await expect(decisions.verify({ maxRows: 0 })).rejects.toThrow(RangeError)
  })

  it('a budget of 0 ms stops after one page and says where to go on', async () => {
    await rolloutWith(3)
    const part = await decisions.verify({ pageSize: 2, budgetMs: 0 })
    expect(part.decisionsChecked).toBe(2)
    expect(part.next).not.toBeNull()
  })

  it('rejects a bad page size', async () => {
    await expect(decisions.verify({ pageSize: 0 })).rejects.toThrow(RangeError)
    await expect(decisions.verify({ pageSize: 1.5 })).rejects.toThrow(/pageSize must be a positive integer/)
  })

  it('concurrent appends to one rollout never fork the chain', async () => {
    const rollout = await makeRollout(db)
    await Promise.all(Array.from({ length: 8 }, (_, i) => decisions.append(decision(rollout, i + 1))))
    const rows = await chainColumns(db, rollout.id)
    expect(rows.map((r) => Number(r.chain_seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect((await decisions.verify({ rolloutId: rollout.id })).ok).toBe(true)
  })

  it('first decisions of many rollouts appended at once, each in a tick-like transaction, never deadlock', async () => {
    // A locking read of each rollout's empty range of the chain index took a gap lock that
    // rollouts with neighbouring ids shared, and their INSERTs deadlocked (MariaDB).
    const rollouts = await Promise.all(Array.from({ length: 12 }, () => makeRollout(db)))
    const store = createStore(db)
    for (let round = 1; round <= 3; round++) {
      await Promise.all(
        rollouts.map((rollout) =>
          store.transaction(async (t) => {
            const updated = await t.rollouts.update(rollout.id, { desiredWeight: round * 10 })
            await t.decisions.append(decision(rollout, updated.seq))
          }),
        ),
      )
    }
    for (const rollout of rollouts) {
      expect((await chainColumns(db, rollout.id)).map((r) => Number(r.chain_seq))).toEqual([1, 2, 3])
      expect((await decisions.verify({ rolloutId: rollout.id })).ok).toBe(true)
    }
  })

  it('appends inside a store transaction (as the controller does) and rolls back with it', async () => {
    const rollout = await makeRollout(db)
    const tx = createStore(db)
    await tx.transaction(async (t) => {
      await t.decisions.append(decision(rollout, 1))
      await t.decisions.append(decision(rollout, 2))
    })
    await expect(
      tx.transaction(async (t) => {
        await t.decisions.append(decision(rollout, 3))
        throw new Error('tick failed')
      }),
    ).rejects.toThrow('tick failed')
    await tx.decisions.append(decision(rollout, 4))
    expect((await chainColumns(db, rollout.id)).map((r) => [Number(r.seq), Number(r.chain_seq)])).toEqual([[1, 1], [2, 2], [4, 3]])
    expect((await decisions.verify({ rolloutId: rollout.id })).ok).toBe(true)
  })

  it('a repeated seq is still a ConflictError and leaves the chain intact', async () => {
    const rollout = await rolloutWith(2)
    await expect(decisions.append(decision(rollout, 2))).rejects.toThrow(ConflictError)
    await decisions.append(decision(rollout, 9))
    expect((await chainColumns(db, rollout.id)).map((r) => Number(r.chain_seq))).toEqual([1, 2, 3])
    expect((await decisions.verify({ rolloutId: rollout.id })).ok).toBe(true)
  })

  describe('tampering behind the store', () => {
    it('an UPDATE with raw SQL is the first broken link', async () => {
      const rollout = await rolloutWith(4)
      const later = await rolloutWith(2)
      const [, second] = await chainColumns(db, rollout.id)
      await sql`UPDATE decisions SET reason = ${'nothing happened'} WHERE id = ${second!.id}`.execute(db.kysely)
      await sql`UPDATE decisions SET evidence = ${'{}'} WHERE rollout_id = ${later.id}`.execute(db.kysely)

      const report = await decisions.verify({ rolloutId: rollout.id, pageSize: 2 })
      expect(report).toMatchObject({ ok: false, brokenRollouts: 1 })
      expect(report.firstBroken).toMatchObject({ rolloutId: rollout.id, chainSeq: 2, decisionId: second!.id, problem: 'HASH_MISMATCH', actual: second!.hash })

      // Across the whole log the first break is in rollout-id order; both are counted.
      const all = await decisions.verify({ pageSize: 3 })
      expect(all).toMatchObject({ ok: false, brokenRollouts: 2 })
      const first = [rollout.id, later.id].sort()[0]
      expect(all.firstBroken?.rolloutId).toBe(first)
    })

    it('a break is found, and counted once, however the calls are cut', async () => {
      const rollout = await rolloutWith(6)
      const rows = await chainColumns(db, rollout.id)
      await sql`UPDATE decisions SET to_weight = ${99} WHERE id = ${rows[1]!.id}`.execute(db.kysely)
      for (const maxRows of [1, 2, 3, 4]) {
        const chunked = await inChunks(maxRows, rollout.id)
        expect(chunked, `maxRows ${maxRows}`).toMatchObject({ rolloutsChecked: 1, decisionsChecked: 6, brokenRollouts: 1, firstBroken: { chainSeq: 2, problem: 'HASH_MISMATCH' } })
      }
    })

    it('an UPDATE that recomputes nothing but the hash breaks the next link', async () => {
      const rollout = await rolloutWith(3)
      const [first] = await chainColumns(db, rollout.id)
      await sql`UPDATE decisions SET hash = ${'b'.repeat(64)} WHERE id = ${first!.id}`.execute(db.kysely)
      const report = await decisions.verify({ rolloutId: rollout.id })
      expect(report.firstBroken).toMatchObject({ chainSeq: 1, problem: 'HASH_MISMATCH' })
    })

    it('a DELETE in the middle is reported at the row after it', async () => {
      const rollout = await rolloutWith(5)
      const rows = await chainColumns(db, rollout.id)
      await sql`DELETE FROM decisions WHERE id = ${rows[2]!.id}`.execute(db.kysely)
      const report = await decisions.verify({ rolloutId: rollout.id })
      expect(report).toMatchObject({ ok: false, decisionsChecked: 4 })
      expect(report.firstBroken).toMatchObject({ rolloutId: rollout.id, chainSeq: 4, decisionId: rows[3]!.id, problem: 'SEQUENCE_GAP', expected: '3', actual: '4' })
    })

    it('a DELETE with the rest renumbered is reported as a prev_hash mismatch', async () => {
      const rollout = await rolloutWith(4)
      const rows = await chainColumns(db, rollout.id)
      await sql`DELETE FROM decisions WHERE id = ${rows[1]!.id}`.execute(db.kysely)
      for (const row of rows.slice(2)) {
        await sql`UPDATE decisions SET chain_seq = ${Number(row.chain_seq) - 1} WHERE id = ${row.id}`.execute(db.kysely)
      }
      const report = await decisions.verify({ rolloutId: rollout.id })
      expect(report.firstBroken).toMatchObject({ chainSeq: 2, decisionId: rows[2]!.id, problem: 'PREV_HASH_MISMATCH' })
    })
  })
})

describe.each(DIALECTS)('008-decision-chain on an upgraded %s database', (dialect) => {
  let database: TestDatabase
  let db: Db

  beforeAll(async () => {
    database = await createTestDatabase(dialect)
    db = connect(database.url)
  })
  afterAll(async () => {
    await db?.close()
    await database?.drop()
  })

  it('chains decisions written before it, in seq order, so the upgraded log verifies and grows', async () => {
    await migrate(db, migrations.filter((m) => m.name < '008'))
    const a = await makeRollout(db)
    const b = await makeRollout(db)
    // As an older version wrote them: no chain columns; inserted out of seq order.
    const old = (rollout: Rollout, seq: number, id: string) =>
      sql`INSERT INTO decisions (id, rollout_id, seq, at, action, actor, reason, step_index, from_weight, to_weight, evidence)
          VALUES (${id}, ${rollout.id}, ${seq}, ${T0 + seq}, ${'ADVANCE'}, ${'controller'}, ${`old ${seq} — Ω`}, ${0}, ${0}, ${5}, ${'{"gates": []}'})`.execute(db.kysely)
    await old(a, 7, '00000000-0000-4000-8000-000000000003')
    await old(a, 2, '00000000-0000-4000-8000-000000000002')
    await old(a, 5, '00000000-0000-4000-8000-000000000001')
    await old(b, 1, '00000000-0000-4000-8000-000000000004')

    expect(await migrate(db)).toContain('008-decision-chain')
    const rows = await chainColumns(db, a.id)
    expect(rows.map((r) => [Number(r.seq), Number(r.chain_seq)])).toEqual([[2, 1], [5, 2], [7, 3]])
    const decisions = new DecisionRepository(db)
    expect(await decisions.verify({ pageSize: 2 })).toMatchObject({ ok: true, rolloutsChecked: 2, decisionsChecked: 4 })

    await decisions.append(decision(a, 8))
    expect((await chainColumns(db, a.id)).map((r) => Number(r.chain_seq))).toEqual([1, 2, 3, 4])
    expect(await decisions.verify()).toMatchObject({ ok: true, decisionsChecked: 5 })
  })

  it('can be run again after a partial failure (MySQL cannot roll back its DDL)', async () => {
    const chain = migrations.find((m) => m.name === '008-decision-chain')!
    await db.kysely.connection().execute((conn) => chain.up(conn as never, dialect))
    expect(await new DecisionRepository(db).verify()).toMatchObject({ ok: true, decisionsChecked: 5 })
  })
})
