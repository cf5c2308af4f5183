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
  release(lease: Lease): Promise<void>
  close(): Promise<void>
}

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

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

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

  async release(lease: Lease): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#key(lease.name), `${lease.holder}|${lease.token}`)
  }

  async close(): Promise<void> {
    this.#redis.disconnect()
  }

  #key(name: string): string {
    return `${this.#prefix}lease:${name}`
  }
}
