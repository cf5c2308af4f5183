import { GraphQLError } from 'graphql'

/** SENTRA_RATE_LIMIT: `perSecond` operations refill each second, up to `burst` at once. */
export interface RateLimit {
  perSecond: number
  burst: number
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number }

/** Buckets kept before full (idle) ones are forgotten; a full bucket is the same as none. */
const MAX_BUCKETS = 10_000

/**
 * A token bucket per key: `token:<id>` for an authenticated caller, `ip:<address>` for a
 * request without a valid token. Each GraphQL operation (an HTTP request, a graphql-ws
 * subscribe message) takes one; an empty bucket answers with how long until the next.
 * In memory, per process: with several API replicas each one counts on its own.
 */
export class RateLimiter {
  readonly #limit: RateLimit
  readonly #now: () => number
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  /** `now` in milliseconds (a test clock in tests). */
  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit: perSecond must be > 0 and burst >= 1')
    this.#limit = limit
    this.#now = now
  }

  /** What `take` would answer, without taking: for a check made before an expensive step. */
  peek(key: string): RateDecision {
    const bucket = this.#buckets.get(key)
    if (!bucket) return { allowed: true }
    const tokens = this.#refilled(bucket, this.#now())
    return tokens >= 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: this.#wait(tokens) }
  }

  take(key: string): RateDecision {
    const now = this.#now()
    const { burst } = this.#limit
    const bucket = this.#buckets.get(key)
    const tokens = bucket ? this.#refilled(bucket, now) : burst
    if (tokens < 1) {
      if (bucket) Object.assign(bucket, { tokens, at: now })
      return { allowed: false, retryAfterSeconds: this.#wait(tokens) }
    }
    if (bucket) {
      bucket.tokens = tokens - 1
      bucket.at = now
    } else {
      if (this.#buckets.size >= MAX_BUCKETS) this.#forgetIdle(now)
      this.#buckets.set(key, { tokens: tokens - 1, at: now })
    }
    return { allowed: true }
  }

  #refilled(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.#limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#limit.perSecond)
  }

  /** Whole seconds until a bucket holding `tokens` has one again. */
  #wait(tokens: number): number {
    return Math.max(1, Math.ceil((1 - tokens) / this.#limit.perSecond))
  }

  /** How many keys are tracked (for tests). */
  get size(): number {
    return this.#buckets.size
  }

  /** Drops buckets that have refilled (they behave as new ones); if none has, the oldest. */
  #forgetIdle(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (this.#refilled(bucket, now) >= this.#limit.burst) this.#buckets.delete(key)
    }
    if (this.#buckets.size >= MAX_BUCKETS) {
      const oldest = this.#buckets.keys().next().value
      if (oldest !== undefined) this.#buckets.delete(oldest)
    }
  }
}

export function rateLimitedMessage(retryAfterSeconds: number): string {
  return `rate limit exceeded (SENTRA_RATE_LIMIT): too many operations with this token; retry in ${retryAfterSeconds} s`
}

/** The graphql-ws answer (HTTP answers 429 with Retry-After and the same body, see server/app.ts). */
export function rateLimitedError(retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(rateLimitedMessage(retryAfterSeconds), { extensions: { code: 'RATE_LIMITED', retryAfter: retryAfterSeconds } })
}
