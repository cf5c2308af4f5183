import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, type Store } from './index.ts'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'

describe.each(DIALECTS)('LeaseRepository on %s', (dialect) => {
  let store: Store
  let dispose: () => Promise<void>

  beforeAll(async () => {
    const opened = await openTestStore(dialect)
    store = createStore(opened.db)
    dispose = opened.dispose
  })
  afterAll(async () => {
    await dispose?.()
  })

  it('gives a free lease to the first holder and refuses the second while it is live', async () => {
    const a = await store.leases.acquire('rollout:1', 'a', 1000, 10_000)
    expect(a).toMatchObject({ holder: 'a', token: 1, expiresAt: 11_000 })
    expect(await store.leases.acquire('rollout:1', 'b', 1000, 10_500)).toBeNull()
    expect((await store.leases.holderOf('rollout:1', 10_500))?.holder).toBe('a')
  })

  it('renews for the same holder without a new token, and hands over with a larger token once expired', async () => {
    const renewed = await store.leases.acquire('rollout:1', 'a', 1000, 10_800)
    expect(renewed?.token).toBe(1)
    const taken = await store.leases.acquire('rollout:1', 'b', 1000, 12_000)
    expect(taken).toMatchObject({ holder: 'b', token: 2 })
    // The old holder's lease is gone: renewing it fails, and so does taking it back early.
    expect(await store.leases.renew({ name: 'rollout:1', holder: 'a', token: 1, expiresAt: 11_800 }, 1000, 12_100)).toBe(false)
    expect(await store.leases.acquire('rollout:1', 'a', 1000, 12_200)).toBeNull()
  })

  it('renews and releases only with the right token', async () => {
    const lease = (await store.leases.acquire('rollout:2', 'a', 1000, 20_000))!
    expect(await store.leases.renew(lease, 5000, 20_500)).toBe(true)
    expect(await store.leases.renew({ ...lease, token: lease.token + 7 }, 5000, 20_600)).toBe(false)
    await store.leases.release({ ...lease, holder: 'b' })
    expect((await store.leases.holderOf('rollout:2', 21_000))?.holder).toBe('a')
    await store.leases.release(lease)
    expect(await store.leases.holderOf('rollout:2', 21_000)).toBeNull()
    expect((await store.leases.acquire('rollout:2', 'b', 1000, 21_000))?.token).toBe(lease.token + 1)
  })

  it('lets exactly one of many racing holders win', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.leases.acquire('rollout:race', `h${i}`, 60_000, 30_000)))
    expect(results.filter((r) => r !== null)).toHaveLength(1)
  })
})
