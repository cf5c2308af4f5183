import { describe, expect, it } from 'vitest'
import { newId } from './ids.ts'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('newId', () => {
  it('is a UUID version 7 whose first 48 bits are the time in milliseconds', () => {
    const at = Date.UTC(2026, 10, 28, 12, 0, 0, 123)
    const id = newId(at)
    expect(id).toMatch(UUID_V7)
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at)
    expect(newId()).toMatch(UUID_V7)
  })

  it('never repeats, within one millisecond and across many pool refills', () => {
    const ids = Array.from({ length: 50_000 }, () => newId(1_000))
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids.slice(0, 100)) expect(id).toMatch(UUID_V7)
  })

  it('sorts by the millisecond it was made in', () => {
    const times = [0, 1, 999, 1_000, 1_700_000_000_000, 1_800_000_000_000, 2 ** 48 - 1]
    const ids = times.map((t) => newId(t))
    expect([...ids].sort()).toEqual(ids)
  })

  it('clamps a time outside 48 bits instead of writing garbage', () => {
    expect(newId(-5).slice(0, 13)).toBe('00000000-0000')
    expect(newId(2 ** 60).slice(0, 13)).toBe('ffffffff-ffff')
    expect(newId(Number.NaN).slice(0, 13)).toBe('00000000-0000')
    expect(newId(1.5).slice(0, 13)).toBe('00000000-0001')
  })
})
