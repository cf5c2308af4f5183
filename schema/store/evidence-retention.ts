import type { Executor } from './executor.ts'
import { toMs } from './values.ts'

/** The tables of a rollout's per-tick evidence: what retention deletes. Decisions, steps and linked traces stay. */
const PRUNED_TABLES = ['telemetry_windows', 'gate_results'] as const

/** Rows one statement deletes at most: short transactions and locks, whatever a rollout holds. */
export const PRUNE_CHUNK = 500

/**
 * Finished rollouts whose evidence is still kept, that finished before `finishedBefore`,
 * oldest first (the index on evidence_pruned_at, finished_at: pruned ones are not read).
 */
export async function rolloutsToPrune(db: Executor, finishedBefore: Date, limit: number): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('rollouts')
    .select('id')
    .where('evidence_pruned_at', 'is', null)
    .where('finished_at', 'is not', null)
    .where('finished_at', '<', toMs(finishedBefore))
    .orderBy('finished_at')
    .orderBy('id')
    .limit(limit)
    .execute()
  return rows.map((row) => row.id)
}

/**
 * Deletes up to `limit` of the rollout's telemetry windows and up to `limit` of its gate
 * results; returns how many rows went. Ids first, then by primary key: one form for both
 * dialects (MySQL cannot LIMIT a subquery of IN; SQLite has no DELETE … LIMIT by default).
 */
export async function deleteEvidenceChunk(db: Executor, rolloutId: string, limit = PRUNE_CHUNK): Promise<number> {
  let deleted = 0
  for (const table of PRUNED_TABLES) {
    const ids = (await db.kysely.selectFrom(table).select('id').where('rollout_id', '=', rolloutId).limit(limit).execute()).map((row) => row.id)
    if (ids.length === 0) continue
    await db.kysely.deleteFrom(table).where('id', 'in', ids).execute()
    deleted += ids.length
  }
  return deleted
}

/** Marks the rollout's evidence as deleted, so it is not looked at again. */
export async function markEvidencePruned(db: Executor, rolloutId: string, at: Date): Promise<void> {
  await db.kysely.updateTable('rollouts').set({ evidence_pruned_at: toMs(at) }).where('id', '=', rolloutId).execute()
}
