import type { Migration } from './index.ts'

/**
 * API tokens: an optional expiry, an optional list of the applications a token may see
 * (JSON array of names; null = every application), and room in `hash` for the scrypt form
 * (`$scrypt$ln=…` is longer than a sha256 hex). SQLite does not enforce varchar lengths.
 */
export const tokenSecurity: Migration = {
  name: '009-token-security',
  async up(db, dialect) {
    await db.schema.alterTable('api_tokens').addColumn('expires_at', 'bigint').execute()
    await db.schema.alterTable('api_tokens').addColumn('applications', 'text').execute()
    if (dialect === 'mysql') {
      await db.schema.alterTable('api_tokens').modifyColumn('hash', 'varchar(255)', (c) => c.notNull()).execute()
    }
  },
}
