import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, type Store } from '../schema/store/index.ts'
import { openTestStore, TEST_REDIS_URL } from '../test/support/databases.ts'
import { RedisLeases, StoreLeases, type LeaseManager } from './leases.ts'

const managers: { name: string; open(): Promise<{ leases: LeaseManager; close(): Promise<void> }> }[] = [
  {
    name: 'redis',
    open: async () => {
      const leases = new RedisLeases(TEST_REDIS_URL, { prefix: `sentra-test-${randomBytes(4).toString('hex')}:` })
      return { leases, close: () => leases.close() }
    },
  },
  {
    name: 'store (sqlite)',
    open: async () => {
      const opened = await openTestStore('sqlite')
      const store: Store = createStore(opened.db)
      return { leases: new StoreLeases(store.leases), close: opened.dispose }
    },
  },
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
})
