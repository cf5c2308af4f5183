import type { Migration } from './index.ts'

/**
 * What the OTLP receiver measured, per application, version and second (epoch seconds):
 * span, trace and log-record counts in otlp_aggregates, and the span-duration histogram
 * (fixed log-spaced buckets, controller/telemetry/otlp-histogram.ts) in otlp_durations, one
 * row per non-empty bucket. Every column is a count, so receivers in several server
 * processes add to the same rows (an upsert that sums) and a window is a SUM over its
 * seconds. Old seconds are deleted by the receivers (retention).
 */
export const otlpAggregates: Migration = {
  name: '006-otlp-aggregates',
  async up(db) {
    await db.schema
      .createTable('otlp_aggregates')
      .addColumn('application', 'varchar(63)', (c) => c.notNull())
      .addColumn('version', 'varchar(64)', (c) => c.notNull())
      .addColumn('second', 'bigint', (c) => c.notNull())
      .addColumn('spans', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error_spans', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('traces', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error_traces', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('logs', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error_logs', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('otlp_aggregates_pk', ['application', 'version', 'second'])
      .execute()
    await db.schema.createIndex('otlp_aggregates_by_second').on('otlp_aggregates').columns(['second']).execute()

    await db.schema
      .createTable('otlp_durations')
      .addColumn('application', 'varchar(63)', (c) => c.notNull())
      .addColumn('version', 'varchar(64)', (c) => c.notNull())
      .addColumn('second', 'bigint', (c) => c.notNull())
      .addColumn('bucket', 'integer', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('otlp_durations_pk', ['application', 'version', 'second', 'bucket'])
      .execute()
    await db.schema.createIndex('otlp_durations_by_second').on('otlp_durations').columns(['second']).execute()
  },
}
