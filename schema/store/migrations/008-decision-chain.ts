import { sql, type Kysely } from 'kysely'
import type { DialectName } from '../connect.ts'
import { decisionHash, GENESIS_HASH } from '../decision-chain.ts'
import type { Migration } from './index.ts'

/** Rollouts whose decisions are chained per batch while backfilling. */
const ROLLOUTS_PER_BATCH = 100

interface OldDecisionRow {
  id: string
  rollout_id: string
  seq: number | string
  at: number | string
  action: string
  actor: string
  reason: string
  step_index: number | string
  from_weight: number | string
  to_weight: number | string
  evidence: string
}

/**
 * Hash-chains the decision log (docs/audit.md): each rollout's decisions get `chain_seq`
 * (1, 2, ... in append order), `prev_hash` and `hash`. Decisions written before this
 * migration are chained here, in their existing `seq` order, so a database upgraded from an
 * older version verifies. Safe to re-run after a partial failure on MySQL (where DDL cannot
 * be rolled back): existing columns are kept and the backfill recomputes every hash.
 */
export const decisionChain: Migration = {
  name: '008-decision-chain',
  async up(db: Kysely<unknown>, dialect) {
    const columns = new Set(
      (await db.introspection.getTables()).find((t) => t.name === 'decisions')?.columns.map((c) => c.name) ?? [],
    )
    // Defaults only so the columns can be added to a table that has rows; the repository
    // always writes all three, and an empty hash never verifies.
    if (!columns.has('chain_seq')) {
      await db.schema.alterTable('decisions').addColumn('chain_seq', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    }
    if (!columns.has('prev_hash')) {
      await db.schema.alterTable('decisions').addColumn('prev_hash', 'char(64)', (c) => c.notNull().defaultTo('')).execute()
    }
    if (!columns.has('hash')) {
      await db.schema.alterTable('decisions').addColumn('hash', 'char(64)', (c) => c.notNull().defaultTo('')).execute()
    }

    await backfill(db, dialect)

    // A second writer computing the same next link fails here instead of forking the chain.
    try {
      let index = db.schema.createIndex('decisions_by_rollout_chain').unique().on('decisions').columns(['rollout_id', 'chain_seq'])
      if (dialect === 'sqlite') index = index.ifNotExists()
      await index.execute()
    } catch (error) {
      const { errno } = error as { errno?: unknown }
      if (!(dialect === 'mysql' && errno === 1061)) throw error // ER_DUP_KEYNAME: a re-run after a partial failure
    }
  },
}

/** Chains every rollout's existing decisions, a batch of rollouts at a time. */
async function backfill(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  let after = ''
  for (;;) {
    const { rows: rollouts } = await sql<{ rollout_id: string }>`
      SELECT DISTINCT rollout_id FROM decisions WHERE rollout_id > ${after} ORDER BY rollout_id LIMIT ${ROLLOUTS_PER_BATCH}
    `.execute(db)
    if (rollouts.length === 0) return
    // SQLite runs migrations inside one transaction already; on MySQL a transaction per batch
    // saves a commit per row.
    if (dialect === 'mysql') await sql`START TRANSACTION`.execute(db)
    try {
      for (const { rollout_id } of rollouts) await chainRollout(db, rollout_id)
      if (dialect === 'mysql') await sql`COMMIT`.execute(db)
    } catch (error) {
      if (dialect === 'mysql') await sql`ROLLBACK`.execute(db)
      throw error
    }
    after = rollouts[rollouts.length - 1]!.rollout_id
  }
}

async function chainRollout(db: Kysely<unknown>, rolloutId: string): Promise<void> {
  const { rows } = await sql<OldDecisionRow>`
    SELECT id, rollout_id, seq, at, action, actor, reason, step_index, from_weight, to_weight, evidence
    FROM decisions WHERE rollout_id = ${rolloutId} ORDER BY seq, id
  `.execute(db)
  let prevHash = GENESIS_HASH
  let chainSeq = 0
  for (const row of rows) {
    chainSeq++
    const hash = decisionHash({
      id: row.id,
      rolloutId: row.rollout_id,
      seq: Number(row.seq),
      chainSeq,
      at: Number(row.at),
      action: row.action,
      actor: row.actor,
      reason: row.reason,
      stepIndex: Number(row.step_index),
      fromWeight: Number(row.from_weight),
      toWeight: Number(row.to_weight),
      evidence: row.evidence,
      prevHash,
    })
    await sql`UPDATE decisions SET chain_seq = ${chainSeq}, prev_hash = ${prevHash}, hash = ${hash} WHERE id = ${row.id}`.execute(db)
    prevHash = hash
  }
}
