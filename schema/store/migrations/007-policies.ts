import type { Migration } from './index.ts'

/** Named policies (reusable gates and strategies) and per-environment guardrails, admin-defined. */
export const policies: Migration = {
  name: '007-policies',
  async up(db) {
    await db.schema
      .createTable('policies')
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('name', 'varchar(63)', (c) => c.notNull())
      .addColumn('spec', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('policies_pk', ['kind', 'name'])
      .execute()
  },
}
