import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult, MysqlStream, MysqlStreamOptions } from 'kysely'
import type { Pool, PoolConnection, QueryOptions } from 'mysql2'

/**
 * Every MySQL statement gets a deadline (issue #9: a database that hangs, e.g. SIGSTOPped,
 * still accepts TCP connections and keeps open ones up, so without one a statement waits
 * forever).
 *
 * mysql2 has a per-query `timeout`, but on its own it is not enough: when it fires, the
 * callback gets PROTOCOL_SEQUENCE_TIMEOUT while the statement stays the connection's
 * current command, and the connection goes back to the pool. The next statement on it
 * queues behind the dead one, and its own timer starts only once it begins: it waits as
 * long as the database does. So a connection whose statement timed out is destroyed here:
 * out of the pool, never reused. Inside a transaction this also means COMMIT can never be
 * sent on it; the server rolls the transaction back when it sees the connection close.
 */

/** What a statement that ran out of time, or a later one on its dropped connection, throws. */
export type StatementTimeoutError = Error & { code: 'PROTOCOL_SEQUENCE_TIMEOUT'; fatal: true; timeoutMs: number }

/**
 * The deadline of one statement (its text with parameters filled in): `defaultMs`, except
 * for statements that wait by design.
 * `GET_LOCK(name, n)` (the migration lock) waits up to n seconds for the lock, so it gets
 * those on top; DDL (a migration's CREATE/ALTER/DROP on a large table may legitimately take
 * minutes, and a client that gives up does not stop the server's work) gets none.
 * 0 or less means no deadline.
 */
export function statementTimeoutMs(sql: string, defaultMs: number): number {
  if (defaultMs <= 0) return 0
  if (/^\s*(create|alter|drop|rename|truncate)\b/i.test(sql)) return 0
  const lock = /\bget_lock\s*\([^,]*,\s*(\d+)\s*\)/i.exec(sql)
  if (lock) return Number(lock[1]) * 1000 + defaultMs
  return defaultMs
}

