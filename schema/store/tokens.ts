import { createHash, randomBytes } from 'node:crypto'
import type { Selectable } from 'kysely'
import { ConflictError, isUniqueViolation } from './errors.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { ApiToken, TokenScope } from './models.ts'
import type { ApiTokensTable } from './tables.ts'
import { toDate, toDateOrNull } from './values.ts'

/** last_used_at is written at most this often per token, not on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000

/** sha256 of a token, hex: the only form in which tokens are stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** A new random token: `sentra_` + 32 random bytes, base64url. */
export function generateToken(): string {
  return `sentra_${randomBytes(32).toString('base64url')}`
}

export function toApiToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as TokenScope,
    createdAt: toDate(row.created_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    revokedAt: toDateOrNull(row.revoked_at),
  }
}

/** API tokens. The token itself is shown once, at creation; only its hash is kept. */
export class TokenRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /** Stores a token (the given one, or a new random one) and returns it with its record. */
  async create(name: string, scope: TokenScope, token: string = generateToken()): Promise<{ token: string; apiToken: ApiToken }> {
    if (token.length === 0) throw new TypeError('token must not be empty')
    const apiToken: ApiToken = { id: newId(), name, scope, createdAt: new Date(), lastUsedAt: null, revokedAt: null }
    try {
      await this.#db.kysely
        .insertInto('api_tokens')
        .values({
          id: apiToken.id,
          name,
          hash: hashToken(token),
          scope,
          created_at: apiToken.createdAt.getTime(),
          last_used_at: null,
          revoked_at: null,
        })
        .execute()
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
      throw new ConflictError(`token "${name}" was not stored: that token value is already in use`)
    }
    return { token, apiToken }
  }

  /** The token's record, or null when unknown or revoked. Records use at most once a minute. */
  async verify(token: string): Promise<ApiToken | null> {
    if (token.length === 0) return null
    const row = await this.#db.kysely.selectFrom('api_tokens').selectAll().where('hash', '=', hashToken(token)).executeTakeFirst()
    if (!row || row.revoked_at !== null) return null
    const apiToken = toApiToken(row)
    const now = Date.now()
    if (apiToken.lastUsedAt === null || now - apiToken.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.#db.kysely
        .updateTable('api_tokens')
        .set({ last_used_at: now })
        .where('id', '=', row.id)
        // Concurrent requests: only one of them writes.
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - LAST_USED_RESOLUTION_MS)]))
        .execute()
      apiToken.lastUsedAt = new Date(now)
    }
    return apiToken
  }

  /** Revokes a token; false when it is unknown or already revoked. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('api_tokens')
      .set({ revoked_at: Date.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  /** Every token, revoked ones included, by name then age. */
  async list(): Promise<ApiToken[]> {
    const rows = await this.#db.kysely.selectFrom('api_tokens').selectAll().orderBy('name').orderBy('created_at').orderBy('id').execute()
    return rows.map(toApiToken)
  }

  /** A token with this name (names need not be unique): the newest unrevoked one, else the newest revoked one. */
  async byName(name: string): Promise<ApiToken | null> {
    const rows = await this.#db.kysely
      .selectFrom('api_tokens')
      .selectAll()
      .where('name', '=', name)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute()
    const row = rows.find((r) => r.revoked_at === null) ?? rows[0]
    return row ? toApiToken(row) : null
  }
}
