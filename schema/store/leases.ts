import { isUniqueViolation } from './errors.ts'
import { inTransaction, type Executor } from './executor.ts'
import { prepared } from './prepared.ts'

/** A write or target call by a holder whose fencing token is no longer the newest (docs/ha.md). */
export class FencedError extends Error {
  override readonly name = 'FencedError'
}

/** The row of a fence: the same table as the leases, never live as a lease (expires_at 0). */
const fenceKey = (name: string): string => `fence:${name}`

/** expires_at of a released lease: free at once, and never renewed again (an expired one may be). */
const RELEASED = 0

/** A controller's heartbeat row (docs/ha.md, "Balancing"): live while it runs, like a lease. */
const MEMBER_PREFIX = 'member:'
/** The first name after every `member:…` name (';' follows ':'): a range the primary key serves on both dialects. */
const MEMBER_END = 'member;'

/** Names per statement of a batch: far under SQLite's and MySQL's placeholder limits. */
const CHUNK = 500

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const key = keyOf(item)
    const group = groups.get(key)
    if (group) group.push(item)
    else groups.set(key, [item])
  }
  return groups
}

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

  /**
   * Extends a lease still held with the same token; false when it was lost (released, or
   * taken by another holder). A lease that expired while nobody took it is still ours: only
   * a take changes the holder and the token, and a take and a renewal are single conditional
   * writes of one row, so exactly one of them wins. The store being down is what lets leases
   * expire untaken: nobody can take one without it, and a controller that holds its rollouts
   * through the outage keeps them, and the canary its traffic, when it comes back.
   */
  async renew(lease: Lease, ttlMs: number, now = Date.now()): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('leases')
      .set({ expires_at: now + ttlMs })
      .where('name', '=', lease.name)
      .where('holder', '=', lease.holder)
      .where('token', '=', lease.token)
      .where('expires_at', '>', RELEASED)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /**
   * Renews many leases of one holder in one UPDATE per 500 names, then reads back which are
   * still ours (same holder and token, not released; expired untaken ones too, as renew()).
   * Returns the names of the leases lost. The UPDATE matches on holder, not token: holder ids
   * are unique per process and a holder taking a name it still holds keeps its token, so a
   * row of ours has our token; the read back checks it anyway.
   */
  async renewMany(leases: readonly Lease[], ttlMs: number, now = Date.now()): Promise<string[]> {
    const lost: string[] = []
    for (const [holder, ofHolder] of groupBy(leases, (l) => l.holder)) {
      for (const chunk of chunks(ofHolder)) {
        const names = chunk.map((l) => l.name)
        await this.#db.kysely
          .updateTable('leases')
          .set({ expires_at: now + ttlMs })
          .where('holder', '=', holder)
          .where('name', 'in', names)
          .where('expires_at', '>', RELEASED)
          .execute()
        const rows = await this.#db.kysely
          .selectFrom('leases')
          .select(['name', 'token', 'expires_at'])
          .where('holder', '=', holder)
          .where('name', 'in', names)
          .execute()
        const ours = new Map(rows.filter((r) => Number(r.expires_at) > now).map((r) => [r.name, Number(r.token)]))
        for (const lease of chunk) if (ours.get(lease.name) !== lease.token) lost.push(lease.name)
      }
    }
    return lost
  }

  /** The live holder of each of `names` that has one (one SELECT per 500 names). */
  async holders(names: readonly string[], now = Date.now()): Promise<Map<string, string>> {
    const held = new Map<string, string>()
    for (const chunk of chunks(names)) {
      const rows = await this.#db.kysely.selectFrom('leases').select(['name', 'holder']).where('name', 'in', chunk).where('expires_at', '>', now).execute()
      for (const row of rows) held.set(row.name, row.holder)
    }
    return held
  }

  /**
   * Announces `holder` as a live controller until now + ttl and returns every live one (itself
   * included), sorted. Rows of controllers gone for longer than a TTL are deleted on the way, so
   * restarts (each with a new holder id) do not pile rows up.
   */
  async heartbeat(holder: string, ttlMs: number, now = Date.now()): Promise<string[]> {
    if (!holder) throw new RangeError('heartbeat: holder must not be empty')
    const name = `${MEMBER_PREFIX}${holder}`
    const updated = await this.#db.kysely.updateTable('leases').set({ holder, expires_at: now + ttlMs }).where('name', '=', name).executeTakeFirst()
    if (Number(updated.numUpdatedRows) === 0) {
      try {
        await this.#db.kysely.insertInto('leases').values({ name, holder, token: 1, expires_at: now + ttlMs }).execute()
      } catch (error) {
        // Two heartbeats of one holder racing (a scan and stop): the row is there, which is all we want.
        if (!isUniqueViolation(error)) throw error
      }
    }
    const rows = await this.#db.kysely.selectFrom('leases').select(['name', 'holder', 'expires_at']).where('name', '>=', MEMBER_PREFIX).where('name', '<', MEMBER_END).execute()
    // Deleted by exact name, and only when there are any: a range DELETE every scan would take
    // MySQL gap locks that other controllers' first heartbeats (INSERTs) would queue behind.
    const gone = rows.filter((r) => Number(r.expires_at) <= now - ttlMs).map((r) => r.name)
    if (gone.length > 0) await this.#db.kysely.deleteFrom('leases').where('name', 'in', gone).where('expires_at', '<=', now - ttlMs).execute()
    return rows
      .filter((r) => Number(r.expires_at) > now)
      .map((r) => r.holder)
      .sort()
  }

  /** Ends `holder`'s membership at once (a controller that stops), so the others recompute their shares. */
  async leave(holder: string): Promise<void> {
    await this.#db.kysely.deleteFrom('leases').where('name', '=', `${MEMBER_PREFIX}${holder}`).execute()
  }

  async release(lease: Lease): Promise<void> {
    await this.#db.kysely
      .updateTable('leases')
      .set({ expires_at: RELEASED })
      .where('name', '=', lease.name)
      .where('holder', '=', lease.holder)
      .where('token', '=', lease.token)
      .execute()
  }

  /**
   * Deletes the rows kept for `names` (rollout leases) once their rollouts are long finished
   * (the evidence retention, controller/evidence-retention.ts): each one's fence and its lease
   * if expired. Otherwise one expired lease row and one fence row per rollout ever run stay
   * forever. Not at the finish itself: a fence row made again would start at token 1, which an
   * earlier holder still paused inside a tick may hold; a month later none is.
   */
  async forget(names: readonly string[], now = Date.now()): Promise<void> {
    for (const chunk of chunks(names)) {
      await this.#db.kysely.deleteFrom('leases').where('name', 'in', chunk.map(fenceKey)).execute()
      await this.#db.kysely.deleteFrom('leases').where('name', 'in', chunk).where('expires_at', '<=', now).execute()
    }
  }

  /** The current holder, if the lease is live. */
  async holderOf(name: string, now = Date.now()): Promise<Lease | null> {
    const row = await this.#db.kysely.selectFrom('leases').selectAll().where('name', '=', name).where('expires_at', '>', now).executeTakeFirst()
    return row ? { name: row.name, holder: row.holder, token: Number(row.token), expiresAt: Number(row.expires_at) } : null
  }

  /**
   * Store-side fencing (docs/ha.md): a controller that has just taken `name` (from Redis or
   * from this table) bumps the fence and gets its token. The store's counter grows by one on
   * every take, whatever happened to Redis, so the newest holder always has the largest token.
   */
  async takeFence(name: string, holder: string): Promise<number> {
    const key = fenceKey(name)
    return inTransaction(this.#db.kysely, async (trx) => {
      // Insert first: on MySQL an UPDATE of a missing row takes a gap lock, and two first
      // takes of different rollouts would then deadlock on each other's insert.
      try {
        await trx.insertInto('leases').values({ name: key, holder, token: 1, expires_at: 0 }).execute()
        return 1
      } catch (error) {
        if (!isUniqueViolation(error)) throw error
      }
      await trx
        .updateTable('leases')
        .set((eb) => ({ token: eb('token', '+', 1), holder }))
        .where('name', '=', key)
        .execute()
      const row = await trx.selectFrom('leases').select('token').where('name', '=', key).executeTakeFirstOrThrow()
      return Number(row.token)
    })
  }

  /**
   * Throws FencedError unless `token` is still the newest for `name`. Inside a transaction on
   * MySQL the fence row stays locked until commit, so a takeover waits for this write to end
   * and everything after it is refused.
   */
  async checkFence(name: string, token: number): Promise<void> {
    const lock = this.#db.dialect === 'mysql' && this.#db.kysely.isTransaction
    // Twice per tick: prepared once (prepared.ts).
    const { rows } = await prepared.run(this.#db, `leases.checkFence:${lock ? 'lock' : 'read'}`, [fenceKey(name)] as const, (kysely, [key]) => {
      const query = kysely.selectFrom('leases').select(['token', 'holder']).where('name', '=', key)
      return lock ? query.forUpdate() : query
    })
    const row = rows[0]
    const current = row ? Number(row.token) : null
    if (current !== token) {
      throw new FencedError(`${name}: fencing token ${token} is stale (the newest is ${current ?? 'none'}, held by ${row?.holder ?? 'nobody'}); not acting`)
    }
  }
}
