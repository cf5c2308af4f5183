import { sql } from 'kysely'
import type { Migration } from './index.ts'

/**
 * Linked traces carry who served them (application, service), where they came from (OTLP
 * receiver or Tempo), an error flag the trace lists sort and filter on, and their spans.
 *
 * Spans live in a JSON column of the trace row, not in a table of their own: a waterfall
 * always reads every span of one trace and nothing ever filters or joins on a single span,
 * and "saving the same trace again replaces its spans" becomes one row upsert instead of a
 * delete plus up to 500 inserts. List queries select the summary columns only, so the
 * (capped, at most a few MiB) span text is read just for the traces whose spans are asked for.
 */
export const linkedTraces: Migration = {
  name: '005-linked-traces',
  async up(db, dialect) {
    const json = dialect === 'mysql' ? sql`mediumtext` : sql`text`
    // SQLite adds one column per ALTER TABLE.
    await db.schema.alterTable('traces').addColumn('application', 'varchar(63)', (c) => c.notNull().defaultTo('')).execute()
    await db.schema.alterTable('traces').addColumn('service', 'varchar(255)', (c) => c.notNull().defaultTo('')).execute()
    await db.schema.alterTable('traces').addColumn('error', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    await db.schema.alterTable('traces').addColumn('source', 'varchar(16)', (c) => c.notNull().defaultTo('otlp')).execute()
    await db.schema.alterTable('traces').addColumn('span_count', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    await db.schema.alterTable('traces').addColumn('spans', json).execute()

    // Rows written before this migration: derive the flag from the status they had.
    await sql`update traces set error = 1 where lower(status) = 'error'`.execute(db)
    // A trace is linked to a rollout once; keep the first row of any earlier duplicate so the
    // unique key can be built. (The derived table lets MySQL read the table it deletes from.)
    await sql`delete from traces where id not in (
      select keep from (select min(id) as keep from traces group by rollout_id, trace_id) kept
    )`.execute(db)
    await db.schema.createIndex('traces_once_per_rollout').unique().on('traces').columns(['rollout_id', 'trace_id']).execute()
    // The trace lists: error first, slowest first, per rollout and per step.
    await db.schema.createIndex('traces_by_rank').on('traces').columns(['rollout_id', 'error', 'duration_ms']).execute()
    await db.schema.createIndex('traces_by_step_rank').on('traces').columns(['rollout_id', 'step_index', 'error', 'duration_ms']).execute()
  },
}
