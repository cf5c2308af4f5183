import { sql, type Kysely } from 'kysely'
import type { Db } from './connect.ts'
import { migrations as allMigrations, type Migration } from './migrations/index.ts'

const LOCK_NAME = 'sentra_migrations'
const LOCK_WAIT_SECONDS = 60

/**
 * Brings the schema to the latest migration. Safe to call from several processes at
 * once: MySQL serialises them with GET_LOCK, SQLite with an immediate (write) transaction
 * that also makes each run all-or-nothing. Returns the names it applied.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = allMigrations): Promise<string[]> {
  return db.kysely.connection().execute(async (conn) => {
    const raw = conn as unknown as Kysely<unknown>
    if (db.dialect === 'mysql') {
      const got = await sql<{ got: number | null }>`SELECT GET_LOCK(${LOCK_NAME}, ${LOCK_WAIT_SECONDS}) AS got`.execute(raw)
      if (got.rows[0]?.got !== 1) throw new Error(`could not take the migration lock within ${LOCK_WAIT_SECONDS}s`)
      try {
        return await applyPending(raw, db, migrations)
      } finally {
        await sql`SELECT RELEASE_LOCK(${LOCK_NAME})`.execute(raw)
      }
    }
    await sql`BEGIN IMMEDIATE`.execute(raw)
    try {
      const applied = await applyPending(raw, db, migrations)
      await sql`COMMIT`.execute(raw)
      return applied
    } catch (error) {
      await sql`ROLLBACK`.execute(raw)
      throw error
    }
  })
}

async function applyPending(conn: Kysely<unknown>, db: Db, migrations: readonly Migration[]): Promise<string[]> {
  await conn.schema
    .createTable('sentra_migrations')
    .ifNotExists()
    .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute()
  const done = new Set(
    (await sql<{ name: string }>`SELECT name FROM sentra_migrations`.execute(conn)).rows.map((r) => r.name),
  )
  const applied: string[] = []
  for (const migration of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
    if (done.has(migration.name)) continue
    await migration.up(conn, db.dialect)
    await sql`INSERT INTO sentra_migrations (name, applied_at) VALUES (${migration.name}, ${Date.now()})`.execute(conn)
    applied.push(migration.name)
  }
  return applied
}
