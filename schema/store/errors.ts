/** A write lost to a uniqueness rule or a concurrent change; the request changed nothing. */
export class ConflictError extends Error {
  readonly code = 'CONFLICT' as const
  override readonly name = 'ConflictError'
}

/** The row the caller named does not exist. */
export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND' as const
  override readonly name = 'NotFoundError'
}

/** A pagination cursor this store did not produce (or that belongs to another list). */
export class BadCursorError extends Error {
  readonly code = 'BAD_USER_INPUT' as const
  override readonly name = 'BadCursorError'
}

const SQLITE_UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY'])

/** True for a unique or primary key violation from mysql2 (ER_DUP_ENTRY, 1062) or better-sqlite3. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, errno } = err as { code?: unknown; errno?: unknown }
  if (code === 'ER_DUP_ENTRY' || errno === 1062) return true
  return typeof code === 'string' && SQLITE_UNIQUE_CODES.has(code)
}

/** True for a foreign key violation (a row naming a parent that does not exist) from mysql2 or better-sqlite3. */
export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, errno } = err as { code?: unknown; errno?: unknown }
  return code === 'ER_NO_REFERENCED_ROW_2' || errno === 1452 || code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
}

/** Runs an insert of a rollout's child row; a missing rollout becomes a NotFoundError. */
export async function insertingChildOf<T>(rolloutId: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert()
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new NotFoundError(`rollout ${rolloutId} not found`)
    throw error
  }
}
