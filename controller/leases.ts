import { Redis } from 'ioredis'
import type { Lease, LeaseRepository } from '../schema/store/leases.ts'

export type { Lease } from '../schema/store/leases.ts'

/** Who holds which rollout. One controller per rollout; the fencing token orders holders. */
export interface LeaseManager {
  readonly kind: 'store' | 'redis'
  /** Takes or renews `name` for `holder`; null while another holder's lease is live. */
  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null>
  /** false when the lease was lost (expired and taken, or released). */
  renew(lease: Lease, ttlMs: number): Promise<boolean>
  /**
   * Renews all of `leases` in one round trip (per few hundred names on the store); returns the
   * names of those lost. A renewal of every held rollout per scan, one await each, reached the
   * lease TTL at 1,000 rollouts (docs/benchmarks.md, "controller").
   */
  renewMany(leases: readonly Lease[], ttlMs: number): Promise<string[]>
  /** The live holder of each of `names` that has one: which rollouts are free, without taking them. */
  holders(names: readonly string[]): Promise<Map<string, string>>
  /** Announces `holder` as a live controller for `ttlMs`; returns every live controller, itself included. */
  heartbeat(holder: string, ttlMs: number): Promise<string[]>
  /** Ends `holder`'s membership now (it stops), so the others recompute their shares at once. */
  leave(holder: string): Promise<void>
  release(lease: Lease): Promise<void>
  /**
   * What the lease manager keeps of `names` beyond the store once their rollouts are long
   * finished (the evidence retention; the store's own rows go with LeaseRepository.forget):
   * Redis's fencing counters, which have no expiry. A name someone holds is left alone.
   */
  forget?(names: readonly string[]): Promise<void>
  close(): Promise<void>
}

/** The lease (and store fence) of a rollout. */
export const rolloutLeaseName = (rolloutId: string): string => `rollout:${rolloutId}`

/** Row leases in the store: embedded mode, or several controllers without Redis. */
export class StoreLeases implements LeaseManager {
  readonly kind = 'store'
  readonly #repo: LeaseRepository

  constructor(repo: LeaseRepository) {
    this.#repo = repo
  }

  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    return this.#repo.acquire(name, holder, ttlMs)
  }

  renew(lease: Lease, ttlMs: number): Promise<boolean> {
    return this.#repo.renew(lease, ttlMs)
  }

  renewMany(leases: readonly Lease[], ttlMs: number): Promise<string[]> {
    return this.#repo.renewMany(leases, ttlMs)
  }

  holders(names: readonly string[]): Promise<Map<string, string>> {
    return this.#repo.holders(names)
  }

  heartbeat(holder: string, ttlMs: number): Promise<string[]> {
    return this.#repo.heartbeat(holder, ttlMs)
  }

  leave(holder: string): Promise<void> {
    return this.#repo.leave(holder)
  }

  release(lease: Lease): Promise<void> {
    return this.#repo.release(lease)
  }

  async close(): Promise<void> {}
}

