import { createServer, type Server, type Socket } from 'node:net'
import { sql, type Kysely } from 'kysely'
import { createConnection } from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isStoreUnavailable } from '../../server/health.ts'
import { createTestDatabase, type TestDatabase } from '../../test/support/databases.ts'
import { connect, type Db } from './connect.ts'
import { statementTimeoutMs } from './mysql-timeouts.ts'
import type { Database } from './tables.ts'
import { thrown } from '../../test/support/thrown.ts'

function causes(error: unknown): unknown[] {
  const chain: unknown[] = []
  for (let current = error; current instanceof Error && chain.length < 5; current = current.cause) chain.push(current)
  return chain
}

async function connectionId(kysely: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ id: number }>`SELECT CONNECTION_ID() AS id`.execute(kysely)
  return Number(rows[0]!.id)
}

/** Waits until the server has finished with a connection (its thread gone from the process list). */
async function threadGone(db: Db, id: number): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
    const { rows } = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ${id}`.execute(db.kysely)
    if (Number(rows[0]!.n) === 0) return
  }
  throw new Error(`connection ${id} still on the server after 60 s`)
}

describe('statementTimeoutMs', () => {
  it('gives every statement the default, DDL none, and GET_LOCK its own wait on top', () => {
    expect(statementTimeoutMs('select * from `rollouts` where `id` = ?', 5000)).toBe(5000)
    expect(statementTimeoutMs('insert into decisions (a) values (?)', 5000)).toBe(5000)
    expect(statementTimeoutMs('commit', 5000)).toBe(5000)
    expect(statementTimeoutMs('create table if not exists `sentra_migrations` (x int)', 5000)).toBe(0)
    expect(statementTimeoutMs('  ALTER TABLE decisions ADD COLUMN h varchar(64)', 5000)).toBe(0)
    expect(statementTimeoutMs('SELECT GET_LOCK(?, 60) AS got', 5000)).toBe(65_000)
    expect(statementTimeoutMs('select 1', 0)).toBe(0)
  })
})

describe('MySQL statement timeouts', () => {
  let database: TestDatabase
  let db: Db
  /** The same database with a short statement timeout and a single connection. */
  let tight: Db

  beforeAll(async () => {
    database = await createTestDatabase('mysql')
    db = connect(database.url)
    await sql`CREATE TABLE hang_probe (id INT PRIMARY KEY) ENGINE=InnoDB`.execute(db.kysely)
    tight = connect(`${database.url}?queryTimeout=500&connectionLimit=1`)
  })
  afterAll(async () => {
    await tight?.close()
    await db?.close()
    await database?.drop()
  })

  it('fails a statement that gets no answer in time as "store unavailable", and drops its connection', async () => {
    const before = await connectionId(tight.kysely)
    const error = await thrown(() => sql`SELECT SLEEP(20)`.execute(tight.kysely))
    expect((error as { code?: string }).code).toBe('PROTOCOL_SEQUENCE_TIMEOUT')
    expect((error as Error).message).toMatch(/no answer from the database within 500 ms/)
    expect(isStoreUnavailable(error)).toBe(true)
    // mysql2 alone would hand the same connection out again and queue this statement behind
    // the sleep (20 s); here it runs on a new connection (the pool has room for one only).
    const started = Date.now()
    const after = await connectionId(tight.kysely)
    expect(after).not.toBe(before)
    expect(Date.now() - started).toBeLessThan(10_000)
    // The ping has a deadline too, and the store answers it.
    await tight.ping(2000)
  })

  it('never commits a transaction one of whose statements timed out, even if the caller carries on', async () => {
    let id = 0
    const error = await thrown(() =>
      tight.kysely.transaction().execute(async (trx) => {
        id = await connectionId(trx)
        await sql`INSERT INTO hang_probe (id) VALUES (1)`.execute(trx)
        // A caller that swallows the timeout and goes on: nothing more reaches the server,
        // and the COMMIT Kysely sends after the callback fails too.
        await thrown(() => sql`SELECT SLEEP(3)`.execute(trx))
        const next = await thrown(() => sql`INSERT INTO hang_probe (id) VALUES (2)`.execute(trx))
        expect(isStoreUnavailable(next)).toBe(true)
        expect(causes(next).some((e) => (e as { code?: string }).code === 'PROTOCOL_SEQUENCE_TIMEOUT')).toBe(true)
      }),
    )
    expect(isStoreUnavailable(error)).toBe(true)
    // Once the server is done with that connection (the sleep ends, it sees the close and
    // rolls back), neither row is there.
    await threadGone(db, id)
    const { rows } = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM hang_probe`.execute(db.kysely)
    expect(Number(rows[0]!.n)).toBe(0)
  })

  it('lets GET_LOCK wait its own time (the migration lock), beyond the statement timeout', async () => {
    const holder = await createConnection(database.url)
    try {
      await holder.query("SELECT GET_LOCK('hang_probe_lock', 0)")
      setTimeout(() => void holder.query("SELECT RELEASE_LOCK('hang_probe_lock')"), 1500)
      // With parameters, as schema/store/migrate.ts takes it.
      const { rows } = await sql<{ got: number }>`SELECT GET_LOCK(${'hang_probe_lock'}, ${30}) AS got`.execute(tight.kysely)
      expect(Number(rows[0]!.got)).toBe(1)
      await sql`SELECT RELEASE_LOCK('hang_probe_lock')`.execute(tight.kysely)
    } finally {
      await holder.end()
    }
  })

  it('gives up waiting for a free pooled connection after two deadlines, as "store unavailable", and the pool recovers', async () => {
    // The pool's only connection is held by a transaction that takes longer than two deadlines.
    let release: () => void = () => {}
    const held = tight.kysely.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx)
      await new Promise<void>((resolve) => (release = resolve))
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = Date.now()
    const error = await thrown(() => sql`SELECT 1`.execute(tight.kysely))
    const waited = Date.now() - started
    expect((error as { code?: string }).code).toBe('SENTRA_POOL_TIMEOUT')
    expect((error as Error).message).toMatch(/no database connection free within 1000 ms/)
    expect(isStoreUnavailable(error)).toBe(true)
    expect(waited).toBeGreaterThanOrEqual(900)
    release()
    await held
    // The connection that came free after the caller gave up went back to the pool.
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(tight.kysely)
    expect(Number(rows[0]!.one)).toBe(1)
  })

  it('rejects a queryTimeout or connectTimeout that is not a whole number of milliseconds', () => {
    expect(() => connect(`${database.url}?queryTimeout=10s`)).toThrow(/queryTimeout=10s: milliseconds/)
    expect(() => connect(`${database.url}?connectTimeout=0`)).toThrow(/connectTimeout=0/)
  })
})

describe('a server that accepts connections and never answers', () => {
  let server: Server
  const sockets: Socket[] = []
  let port = 0

  beforeAll(async () => {
    // What a SIGSTOPped mariadbd looks like from outside: the kernel completes the TCP
    // handshake, the greeting never comes.
    server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('gives up after connectTimeout, as "store unavailable"', async () => {
    const db = connect(`mysql://root@127.0.0.1:${port}/nothing?connectTimeout=300`)
    try {
      const error = await thrown(() => db.kysely.selectFrom('rollouts').selectAll().execute())
      expect((error as { code?: string }).code).toBe('ETIMEDOUT')
      expect(isStoreUnavailable(error)).toBe(true)
      expect(isStoreUnavailable(await thrown(() => db.ping(300)))).toBe(true)
    } finally {
      await db.close()
    }
  })
})
