import { randomBytes } from 'node:crypto'
import { createConnection } from 'mysql2/promise'

/** The MySQL server benchmarks create their databases on (SENTRA_BENCH_MYSQL_URL). */
export const BENCH_MYSQL_URL = process.env.SENTRA_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'

/**
 * A fresh database `<prefix>_<random>` on the benchmarks' MySQL server; `drop` removes it.
 * The URL names no connectionLimit: a store opened on it has its default pool (10), as
 * `npm run server` and `npm run controller` open theirs.
 */
export async function createBenchMysqlDatabase(prefix = 'sentra_bench'): Promise<{ url: string; drop(): Promise<void> }> {
  if (!/^[a-z_]{1,40}$/.test(prefix)) throw new RangeError(`database prefix must be 1-40 of a-z and _ (got "${prefix}")`)
  const server = new URL(BENCH_MYSQL_URL)
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  const admin = () =>
    createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username || 'root'), password: decodeURIComponent(server.password) })
  const run = async (sql: string): Promise<void> => {
    const conn = await admin()
    try {
      await conn.query(sql)
    } finally {
      await conn.end()
    }
  }
  await run(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  const url = new URL(BENCH_MYSQL_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS \`${name}\``) }
}
