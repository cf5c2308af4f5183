import { sql } from 'kysely'
import type { Migration } from './index.ts'

/** Telemetry providers declared once (admin) and used by the gates of every application. */
export const providers: Migration = {
  name: '003-providers',
  async up(db, dialect) {
    await db.schema
      .createTable('providers')
      .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('config', dialect === 'mysql' ? sql`mediumtext` : sql`text`, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute()
  },
}
