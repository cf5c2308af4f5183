import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, type Store } from '../schema/store/index.ts'
import { DIALECTS, openTestStore, TEST_REDIS_URL } from '../test/support/databases.ts'
import { RedisLeases, StoreLeases, type Lease, type LeaseManager } from './leases.ts'

const managers: { name: string; open(): Promise<{ leases: LeaseManager; close(): Promise<void> }> }[] = [
  {
    name: 'redis',
    open: async () => {
      const leases = new RedisLeases(TEST_REDIS_URL, { prefix: `sentra-test-${randomBytes(4).toString('hex')}:` })
      return { leases, close: () => leases.close() }
    },
  },
  ...DIALECTS.map((dialect) => ({
    name: `store (${dialect})`,
    open: async () => {
      const opened = await openTestStore(dialect)
      const store: Store = createStore(opened.db)
      return { leases: new StoreLeases(store.leases), close: opened.dispose }
    },
  })),
]

describe.each(managers)('$name leases', ({ open }) => {
  let leases: LeaseManager
  let close: () => Promise<void>

  beforeAll(async () => {
    ;({ leases, close } = await open())
  })
  afterAll(async () => {
    await close?.()
  })

  it('holds a name for one holder at a time; the same holder renews', async () => {
    const a = await leases.acquire('rollout:x', 'a', 5000)
    expect(a).not.toBeNull()
    expect(await leases.acquire('rollout:x', 'b', 5000)).toBeNull()
    expect((await leases.acquire('rollout:x', 'a', 5000))?.token).toBe(a!.token)
    expect(await leases.renew(a!, 5000)).toBe(true)
  })

  it('hands an expired lease to a new holder with a larger fencing token; the old holder cannot renew', async () => {
    const a = (await leases.acquire('rollout:y', 'a', 300))!
    await new Promise((resolve) => setTimeout(resolve, 400))
    const b = await leases.acquire('rollout:y', 'b', 5000)
    expect(b?.token).toBeGreaterThan(a.token)
    expect(await leases.renew(a, 5000)).toBe(false)
    await leases.release(a)
    expect(await leases.acquire('rollout:y', 'c', 5000)).toBeNull()
  })

  it('releases for the holder only', async () => {
    const a = (await leases.acquire('rollout:z', 'a', 5000))!
    await leases.release({ ...a, holder: 'intruder' })
    expect(await leases.acquire('rollout:z', 'b', 5000)).toBeNull()
    await leases.release(a)
    expect(await leases.acquire('rollout:z', 'b', 5000)).not.toBeNull()
  })

  it('lets exactly one of many racing holders win', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => leases.acquire('rollout:race', `h${i}`, 5000)))
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('renews many leases in one call and reports the lost ones as lost', async () => {
    // More than one chunk (500 names per statement or script), so the chunking is exercised.
    const held: Lease[] = []
    for (let i = 0; i < 520; i++) held.push((await leases.acquire(`rollout:many-${i}`, 'a', 60_000))!)
    const released = held[7]!
    await leases.release(released)
    expect(await leases.acquire(released.name, 'c', 5000)).not.toBeNull()
    const short = (await leases.acquire('rollout:many-short', 'a', 300))!
    const extended = (await leases.acquire('rollout:many-ext', 'a', 1500))!
    const extendedAt = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 350))
    // The short lease expired and went to b.
    expect(await leases.acquire('rollout:many-short', 'b', 5000)).not.toBeNull()
    const stale = { ...held[9]!, token: held[9]!.token + 1000 }
    const lost = await leases.renewMany([...held.filter((l) => l !== held[9]), stale, short, extended], 60_000)
    expect(lost.sort()).toEqual([released.name, stale.name, short.name].sort())
    // Renewed for real: past its first TTL the extended lease is still a's.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, extendedAt + 1600 - Date.now())))
    expect(await leases.acquire('rollout:many-ext', 'd', 5000)).toBeNull()
    expect(await leases.renewMany([], 5000)).toEqual([])
    const holders = await leases.holders(['rollout:many-0', 'rollout:many-short', released.name, 'rollout:never-taken'])
    expect(Object.fromEntries(holders)).toEqual({ 'rollout:many-0': 'a', 'rollout:many-short': 'b', [released.name]: 'c' })
  })

  it('lists live members: a heartbeat announces, expiry and leave end membership', async () => {
    expect(await leases.heartbeat('m1', 300)).toContain('m1')
    expect(await leases.heartbeat('m2', 5000)).toEqual(expect.arrayContaining(['m1', 'm2']))
    await new Promise((resolve) => setTimeout(resolve, 400))
    // m1 stopped beating: gone once its TTL ran out; m2 renews, m3 arrives.
    expect((await leases.heartbeat('m2', 5000)).filter((m) => m.startsWith('m'))).toEqual(['m2'])
    expect((await leases.heartbeat('m3', 5000)).filter((m) => m.startsWith('m'))).toEqual(['m2', 'm3'])
    await leases.leave('m2')
    expect((await leases.heartbeat('m3', 5000)).filter((m) => m.startsWith('m'))).toEqual(['m3'])
    // Members are not leases: no rollout lease is taken or blocked by them.
    expect(await leases.acquire('rollout:m3', 'm2', 5000)).not.toBeNull()
  })
})

describe('Redis leases of long-finished rollouts', () => {
  it('forgets the fencing counters of names nobody holds, never of a held one', async () => {
    const leases = new RedisLeases(TEST_REDIS_URL, { prefix: `sentra-test-${randomBytes(4).toString('hex')}:` })
    try {
      // Each name has been taken twice: its counter is at 2.
      for (const name of ['rollout:done', 'rollout:held']) {
        await leases.release((await leases.acquire(name, 'a', 5000))!)
      }
      await leases.release((await leases.acquire('rollout:done', 'b', 5000))!)
      const held = (await leases.acquire('rollout:held', 'b', 5000))!
      expect(held.token).toBe(2)
      await leases.forget(['rollout:done', 'rollout:held', 'rollout:never'])
      expect((await leases.acquire('rollout:done', 'c', 5000))?.token).toBe(1)
      await leases.release(held)
      expect((await leases.acquire('rollout:held', 'c', 5000))?.token).toBe(3)
    } finally {
      await leases.close()
    }
  })
})
