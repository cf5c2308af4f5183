import { describe, expect, it } from 'vitest'
import { GroupCommit, groupsCommitsByDefault } from './group-commit.ts'
import type { Store } from './index.ts'
import { DIALECTS } from '../../test/support/databases.ts'
import { suiteStore } from '../../test/support/suite-store.ts'

describe.each(DIALECTS)('Store.savepoint and GroupCommit on %s', (dialect) => {
  const suite = suiteStore(dialect)
  let n = 0
  /** A fresh lease name: a run's write is taking it, and "stored" is that it has a holder. */
  const name = () => `gc:${++n}`
  const take = (tx: Store, lease: string, holder = 'h') => tx.leases.acquire(lease, holder, 60_000)
  const holderOf = async (lease: string) => (await suite().leases.holderOf(lease))?.holder ?? null

  it('savepoint: a part that throws is undone, the rest of the transaction commits', async () => {
    const [kept, undone, nested] = [name(), name(), name()]
    await suite().transaction(async (tx) => {
      await take(tx, kept)
      await expect(
        tx.savepoint(async (sp) => {
          await take(sp, undone)
          await sp.savepoint((inner) => take(inner, nested))
          throw new Error('this part fails')
        }),
      ).rejects.toThrow('this part fails')
    })
    expect(await holderOf(kept)).toBe('h')
    expect(await holderOf(undone)).toBeNull()
    expect(await holderOf(nested)).toBeNull()
  })

  it('savepoint outside a transaction is a transaction of its own', async () => {
    const lease = name()
    await expect(
      suite().savepoint(async (tx) => {
        await take(tx, lease)
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(await holderOf(lease)).toBeNull()
    await suite().savepoint((tx) => take(tx, lease))
    expect(await holderOf(lease)).toBe('h')
  })

  it('commits the runs queued in one turn in one transaction, and settles each only after the commit', async () => {
    const events: string[] = []
    const logged: Store = {
      ...suite(),
      transaction: async (fn) => {
        const value = await suite().transaction(fn)
        events.push('commit')
        return value
      },
    }
    const commits = new GroupCommit(logged)
    const leases = [name(), name(), name()]
    const values = await Promise.all(
      leases.map((lease, i) =>
        commits.run(async (tx) => {
          await take(tx, lease, `h${i}`)
          return i
        }).then((value) => {
          events.push(`settled ${value}`)
          return value
        }),
      ),
    )
    expect(values).toEqual([0, 1, 2])
    expect(commits.stats).toEqual({ batches: 1, runs: 3 })
    expect(events).toEqual(['commit', 'settled 0', 'settled 1', 'settled 2'])
    expect(await Promise.all(leases.map(holderOf))).toEqual(['h0', 'h1', 'h2'])
  })

  it('a run that throws gets its own error and leaves nothing; the others in its batch commit', async () => {
    const commits = new GroupCommit(suite())
    const [before, failing, after] = [name(), name(), name()]
    const outcomes = await Promise.allSettled([
      commits.run((tx) => take(tx, before)),
      commits.run(async (tx) => {
        await take(tx, failing)
        throw new RangeError('bad input')
      }),
      commits.run((tx) => take(tx, after)),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError)
    expect(commits.stats).toEqual({ batches: 1, runs: 3 })
    expect([await holderOf(before), await holderOf(failing), await holderOf(after)]).toEqual(['h', null, 'h'])
  })

  it('a lost batch (its savepoint cannot be rolled back to) fails every run in it and stores none of it', async () => {
    const lost = new Error('the transaction is gone')
    // The batch's transaction as MySQL leaves it after a deadlock: rolling back to a savepoint fails.
    const losing: Store = {
      ...suite(),
      transaction: (fn) =>
        suite().transaction((tx) =>
          fn({
            ...tx,
            savepoint: (part) =>
              tx.savepoint(part).catch(() => {
                throw lost
              }),
          }),
        ),
    }
    const commits = new GroupCommit(losing)
    const [first, failing, never] = [name(), name(), name()]
    let third = false
    const outcomes = await Promise.allSettled([
      commits.run((tx) => take(tx, first)),
      commits.run(async (tx) => {
        await take(tx, failing)
        throw new Error('deadlock')
      }),
      commits.run(async (tx) => {
        third = true
        return take(tx, never)
      }),
    ])
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : 'fulfilled'))).toEqual([lost, lost, lost])
    expect(third).toBe(false)
    expect([await holderOf(first), await holderOf(failing), await holderOf(never)]).toEqual([null, null, null])
  })

  it('a commit that fails fails every run of the batch', async () => {
    const refused = new Error('commit refused')
    const commits = new GroupCommit({
      ...suite(),
      transaction: async (fn) => {
        await suite().transaction(async (tx) => {
          await fn(tx)
          throw refused
        })
        return undefined as never
      },
    })
    const leases = [name(), name()]
    const outcomes = await Promise.allSettled(leases.map((lease) => commits.run((tx) => take(tx, lease))))
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : 'fulfilled'))).toEqual([refused, refused])
    expect(await Promise.all(leases.map(holderOf))).toEqual([null, null])
  })

  it('bounds a batch at maxBatch, and runs queued while one commits go into the next', async () => {
    const commits = new GroupCommit(suite(), { maxBatch: 2 })
    const leases = Array.from({ length: 5 }, name)
    const late = name()
    const runs = leases.map((lease, i) =>
      commits.run(async (tx) => {
        // Queued while the first batch is open: never joins a batch that has started.
        if (i === 0) void commits.run((t) => take(t, late)).then(() => undefined)
        return take(tx, lease)
      }),
    )
    await Promise.all(runs)
    await expect.poll(() => holderOf(late)).toBe('h')
    expect(commits.stats).toEqual({ batches: 3, runs: 6 })
    expect(await Promise.all(leases.map(holderOf))).toEqual(['h', 'h', 'h', 'h', 'h'])
  })

  it('refuses a batch bound that is not a whole number of at least 1', () => {
    for (const maxBatch of [0, -1, 1.5, Number.NaN]) expect(() => new GroupCommit(suite(), { maxBatch })).toThrow(/maxBatch must be a whole number/)
  })
})

describe('groupsCommitsByDefault', () => {
  it('groups on SQLite (one connection) and not on MySQL (a pool)', () => {
    expect(groupsCommitsByDefault('sqlite')).toBe(true)
    expect(groupsCommitsByDefault('mysql')).toBe(false)
  })
})
