import type { Kysely } from 'kysely'
import type { DialectName } from './connect.ts'
import type { Database } from './tables.ts'

/**
 * What a repository runs its SQL on: a connected `Db`, or the same bound to a transaction
 * (`{ kysely: trx, dialect }`). A `Db` is one as it is.
 */
export interface Executor {
  readonly kysely: Kysely<Database>
  readonly dialect: DialectName
}

/** Runs `fn` in a new transaction, or in the current one when `kysely` already is a transaction. */
export function inTransaction<T>(kysely: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (kysely.isTransaction) return fn(kysely)
  return kysely.transaction().execute(fn)
}
