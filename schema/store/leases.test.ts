import { describe, expect, it } from 'vitest'
import { DIALECTS } from '../../test/support/databases.ts'
import { suiteStore } from '../../test/support/suite-store.ts'

describe.each(DIALECTS)('LeaseRepository on %s', (dialect) => {
  const suite = suiteStore(dialect)

  it('gives a free lease to the first holder and refuses the second while it is live', async () => {
    const a = await suite().leases.acquire('rollout:1', 'a', 1000, 10_000)
    expect(a).toMatchObject({ holder: 'a', token: 1, expiresAt: 11_000 })
    expect(await suite().leases.acquire('rollout:1', 'b', 1000, 10_500)).toBeNull()
    expect((await suite().leases.holderOf('rollout:1', 10_500))?.holder).toBe('a')
  })

  it('renews for the same holder without a new token, and hands over with a larger token once expired', async () => {
    const renewed = await suite().leases.acquire('rollout:1', 'a', 1000, 10_800)
    expect(renewed?.token).toBe(1)
    const taken = await suite().leases.acquire('rollout:1', 'b', 1000, 12_000)
    expect(taken).toMatchObject({ holder: 'b', token: 2 })
    // The old holder's lease is gone: renewing it fails, and so does taking it back early.
    expect(await suite().leases.renew({ name: 'rollout:1', holder: 'a', token: 1, expiresAt: 11_800 }, 1000, 12_100)).toBe(false)
    expect(await suite().leases.acquire('rollout:1', 'a', 1000, 12_200)).toBeNull()
  })

  it('renews and releases only with the right token', async () => {
    const lease = (await suite().leases.acquire('rollout:2', 'a', 1000, 20_000))!
    expect(await suite().leases.renew(lease, 5000, 20_500)).toBe(true)
    expect(await suite().leases.renew({ ...lease, token: lease.token + 7 }, 5000, 20_600)).toBe(false)
    await suite().leases.release({ ...lease, holder: 'b' })
    expect((await suite().leases.holderOf('rollout:2', 21_000))?.holder).toBe('a')
    await suite().leases.release(lease)
    expect(await suite().leases.holderOf('rollout:2', 21_000)).toBeNull()
    expect((await suite().leases.acquire('rollout:2', 'b', 1000, 21_000))?.token).toBe(lease.token + 1)
  })

  it('renews a lease that expired while nobody took it (the store was down), never a released or taken one', async () => {
    const lapsed = (await suite().leases.acquire('rollout:lapsed', 'a', 1000, 70_000))!
    const released = (await suite().leases.acquire('rollout:released', 'a', 1000, 70_000))!
    const taken = (await suite().leases.acquire('rollout:taken', 'a', 1000, 70_000))!
    await suite().leases.release(released)
    expect(await suite().leases.acquire('rollout:taken', 'b', 1000, 75_000)).toMatchObject({ token: taken.token + 1 })
    // 30 s later (all three expired at 71,000): only the one nobody touched is still a's, with its token.
    expect(await suite().leases.renew(lapsed, 1000, 100_000)).toBe(true)
    expect(await suite().leases.holderOf('rollout:lapsed', 100_500)).toMatchObject({ holder: 'a', token: lapsed.token })
    expect(await suite().leases.renew(released, 1000, 100_000)).toBe(false)
    expect(await suite().leases.renew(taken, 1000, 100_000)).toBe(false)
    // The same in one round trip.
    expect(await suite().leases.renewMany([lapsed, released, taken], 1000, 130_000)).toEqual(['rollout:released', 'rollout:taken'])
    expect((await suite().leases.holderOf('rollout:lapsed', 130_500))?.holder).toBe('a')
    expect(await suite().leases.holderOf('rollout:released', 130_500)).toBeNull()
  })

  it('renews many leases of a holder at once and names the lost ones', async () => {
    const mine = await Promise.all(['m1', 'm2', 'm3'].map((n) => suite().leases.acquire(`rollout:${n}`, 'a', 1000, 40_000)))
    const [m1, m2, m3] = mine.map((l) => l!)
    await suite().leases.release(m2!)
    expect(await suite().leases.renewMany([m1!, m2!, m3!], 5000, 40_900)).toEqual(['rollout:m2'])
    // Renewed to 45,900; m1 once more to 50,000; m3 runs out and b takes it.
    expect(await suite().leases.renewMany([m1!], 5000, 45_000)).toEqual([])
    expect(await suite().leases.acquire('rollout:m3', 'b', 5000, 46_000)).not.toBeNull()
    expect(await suite().leases.renewMany([m1!, m3!], 5000, 46_100)).toEqual(['rollout:m3'])
    // m1 now runs to 51,100.
    expect((await suite().leases.holderOf('rollout:m1', 51_000))?.holder).toBe('a')
    expect(await suite().leases.renewMany([{ ...m1!, token: m1!.token + 1 }], 5000, 51_000)).toEqual(['rollout:m1'])
    expect(Object.fromEntries(await suite().leases.holders(['rollout:m1', 'rollout:m2', 'rollout:m3', 'rollout:none'], 47_000))).toEqual({ 'rollout:m1': 'a', 'rollout:m3': 'b' })
  })

  it('keeps members live for a TTL, deletes rows gone for longer, and never counts fences or leases', async () => {
    expect(await suite().leases.heartbeat('x', 1000, 50_000)).toEqual(['x'])
    expect(await suite().leases.heartbeat('y', 1000, 50_500)).toEqual(['x', 'y'])
    expect(await suite().leases.heartbeat('y', 1000, 51_200)).toEqual(['y'])
    // x's row expired at 51,000; more than a TTL later it is deleted, not just ignored.
    await suite().leases.heartbeat('y', 1000, 52_100)
    const rows = await suite().db.kysely.selectFrom('leases').select('name').where('name', 'like', 'member:%').execute()
    expect(rows.map((r) => r.name)).toEqual(['member:y'])
    await suite().leases.leave('y')
    expect(await suite().leases.heartbeat('z', 1000, 52_100)).toEqual(['z'])
    await expect(suite().leases.heartbeat('', 1000)).rejects.toThrow(/holder must not be empty/)
  })

  it('forgets the fences and expired leases of finished rollouts, never a live lease or another name', async () => {
    const names = ['rollout:f1', 'rollout:f2', 'rollout:f3']
    for (const name of names) {
      await suite().leases.acquire(name, 'a', 1000, 60_000)
      await suite().leases.takeFence(name, 'a')
    }
    await suite().leases.acquire('rollout:kept', 'a', 1000, 60_000)
    await suite().leases.takeFence('rollout:kept', 'a')
    // f3's lease is renewed past the moment of forgetting (someone holds it): it stays, its fence goes.
    await suite().leases.acquire('rollout:f3', 'a', 10_000, 60_500)
    await suite().leases.forget([...names, 'rollout:never-held'], 61_000)
    const rows = (await suite().db.kysely.selectFrom('leases').select('name').where('name', 'like', '%rollout:f%').execute()).map((r) => r.name)
    expect(rows).toEqual(['rollout:f3'])
    expect((await suite().db.kysely.selectFrom('leases').select('name').where('name', 'like', '%rollout:kept').orderBy('name').execute()).map((r) => r.name)).toEqual(['fence:rollout:kept', 'rollout:kept'])
    // A later holder of a forgotten name starts afresh.
    expect(await suite().leases.takeFence('rollout:f1', 'b')).toBe(1)
  })

  it('lets exactly one of many racing holders win', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => suite().leases.acquire('rollout:race', `h${i}`, 60_000, 30_000)))
    expect(results.filter((r) => r !== null)).toHaveLength(1)
  })
})
