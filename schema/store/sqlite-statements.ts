import type { SqliteDatabase, SqliteStatement } from 'kysely'

/** What the cache needs of a better-sqlite3 database and its statements. */
export interface PreparingDatabase {
  prepare(sql: string): SqliteStatement & { readonly busy?: boolean }
  close(): void
}

/**
 * Kysely's SQLite driver prepares every query again (`db.prepare(sql)` per execution), and
 * compiling the SQL was a tenth of a controller tick's CPU (bench/controller). A statement
 * compiled once can run any number of times with new parameters, so the same SQL text gets
 * the same statement, from a bounded least-recently-used cache. A statement still being
 * iterated (`busy`, a streamed select) cannot run again until it ends: that query gets a
 * statement of its own. SQLite recompiles a cached statement by itself after a schema change.
 */
export function cachingStatements(database: PreparingDatabase, capacity = 500): SqliteDatabase & { cached(): number } {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`statement cache capacity must be a positive integer (got ${capacity})`)
  const statements = new Map<string, SqliteStatement & { readonly busy?: boolean }>()
  return {
    prepare(sql: string): SqliteStatement {
      const known = statements.get(sql)
      if (known !== undefined) {
        if (known.busy === true) return database.prepare(sql)
        // Most recently used last: Map keeps insertion order.
        statements.delete(sql)
        statements.set(sql, known)
        return known
      }
      const statement = database.prepare(sql)
      statements.set(sql, statement)
      if (statements.size > capacity) statements.delete(statements.keys().next().value as string)
      return statement
    },
    close(): void {
      statements.clear()
      database.close()
    },
    cached: () => statements.size,
  }
}
