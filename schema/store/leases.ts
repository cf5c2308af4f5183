import type { Executor } from './executor.ts'

/** A held lease: `token` is the fencing token, larger for every new holder of the same name. */
export interface Lease {
  name: string
  holder: string
  token: number
  expiresAt: number
}

/**
 * Leases in the store, for when there is no Redis: one row per name, taken over only once
 * expired. Each statement is a single conditional write, so two controllers racing for the
 * same lease cannot both win on either dialect.
 */
export class LeaseRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /** Takes (or renews, for the same holder) the lease; null when someone else holds it. */
  async acquire(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<Lease | null> {
    const expiresAt = now + ttlMs
    try {
      await this.#db.kysely.insertInto('leases').values({ name, holder, token: 1, expires_at: expiresAt }).execute()
      return { name, holder, token: 1, expiresAt }
    } catch {
      // The row exists: fall through to a takeover of an expired lease, or a renewal of ours.
    }
    const result = await this.#db.kysely
      .updateTable('leases')
      .set((eb) => ({
        token: eb.case().when('holder', '=', holder).then(eb.ref('token')).else(eb('token', '+', 1)).end(),
        holder,
        expires_at: expiresAt,
      }))
      .where('name', '=', name)
      .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<=', now)]))
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) !== 1) return null
    const row = await this.#db.kysely.selectFrom('leases').select(['token']).where('name', '=', name).where('holder', '=', holder).executeTakeFirst()
    return row ? { name, holder, token: Number(row.token), expiresAt } : null
  }

  /** Extends a lease still held with the same token; false when it was lost. */
  async renew(lease: Lease, ttlMs: number, now = Date.now()): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('leases')
      .set({ expires_at: now + ttlMs })
      .where('name', '=', lease.name)
      .where('holder', '=', lease.holder)
      .where('token', '=', lease.token)
      .where('expires_at', '>', now)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  async release(lease: Lease): Promise<void> {
    await this.#db.kysely
      .updateTable('leases')
      .set({ expires_at: 0 })
      .where('name', '=', lease.name)
      .where('holder', '=', lease.holder)
      .where('token', '=', lease.token)
      .execute()
  }

  /** The current holder, if the lease is live. */
  async holderOf(name: string, now = Date.now()): Promise<Lease | null> {
    const row = await this.#db.kysely.selectFrom('leases').selectAll().where('name', '=', name).where('expires_at', '>', now).executeTakeFirst()
    return row ? { name: row.name, holder: row.holder, token: Number(row.token), expiresAt: Number(row.expires_at) } : null
  }
}
