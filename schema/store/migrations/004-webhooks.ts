import { sql } from 'kysely'
import type { Migration } from './index.ts'

/** Webhook subscriptions (admin) and their delivery log, which is also the notifiers' work queue. */
export const webhooks: Migration = {
  name: '004-webhooks',
  async up(db, dialect) {
    const time = 'bigint'
    await db.schema
      .createTable('webhook_subscriptions')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('application_name', 'varchar(63)')
      .addColumn('url', 'varchar(2048)', (c) => c.notNull())
      .addColumn('secret', 'varchar(256)', (c) => c.notNull())
      .addColumn('format', 'varchar(16)', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('disabled_reason', 'text')
      .addColumn('since', time, (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('updated_at', time, (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('subscription_id', 'varchar(36)', (c) => c.notNull().references('webhook_subscriptions.id').onDelete('cascade'))
      .addColumn('rollout_id', 'varchar(36)', (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
      .addColumn('decision_id', 'varchar(36)', (c) => c.notNull().references('decisions.id').onDelete('cascade'))
      .addColumn('event', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', time)
      .addColumn('claim_token', 'varchar(36)')
      .addColumn('claimed_until', time)
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('body', dialect === 'mysql' ? sql`mediumtext` : sql`text`, (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('delivered_at', time)
      .addColumn('updated_at', time, (c) => c.notNull())
      .execute()
    // A decision is delivered at most once per subscription, however many notifiers saw it.
    await db.schema.createIndex('webhook_deliveries_once').unique().on('webhook_deliveries').columns(['subscription_id', 'decision_id']).execute()
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute()
    await db.schema.createIndex('webhook_deliveries_log').on('webhook_deliveries').columns(['subscription_id', 'created_at']).execute()
    await db.schema.createIndex('webhook_deliveries_by_decision').on('webhook_deliveries').columns(['decision_id']).execute()
    // The notifiers' periodic scan reads recent decisions by time.
    await db.schema.createIndex('decisions_by_at').on('decisions').columns(['at']).execute()
  },
}