// KEYS[1] lease key, KEYS[2] fencing counter; ARGV holder, ttl. Same holder renews; a free
// key is taken with a new token from the counter, so tokens only grow across holders.
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current then
  local holder, token = string.match(current, '^(.*)|(%d+)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(token)
  end
  return -1
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token`

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`

// KEYS lease keys; ARGV[1] ttl, ARGV[1 + i] the value KEYS[i] must hold. 1 renewed, 0 lost, per key.
const RENEW_MANY = `
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then renewed[i] = redis.call('PEXPIRE', key, ARGV[1]) else renewed[i] = 0 end
end
return renewed`

// KEYS[1] the member set, KEYS[2] this member's key; ARGV holder, ttl, member key prefix.
// The key expires on its own when its controller dies; the set only lists names, and loses
// those whose key is gone, so it stays small however many controllers came and went.
const HEARTBEAT = `
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
local live = {}
for _, holder in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[3] .. holder) == 1 then table.insert(live, holder) else redis.call('SREM', KEYS[1], holder) end
end
return live`

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

// KEYS lease keys, each followed by its fencing counter: a counter goes when its lease key is gone.
const FORGET = `
local forgotten = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 0 then forgotten = forgotten + redis.call('DEL', KEYS[i + 1]) end
end
return forgotten`

/** Keys per renewal script and per MGET. */
const RENEW_CHUNK = 500

/** Redis leases (SET NX PX semantics in a script) with a fencing token from INCR. */
export class RedisLeases implements LeaseManager {
  readonly kind = 'redis'
  readonly #redis: Redis
  readonly #prefix: string

  constructor(url: string, { prefix = 'sentra:' }: { prefix?: string } = {}) {
    this.#redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true })
    // Connection errors reach the caller as failed commands (a lease not renewed is dropped);
    // without a listener ioredis would print every reconnect attempt while Redis is down.
    this.#redis.on('error', () => {})
    this.#prefix = prefix
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const token = Number(await this.#redis.eval(ACQUIRE, 2, this.#key(name), `${this.#key(name)}:fence`, holder, String(ttlMs)))
    return token < 0 ? null : { name, holder, token, expiresAt: Date.now() + ttlMs }
  }

  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    return Number(await this.#redis.eval(RENEW, 1, this.#key(lease.name), `${lease.holder}|${lease.token}`, String(ttlMs))) === 1
  }

  async renewMany(leases: readonly Lease[], ttlMs: number): Promise<string[]> {
    if (leases.length === 0) return []
    // Chunks of one script call each, sent as one pipeline: one round trip, and no script
    // holds Redis for long (each is a few hundred GETs and PEXPIREs).
    const chunks: Lease[][] = []
    for (let i = 0; i < leases.length; i += RENEW_CHUNK) chunks.push(leases.slice(i, i + RENEW_CHUNK))
    const pipeline = this.#redis.pipeline()
    for (const chunk of chunks) {
      pipeline.eval(RENEW_MANY, chunk.length, ...chunk.map((l) => this.#key(l.name)), String(ttlMs), ...chunk.map((l) => `${l.holder}|${l.token}`))
    }
    const results = (await pipeline.exec()) ?? []
    const lost: string[] = []
    chunks.forEach((chunk, c) => {
      const [error, renewed] = results[c] ?? [new Error('no reply')]
      // A chunk whose script failed is lost as a whole: its leases are dropped, as with renew().
      chunk.forEach((lease, i) => {
        if (error || !Array.isArray(renewed) || Number(renewed[i]) !== 1) lost.push(lease.name)
      })
    })
    return lost
  }

  async holders(names: readonly string[]): Promise<Map<string, string>> {
    const held = new Map<string, string>()
    for (let i = 0; i < names.length; i += RENEW_CHUNK) {
      const chunk = names.slice(i, i + RENEW_CHUNK)
      const values = await this.#redis.mget(...chunk.map((name) => this.#key(name)))
      values.forEach((value, j) => {
        const holder = value === null ? null : /^(.*)\|\d+$/.exec(value)?.[1]
        if (holder != null) held.set(chunk[j]!, holder)
      })
    }
    return held
  }

  async heartbeat(holder: string, ttlMs: number): Promise<string[]> {
    if (!holder) throw new RangeError('heartbeat: holder must not be empty')
    const live = (await this.#redis.eval(HEARTBEAT, 2, `${this.#prefix}members`, `${this.#memberPrefix}${holder}`, holder, String(ttlMs), this.#memberPrefix)) as string[]
    return [...live].sort()
  }

  async leave(holder: string): Promise<void> {
    await this.#redis.multi().del(`${this.#memberPrefix}${holder}`).srem(`${this.#prefix}members`, holder).exec()
  }

  async release(lease: Lease): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#key(lease.name), `${lease.holder}|${lease.token}`)
  }

  async forget(names: readonly string[]): Promise<void> {
    for (let i = 0; i < names.length; i += RENEW_CHUNK) {
      const keys = names.slice(i, i + RENEW_CHUNK).flatMap((name) => [this.#key(name), `${this.#key(name)}:fence`])
      await this.#redis.eval(FORGET, keys.length, ...keys)
    }
  }

  async close(): Promise<void> {
    this.#redis.disconnect()
  }

  get #memberPrefix(): string {
    return `${this.#prefix}member:`
  }

  #key(name: string): string {
    return `${this.#prefix}lease:${name}`
  }
}
