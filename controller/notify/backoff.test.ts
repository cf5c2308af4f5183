import { describe, expect, it } from 'vitest'
import { retryDelayMs } from './backoff.ts'

describe('retryDelayMs', () => {
  const settings = { baseDelayMs: 1000, maxDelayMs: 60_000 }

  it('doubles from the base and stops at the cap (no jitter at random() = 1)', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 40].map((attempt) => retryDelayMs(attempt, { ...settings, random: () => 1 }))
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000])
  })

  it('takes a random half off at most (equal jitter)', () => {
    expect(retryDelayMs(3, { ...settings, random: () => 0 })).toBe(2000)
    expect(retryDelayMs(3, { ...settings, random: () => 0.5 })).toBe(3000)
    for (let i = 0; i < 100; i++) {
      const delay = retryDelayMs(2, settings)
      expect(delay).toBeGreaterThanOrEqual(1000)
      expect(delay).toBeLessThanOrEqual(2000)
    }
  })
})
