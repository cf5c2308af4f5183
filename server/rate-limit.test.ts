import { describe, expect, it } from 'vitest'
import { RateLimiter, rateLimitedError } from './rate-limit.ts'

/** A clock the test moves by hand: no sleeping, no timing assertions. */
function clock() {
  let now = 0
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

describe('RateLimiter (token bucket)', () => {
  it('allows a burst, then refuses with how long to wait, then refills at the rate', () => {
    const time = clock()
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, time.now)
    expect([1, 2, 3].map(() => limiter.take('token:a').allowed)).toEqual([true, true, true])
    expect(limiter.take('token:a')).toEqual({ allowed: false, retryAfterSeconds: 1 })
    time.advance(500)
    expect(limiter.take('token:a').allowed).toBe(true)
    expect(limiter.take('token:a').allowed).toBe(false)
    // Refused attempts do not dig the hole deeper; a long pause refills only up to the burst.
    time.advance(60_000)
    expect([1, 2, 3, 4].map(() => limiter.take('token:a').allowed)).toEqual([true, true, true, false])
  })

  it('keeps one bucket per key: one token (or address) running out leaves the others alone', () => {
    const time = clock()
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, time.now)
    expect(limiter.take('token:a').allowed).toBe(true)
    expect(limiter.take('token:a').allowed).toBe(false)
    expect(limiter.take('token:b').allowed).toBe(true)
    expect(limiter.take('ip:127.0.0.1').allowed).toBe(true)
  })

  it('peeks without taking: a check before an expensive step', () => {
    const time = clock()
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, time.now)
    expect(limiter.peek('ip:a')).toEqual({ allowed: true })
    expect(limiter.size).toBe(0)
    limiter.take('ip:a')
    limiter.take('ip:a')
    expect(limiter.peek('ip:a')).toEqual({ allowed: false, retryAfterSeconds: 1 })
    expect(limiter.peek('ip:a')).toEqual({ allowed: false, retryAfterSeconds: 1 })
    time.advance(1000)
    expect(limiter.peek('ip:a')).toEqual({ allowed: true })
    expect(limiter.take('ip:a').allowed).toBe(true)
    expect(limiter.take('ip:a').allowed).toBe(false)
  })

  it('says how many whole seconds until the next operation at slow rates', () => {
    const time = clock()
    const limiter = new RateLimiter({ perSecond: 0.1, burst: 1 }, time.now)
    limiter.take('k')
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 10 })
    time.advance(4000)
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 6 })
  })

  it('forgets idle buckets instead of growing without bound under many addresses', () => {
    const time = clock()
    const limiter = new RateLimiter({ perSecond: 1000, burst: 1 }, time.now)
    for (let i = 0; i < 25_000; i++) {
      limiter.take(`ip:${i}`)
      time.advance(1)
    }
    expect(limiter.size).toBeLessThanOrEqual(10_000)
  })

  it('refuses nonsense settings and answers graphql-ws with RATE_LIMITED', () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError)
    expect(() => new RateLimiter({ perSecond: 1, burst: 0 })).toThrow(RangeError)
    expect(() => new RateLimiter({ perSecond: Number.NaN, burst: 1 })).toThrow(RangeError)
    const error = rateLimitedError(3)
    expect(error.message).toMatch(/retry in 3 s/)
    expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: 3 })
  })
})
