import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.ts'
import { SAMPLE_STEPS, countRows, uniqueName } from '../../test/support/store-fixtures.ts'
import { ConflictError } from './errors.ts'
import { openStore, type Store } from './index.ts'
import { migrations } from './migrations/index.ts'

describe.each(DIALECTS)('Store on %s', (dialect) => {
  let database: TestDatabase
  let store: Store

  beforeAll(async () => {
    database = await createTestDatabase(dialect)
    store = await openStore(database.url)
  })
  afterAll(async () => {
    await store?.close()
    await database?.drop()
  })

  it('openStore migrates and reports its dialect; a second open migrates nothing new', async () => {
    expect(store.db.dialect).toBe(dialect)
    await store.db.ping()
    const again = await openStore(database.url)
    try {
      expect(await countRows(again.db, 'sentra_migrations')).toBe(migrations.length)
    } finally {
      await again.close()
    }
    const unmigrated = await openStore(database.url, { migrate: false })
    await unmigrated.close()
  })

  it('transaction commits every repository write when fn resolves', async () => {
    const name = uniqueName()
    const rolloutId = await store.transaction(async (tx) => {
      expect(tx).not.toBe(store)
      const app = await tx.applications.upsert(name, { name })
      const rollout = await tx.rollouts.create({ application: app, toVersion: 'v1', steps: SAMPLE_STEPS })
      await tx.decisions.append({ rolloutId: rollout.id, seq: 0, action: 'START', actor: 'test', reason: '', stepIndex: 0, fromWeight: 0, toWeight: 0, evidence: {} })
      await tx.rollouts.update(rollout.id, { status: 'PROGRESSING' }, { expectSeq: 0 })
      return rollout.id
    })
    const rollout = await store.rollouts.byId(rolloutId)
    expect(rollout).toMatchObject({ applicationName: name, status: 'PROGRESSING', seq: 1 })
    expect((await store.decisions.lastFor([rolloutId]))[0]?.action).toBe('START')
  })

  it('transaction rolls every write back when fn throws, and nested calls join it', async () => {
    const tables = ['applications', 'rollouts', 'rollout_steps', 'decisions', 'operator_commands', 'api_tokens'] as const
    const before = await Promise.all(tables.map((t) => countRows(store.db, t)))
    const name = uniqueName()
    await expect(
      store.transaction(async (tx) => {
        const app = await tx.applications.upsert(name, {})
        const rollout = await tx.rollouts.create({ application: app, toVersion: 'v1', steps: SAMPLE_STEPS })
        await tx.transaction(async (inner) => {
          expect(inner).toBe(tx)
          await inner.commands.record({ rolloutId: rollout.id, kind: 'PAUSE', actor: 'test' })
        })
        await tx.tokens.create('in-tx', 'read')
        expect(await tx.applications.byName(name)).not.toBeNull()
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await Promise.all(tables.map((t) => countRows(store.db, t)))).toEqual(before)
    expect(await store.applications.byName(name)).toBeNull()
  })

  it('a conflict inside a transaction rolls it back and leaves the active rollout alone', async () => {
    const app = await store.applications.upsert(uniqueName(), {})
    const active = await store.rollouts.create({ application: app, toVersion: 'v2', steps: SAMPLE_STEPS })
    const rows = await countRows(store.db, 'rollouts')
    await expect(
      store.transaction(async (tx) => {
        await tx.applications.setStableVersion(app.id, 'v9')
        await tx.rollouts.create({ application: app, toVersion: 'v3', steps: SAMPLE_STEPS })
      }),
    ).rejects.toThrow(new ConflictError(`application "${app.name}" already has an active rollout ${active.id}`))
    expect(await countRows(store.db, 'rollouts')).toBe(rows)
    expect((await store.applications.byId(app.id))?.stableVersion).toBeNull()
  })

  it('close is refused from inside a transaction', async () => {
    await expect(store.transaction((tx) => tx.close())).rejects.toThrow(/inside one of its transactions/)
  })
})
