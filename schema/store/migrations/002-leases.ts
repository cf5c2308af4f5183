import type { Migration } from './index.ts'

/** Row leases: which controller holds which rollout when there is no Redis (embedded mode). */
export const leases: Migration = {
  name: '002-leases',
  async up(db) {
    await db.schema
      .createTable('leases')
      .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('holder', 'varchar(128)', (c) => c.notNull())
      // Fencing token: grows on every change of holder, so a stale holder can be told apart.
      .addColumn('token', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute()
  },
}
