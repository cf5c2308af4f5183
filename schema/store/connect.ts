import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { CompiledQuery, Kysely, MysqlDialect, SqliteDialect, type LogEvent } from 'kysely'
import { createPool } from 'mysql2'
import { timedPool } from './mysql-timeouts.ts'
import { loadSqliteDriver } from './sqlite-driver.ts'
import { cachingStatements } from './sqlite-statements.ts'
import type { Database } from './tables.ts'

export type DialectName = 'mysql' | 'sqlite'

/** A connected store: the Kysely instance plus what callers need to know about it. */
export interface Db {
  readonly kysely: Kysely<Database>
  readonly dialect: DialectName
  /** Counts SQL statements sent, so tests and benchmarks can prove batching. */
  readonly stats: { queries: number }
  /** Resolves when the store answers `SELECT 1`; on MySQL it gives up after `timeoutMs` (default: the statement timeout). */
  ping(timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

export const DEFAULT_DATABASE_URL = './.sentra/sentra.db'

/**
 * A MySQL statement that gets no answer within this long fails (PROTOCOL_SEQUENCE_TIMEOUT)
 * and its connection is dropped; `?queryTimeout=` on the URL changes it, 0 turns it off.
 * Below the API's own GraphQL deadline (SENTRA_QUERY_TIMEOUT_MS, 10 s), so a hung database
 * answers 503 STORE_UNAVAILABLE rather than QUERY_TIMEOUT; and below a third of the default
 * lease TTL (15 s), so a controller whose scan waits on a hung store still renews its leases
 * in time (docs/ha.md, "When the database hangs").
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000
/** Opening a MySQL connection (TCP and the server's greeting) gives up after this long; `?connectTimeout=`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000

/** A millisecond URL option: a whole number in [min, max], or the default when absent. */
function millisecondsOption(params: URLSearchParams, name: string, fallback: number, min: number): number {
  const raw = params.get(name)
  if (raw === null) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > 3_600_000) {
    throw new Error(`database URL option ${name}=${raw}: milliseconds, a whole number from ${min} to 3600000${min === 0 ? ' (0 = none)' : ''}`)
  }
  return value
}

/**
 * Opens the store named by a URL: `mysql://user:pass@host:port/db` uses mysql2, anything
 * else is a SQLite file path (`sqlite:` prefix optional, `:memory:` allowed).
 *
 * @example
 * const db = connect(process.env.SENTRA_DATABASE_URL ?? DEFAULT_DATABASE_URL)
 */
export function connect(url: string = DEFAULT_DATABASE_URL): Db {
  const stats = { queries: 0 }
  const log = (event: LogEvent): void => {
    if (event.level === 'query') stats.queries++
  }
  if (/^mysql:\/\//i.test(url)) return connectMysql(url, stats, log)
  return connectSqlite(url.replace(/^sqlite:(\/\/)?/i, ''), stats, log)
}

function connectMysql(url: string, stats: { queries: number }, log: (e: LogEvent) => void): Db {
  const parsed = new URL(url)
  const queryTimeoutMs = millisecondsOption(parsed.searchParams, 'queryTimeout', DEFAULT_STATEMENT_TIMEOUT_MS, 0)
  const connectTimeoutMs = millisecondsOption(parsed.searchParams, 'connectTimeout', DEFAULT_CONNECT_TIMEOUT_MS, 100)
  const raw = createPool({
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined,
    connectionLimit: Number(parsed.searchParams.get('connectionLimit') ?? 10),
    // A hung server still completes the TCP handshake (the kernel's backlog) but never greets.
    connectTimeout: connectTimeoutMs,
    timezone: 'Z',
    // Epoch-millisecond columns are BIGINT; they stay well inside 2^53.
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
  })
  // Every statement Kysely sends (onCreateConnection's included) goes through this pool.
  const pool = timedPool(raw, queryTimeoutMs)
  const kysely = new Kysely<Database>({
    dialect: new MysqlDialect({
      pool,
      // Every session in UTC so NOW()-style defaults, if any, agree with the app.
      onCreateConnection: async (conn) => {
        await conn.executeQuery(CompiledQuery.raw("SET time_zone = '+00:00'"))
      },
    }),
    log,
  })
  return {
    kysely,
    dialect: 'mysql',
    stats,
    ping: (timeoutMs = queryTimeoutMs) => pool.ping(timeoutMs),
    close: () => kysely.destroy(),
  }
}

function connectSqlite(path: string, stats: { queries: number }, log: (e: LogEvent) => void): Db {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true })
  const SqliteDatabase = loadSqliteDriver()
  const database = new SqliteDatabase(path)
  // Wait for other processes' locks before anything else: switching to WAL takes one too.
  database.pragma('busy_timeout = 10000')
  database.pragma('journal_mode = WAL')
  database.pragma('foreign_keys = ON')
  database.pragma('synchronous = NORMAL')
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(database) }), log })
  return {
    kysely,
    dialect: 'sqlite',
    stats,
    ping: async () => {
      database.prepare('SELECT 1').get()
    },
    close: () => kysely.destroy(),
  }
}
