import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConnection } from 'mysql2/promise'
import { connect, type Db, type DialectName } from '../../schema/store/connect.ts'
import { migrate } from '../../schema/store/migrate.ts'

/** Where the MariaDB/MySQL used by tests lives; each suite gets a database of its own there. */
export const TEST_MYSQL_URL = process.env.SENTRA_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'
export const TEST_REDIS_URL = process.env.SENTRA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export const DIALECTS: readonly DialectName[] = ['sqlite', 'mysql']

/** A fresh, empty database of the dialect; `drop` removes it. */
export interface TestDatabase {
  readonly url: string
  drop(): Promise<void>
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const suffix = randomBytes(6).toString('hex')
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sentra-test-'))
    return { url: join(dir, 'sentra.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const server = new URL(TEST_MYSQL_URL)
  const name = `sentra_test_${suffix}`
  const admin = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'),
    password: decodeURIComponent(server.password),
  })
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  await admin.end()
  const url = `${server.protocol}//${server.username ? `${server.username}${server.password ? `:${server.password}` : ''}@` : 'root@'}${server.host}/${name}`
  return {
    url,
    drop: async () => {
      const conn = await createConnection({
        host: server.hostname,
        port: Number(server.port || 3306),
        user: decodeURIComponent(server.username || 'root'),
        password: decodeURIComponent(server.password),
      })
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await conn.end()
    },
  }
}

/** A migrated store on a fresh database; `dispose` closes it and drops the database. */
export async function openTestStore(dialect: DialectName): Promise<{ db: Db; url: string; dispose(): Promise<void> }> {
  const database = await createTestDatabase(dialect)
  const db = connect(database.url)
  await migrate(db)
  return {
    db,
    url: database.url,
    dispose: async () => {
      await db.close()
      await database.drop()
    },
  }
}
