import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { makeApplication } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { ConflictError, NotFoundError, isForeignKeyViolation, isUniqueViolation } from './errors.ts'

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a database error')
}

describe('error classes', () => {
  it('carry their codes and names', () => {
    expect(new ConflictError('x')).toMatchObject({ code: 'CONFLICT', name: 'ConflictError', message: 'x' })
    expect(new NotFoundError('y')).toMatchObject({ code: 'NOT_FOUND', name: 'NotFoundError', message: 'y' })
    expect(new ConflictError('x')).toBeInstanceOf(Error)
  })

  it('isUniqueViolation and isForeignKeyViolation reject everything else', () => {
    for (const value of [null, undefined, 'ER_DUP_ENTRY', 1062, new Error('duplicate'), { code: 'SQLITE_BUSY' }]) {
      expect(isUniqueViolation(value)).toBe(false)
      expect(isForeignKeyViolation(value)).toBe(false)
    }
  })
})

describe.each(DIALECTS)('driver errors on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
  })
  afterAll(async () => store?.dispose())

  const row = (id: string, name: string) => ({ id, name, spec: '{}', stable_version: null, created_at: 0, updated_at: 0 })

  it('a duplicate unique column is a unique violation (and not a foreign key one)', async () => {
    const app = await makeApplication(db)
    const error = await caught(() => db.kysely.insertInto('applications').values(row('other-id', app.name)).execute())
    expect(isUniqueViolation(error)).toBe(true)
    expect(isForeignKeyViolation(error)).toBe(false)
  })

  it('a duplicate primary key is a unique violation', async () => {
    const app = await makeApplication(db)
    const error = await caught(() => db.kysely.insertInto('applications').values(row(app.id, 'another-name')).execute())
    expect(isUniqueViolation(error)).toBe(true)
  })

  it('a missing parent row is a foreign key violation', async () => {
    const error = await caught(() =>
      db.kysely
        .insertInto('operator_commands')
        .values({ id: 'c', rollout_id: 'missing', kind: 'PAUSE', full: 0, actor: 'x', reason: null, created_at: 0, applied_at: null, outcome: null })
        .execute(),
    )
    expect(isForeignKeyViolation(error)).toBe(true)
    expect(isUniqueViolation(error)).toBe(false)
  })
})