function isTimeout(error: unknown): error is Error & { code: string } {
  return error instanceof Error && (error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT'
}

type Callback = (error: unknown, result: MysqlQueryResult) => void

/**
 * How many statement deadlines a caller waits for a free pooled connection. More than one: a
 * loaded but healthy database can keep every connection busy for a while (ticks of many
 * rollouts at once), and that is not a reason to fail.
 */
export const POOL_WAIT_DEADLINES = 2

/** What waiting too long for a free pooled connection throws (server/health.ts counts it as "store unavailable"). */
export const POOL_TIMEOUT_CODE = 'SENTRA_POOL_TIMEOUT'

function poolTimeout(timeoutMs: number): Error & { code: string } {
  return Object.assign(new Error(`no database connection free within ${timeoutMs} ms (every pooled connection is busy: the database is slow or hung)`), { code: POOL_TIMEOUT_CODE })
}

/** One pooled connection whose statements have deadlines; dropped for good after a timeout. */
class TimedConnection implements MysqlPoolConnection {
  readonly #raw: PoolConnection
  readonly #timeoutMs: number
  #dropped: StatementTimeoutError | null = null

  constructor(raw: PoolConnection, timeoutMs: number) {
    this.#raw = raw
    this.#timeoutMs = timeoutMs
  }

  query(sql: string, parameters: unknown[]): { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> }
  query(sql: string, parameters: unknown[], callback: Callback): void
  query(sql: string, parameters: unknown[], callback?: Callback): { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> } | void {
    // The migration lock's wait comes as a parameter (`GET_LOCK(?, ?)`): read it from the
    // statement as the server will see it.
    const text = /get_lock\s*\(/i.test(sql) ? this.#raw.format(sql, parameters) : sql
    return this.queryWithin(sql, parameters, statementTimeoutMs(text, this.#timeoutMs), callback)
  }

  /** A statement with an explicit deadline (the readiness ping has a shorter one). */
  queryWithin(sql: string, parameters: unknown[], timeoutMs: number, callback?: Callback): { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> } | void {
    const options: QueryOptions = timeoutMs > 0 ? { sql, values: parameters, timeout: timeoutMs } : { sql, values: parameters }
    if (!callback) {
      // Streaming (Kysely's streamQuery): the timeout arrives as the query's 'error' event.
      const query = this.#raw.query(options)
      query.on('error', (error: unknown) => {
        if (isTimeout(error)) this.#drop(error, timeoutMs)
      })
      return query as unknown as { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> }
    }
    this.#raw.query(options, (error: unknown, result: unknown) => {
      if (isTimeout(error)) this.#drop(error, timeoutMs)
      else if (error instanceof Error && this.#dropped && error.cause === undefined) {
        // mysql2's "Can't add new command when connection is in closed state": say why it is closed.
        error.cause = this.#dropped
      }
      callback(error, result as MysqlQueryResult)
    })
  }

  release(): void {
    // A dropped connection is already out of the pool; release() on it does nothing.
    this.#raw.release()
  }

  #drop(error: Error, timeoutMs: number): void {
    if (this.#dropped) return
    const timedOut = Object.assign(error, { fatal: true as const, timeoutMs }) as StatementTimeoutError
    timedOut.message = `no answer from the database within ${timeoutMs} ms (${error.message}); the connection was dropped`
    this.#dropped = timedOut
    // Out of the pool and closed. The socket is also torn down at once: a graceful close
    // would wait for a hung server's FIN, keeping the descriptor until the server resumes.
    this.#raw.destroy()
    ;(this.#raw as unknown as { stream?: { destroy?: () => void } }).stream?.destroy?.()
  }
}

/**
 * A Kysely MysqlPool over a mysql2 pool whose connections give every statement a deadline
 * of `timeoutMs` (0 = none), see `statementTimeoutMs`. The wrapper of a connection is kept
 * for its life, so Kysely's per-connection state (and its onCreateConnection, which runs
 * once per connection) still sees one object per connection.
 */
export interface TimedPool extends MysqlPool {
  /** `SELECT 1` with its own deadline, on a pooled connection (dropped if it times out). */
  ping(timeoutMs: number): Promise<void>
}

export function timedPool(pool: Pool, timeoutMs: number): TimedPool {
  const wrappers = new WeakMap<PoolConnection, TimedConnection>()
  const wrap = (raw: PoolConnection): TimedConnection => {
    let wrapper = wrappers.get(raw)
    if (!wrapper) {
      wrapper = new TimedConnection(raw, timeoutMs)
      wrappers.set(raw, wrapper)
    }
    return wrapper
  }
  /**
   * A pooled connection within {@link POOL_WAIT_DEADLINES} statement deadlines: with every
   * connection busy on a hung database the pool's queue has no deadline of its own, so a
   * request behind a full pool waited for as many statement deadlines as there were
   * statements ahead of it. One that comes too late is released at once.
   */
  const waitMs = POOL_WAIT_DEADLINES * timeoutMs
  const getConnection = (callback: (error: unknown, connection: TimedConnection | null) => void): void => {
    let answered = false
    const timer =
      waitMs > 0
        ? setTimeout(() => {
            answered = true
            callback(poolTimeout(waitMs), null)
          }, waitMs)
        : undefined
    pool.getConnection((error, raw) => {
      if (answered) {
        if (!error) raw.release()
        return
      }
      answered = true
      clearTimeout(timer)
      if (error) callback(error, null)
      else callback(null, wrap(raw))
    })
  }
  const acquire = () =>
    new Promise<TimedConnection>((resolve, reject) => {
      getConnection((error, connection) => (error || !connection ? reject(error) : resolve(connection)))
    })
  return {
    getConnection: (callback) => {
      getConnection((error, connection) => callback(error, connection as unknown as MysqlPoolConnection))
    },
    end: (callback) => pool.end((error) => callback(error)),
    ping: async (pingTimeoutMs) => {
      const connection = await acquire()
      try {
        await new Promise<void>((resolve, reject) => {
          connection.queryWithin('SELECT 1', [], pingTimeoutMs, (error) => (error ? reject(error) : resolve()))
        })
      } finally {
        connection.release()
      }
    },
  }
}
