import type { Selectable } from 'kysely'
import { ConflictError, isUniqueViolation } from './errors.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { ApiToken, TokenScope } from './models.ts'
import type { ApiTokensTable } from './tables.ts'
import { issueToken, parseIssuedToken, scryptHash, scryptVerify, sha256Hex, type ScryptParams } from './token-hash.ts'
import { toDate, toDateOrNull } from './values.ts'

/** last_used_at is written at most this often per token, not on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000

/** Longer tokens are refused unread: no hashing or lookup of arbitrary amounts of input. */
export const MAX_TOKEN_LENGTH = 256

/** sha256 of a token, hex: how tokens without an embedded id are stored (see token-hash.ts). */
export const hashToken = sha256Hex

export interface CreateTokenOptions {
  /** Store this token (found by its sha256) instead of issuing one: the bootstrap's SENTRA_ADMIN_TOKEN. */
  token?: string
  /** When the token stops working; null or absent = never. */
  expiresAt?: Date | null
  /** The only applications the token may see and operate; null or absent = every application. */
  applications?: readonly string[] | null
}

function parseApplications(raw: string | null): string[] | null {
  if (raw === null) return null
  try {
    const value: unknown = JSON.parse(raw)
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  } catch {
    // Fall through: an unreadable list grants nothing rather than everything.
  }
  return []
}

export function toApiToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as TokenScope,
    createdAt: toDate(row.created_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    revokedAt: toDateOrNull(row.revoked_at),
    expiresAt: toDateOrNull(row.expires_at),
    applications: parseApplications(row.applications),
  }
}

/** Revoked and expired tokens are refused alike. */
function usable(row: Selectable<ApiTokensTable>, now: number): boolean {
  return row.revoked_at === null && (row.expires_at === null || Number(row.expires_at) > now)
}

/** API tokens. The token itself is shown once, at creation; only its hash is kept. */
export class TokenRepository {
  readonly #db: Executor
  readonly #scrypt: ScryptParams | undefined

  /** `scrypt`: the parameters new tokens are hashed with (token-hash.ts DEFAULT_SCRYPT unless told). */
  constructor(db: Executor, { scrypt }: { scrypt?: ScryptParams } = {}) {
    this.#db = db
    this.#scrypt = scrypt
  }

  /**
   * Stores a token and returns it (the only time it is seen) with its record. Issued tokens
   * are `sentra_<id>_<secret>`, kept as a salted scrypt hash; a given token (the bootstrap's
   * SENTRA_ADMIN_TOKEN) is kept as its sha256 and must not look like an issued one.
   */
  async create(name: string, scope: TokenScope, { token: given, expiresAt = null, applications = null }: CreateTokenOptions = {}): Promise<{ token: string; apiToken: ApiToken }> {
    if (given !== undefined) {
      if (given.length === 0) throw new TypeError('token must not be empty')
      if (given.length > MAX_TOKEN_LENGTH) throw new TypeError(`token must be at most ${MAX_TOKEN_LENGTH} characters`)
      if (parseIssuedToken(given)) throw new TypeError('a chosen token must not have the form of an issued one (sentra_<id>_<secret>)')
    }
    const list = applications === null ? null : [...new Set(applications)].sort()
    const id = newId()
    const token = given ?? issueToken(id)
    const hash = given === undefined ? await scryptHash(token, this.#scrypt) : sha256Hex(token)
    const apiToken: ApiToken = { id, name, scope, createdAt: new Date(), lastUsedAt: null, revokedAt: null, expiresAt, applications: list }
    try {
      await this.#db.kysely
        .insertInto('api_tokens')
        .values({
          id,
          name,
          hash,
          scope,
          created_at: apiToken.createdAt.getTime(),
          last_used_at: null,
          revoked_at: null,
          expires_at: expiresAt === null ? null : expiresAt.getTime(),
          applications: list === null ? null : JSON.stringify(list),
        })
        .execute()
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
      throw new ConflictError(`token "${name}" was not stored: that token value is already in use`)
    }
    return { token, apiToken }
  }

  /**
   * The token's record, or null when unknown, revoked, expired or malformed. An issued
   * token's row is found by its id and refused before any hashing when missing, revoked
   * or expired; only then is scrypt run (and remembered, token-hash.ts). Records use at
   * most once a minute.
   */
  async verify(token: string): Promise<ApiToken | null> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null
    const now = Date.now()
    const issued = parseIssuedToken(token)
    const row = await this.#db.kysely
      .selectFrom('api_tokens')
      .selectAll()
      .where(issued ? 'id' : 'hash', '=', issued ? issued.id : sha256Hex(token))
      .executeTakeFirst()
    if (!row || !usable(row, now)) return null
    if (issued && !(await scryptVerify(token, row.hash))) return null
    const apiToken = toApiToken(row)
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

  /** Whether the token with this id may still be used (exists, not revoked, not expired): one indexed read, no hashing. */
  async isActive(id: string): Promise<boolean> {
    const row = await this.#db.kysely.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst()
    return row !== undefined && usable(row, Date.now())
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
