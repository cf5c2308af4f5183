import { sql, type Kysely } from 'kysely'
import type { Migration } from './index.ts'

/** Column types that differ between the dialects. */
function types(dialect: 'mysql' | 'sqlite') {
  return {
    id: 'varchar(36)',
    name: 'varchar(63)',
    short: 'varchar(64)',
    time: 'bigint',
    // MySQL TEXT stops at 64 KiB; specs and evidence may be larger.
    json: dialect === 'mysql' ? sql`mediumtext` : sql`text`,
    text: 'text',
  } as const
}

export const initial: Migration = {
  name: '001-initial',
  async up(db: Kysely<unknown>, dialect) {
    const t = types(dialect)
    await db.schema
      .createTable('applications')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.name, (c) => c.notNull().unique())
      .addColumn('spec', t.json, (c) => c.notNull())
      .addColumn('stable_version', t.short)
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('updated_at', t.time, (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('rollouts')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('application_id', t.id, (c) => c.notNull().references('applications.id'))
      .addColumn('application_name', t.name, (c) => c.notNull())
      .addColumn('from_version', t.short)
      .addColumn('to_version', t.short, (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('desired_weight', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('canary_weight', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('current_step_index', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('step_started_at', t.time)
      .addColumn('seq', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('active_key', t.id, (c) => c.unique())
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('started_at', t.time)
      .addColumn('finished_at', t.time)
      .addColumn('updated_at', t.time, (c) => c.notNull())
      .execute()
    await db.schema.createIndex('rollouts_by_app').on('rollouts').columns(['application_name', 'created_at']).execute()
    await db.schema.createIndex('rollouts_by_status').on('rollouts').columns(['status', 'created_at']).execute()
    await db.schema.createIndex('rollouts_by_created').on('rollouts').columns(['created_at', 'id']).execute()

    await db.schema
      .createTable('rollout_steps')
      .addColumn('rollout_id', t.id, (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('spec', t.text, (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('started_at', t.time)
      .addColumn('finished_at', t.time)
      .addPrimaryKeyConstraint('rollout_steps_pk', ['rollout_id', 'idx'])
      .execute()

    await db.schema
      .createTable('gate_results')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('rollout_id', t.id, (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
      .addColumn('step_index', 'integer', (c) => c.notNull())
      .addColumn('gate', t.name, (c) => c.notNull())
      .addColumn('verdict', 'varchar(16)', (c) => c.notNull())
      .addColumn('value', 'double precision')
      .addColumn('reason', t.text, (c) => c.notNull())
      .addColumn('evidence', t.json, (c) => c.notNull())
      .addColumn('window_id', t.id)
      .addColumn('at', t.time, (c) => c.notNull())
      .execute()
    await db.schema.createIndex('gate_results_by_rollout').on('gate_results').columns(['rollout_id', 'at']).execute()

    await db.schema
      .createTable('telemetry_windows')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('rollout_id', t.id, (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
      .addColumn('step_index', 'integer', (c) => c.notNull())
      .addColumn('provider', 'varchar(32)', (c) => c.notNull())
      .addColumn('start_at', t.time, (c) => c.notNull())
      .addColumn('end_at', t.time, (c) => c.notNull())
      .addColumn('canary', t.json, (c) => c.notNull())
      .addColumn('baseline', t.json, (c) => c.notNull())
      .execute()
    await db.schema.createIndex('windows_by_rollout').on('telemetry_windows').columns(['rollout_id', 'end_at']).execute()

    await db.schema
      .createTable('traces')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('rollout_id', t.id, (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
      .addColumn('step_index', 'integer', (c) => c.notNull())
      .addColumn('trace_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('version', t.short, (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('duration_ms', 'double precision', (c) => c.notNull())
      .addColumn('root_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('at', t.time, (c) => c.notNull())
      .execute()
    await db.schema.createIndex('traces_by_rollout').on('traces').columns(['rollout_id', 'at']).execute()

    await db.schema
      .createTable('decisions')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('rollout_id', t.id, (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('at', t.time, (c) => c.notNull())
      .addColumn('action', 'varchar(32)', (c) => c.notNull())
      .addColumn('actor', 'varchar(128)', (c) => c.notNull())
      .addColumn('reason', t.text, (c) => c.notNull())
      .addColumn('step_index', 'integer', (c) => c.notNull())
      .addColumn('from_weight', 'integer', (c) => c.notNull())
      .addColumn('to_weight', 'integer', (c) => c.notNull())
      .addColumn('evidence', t.json, (c) => c.notNull())
      .execute()
    // A decision is written once per rollout sequence number: a retried tick cannot repeat one.
    await db.schema.createIndex('decisions_by_rollout_seq').unique().on('decisions').columns(['rollout_id', 'seq']).execute()

    await db.schema
      .createTable('operator_commands')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('rollout_id', t.id, (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('full', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('actor', 'varchar(128)', (c) => c.notNull())
      .addColumn('reason', t.text)
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('applied_at', t.time)
      .addColumn('outcome', t.text)
      .execute()
    await db.schema.createIndex('commands_pending').on('operator_commands').columns(['applied_at', 'created_at']).execute()
    await db.schema.createIndex('commands_by_rollout').on('operator_commands').columns(['rollout_id', 'created_at']).execute()

    await db.schema
      .createTable('api_tokens')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      .addColumn('hash', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('scope', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('last_used_at', t.time)
      .addColumn('revoked_at', t.time)
      .execute()
  },
}
