import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { PreparedStatements } from './prepared.ts'
import { DIALECTS } from '../../test/support/databases.ts'
import { suiteStore } from '../../test/support/suite-store.ts'

describe.each(DIALECTS)('PreparedStatements on %s', (dialect) => {
  const suite = suiteStore(dialect)
  let n = 0
  const name = () => `prepared:${++n}`
  const insertLease = (statements: PreparedStatements, lease: string, holder: string, token: number) =>
    statements.run(suite().db, 'leases.insert', [lease, holder, token] as const, (kysely, [name, holder, token]) =>
      // expires_at is a constant of the statement: Kysely makes it a parameter too.
      kysely.insertInto('leases').values({ name, holder, token, expires_at: 123 }),
    )
  const read = (statements: PreparedStatements, lease: string) =>
    statements.run(suite().db, 'leases.read', [lease] as const, (kysely, [name]) => kysely.selectFrom('leases').select(['holder', 'token', 'expires_at']).where('name', '=', name))

  it('compiles a shape once and runs it with each call’s own values, constants kept', async () => {
    const statements = new PreparedStatements()
    const [a, b] = [name(), name()]
    await insertLease(statements, a, 'first', 1)
    await insertLease(statements, b, 'second', 2)
    expect(statements.size).toBe(1)
    const rows = [...(await read(statements, a)).rows, ...(await read(statements, b)).rows].map((r) => ({ holder: r.holder, token: Number(r.token), expiresAt: Number(r.expires_at) }))
    expect(rows).toEqual([
      { holder: 'first', token: 1, expiresAt: 123 },
      { holder: 'second', token: 2, expiresAt: 123 },
    ])
    expect(statements.size).toBe(2)
    expect((await read(statements, 'no such lease')).rows).toEqual([])
  })

  it('counts affected rows as Kysely does', async () => {
    const statements = new PreparedStatements()
    const lease = name()
    await insertLease(statements, lease, 'h', 1)
    const update = (holder: string) =>
      statements.run(suite().db, 'leases.update', [holder, lease] as const, (kysely, [holder, name]) => kysely.updateTable('leases').set({ holder }).where('name', '=', name))
    expect((await update('other')).numAffectedRows).toBe(1n)
    expect((await read(statements, lease)).rows[0]?.holder).toBe('other')
  })

  it('runs inside a transaction on the transaction’s connection', async () => {
    const statements = new PreparedStatements()
    const inside = name()
    await expect(
      suite()
        .db.kysely.transaction()
        .execute(async (trx) => {
          await statements.run({ kysely: trx, dialect }, 'leases.insert', [inside, 'h', 1] as const, (kysely, [name, holder, token]) => kysely.insertInto('leases').values({ name, holder, token, expires_at: 123 }))
          expect((await statements.run({ kysely: trx, dialect }, 'leases.holder', [inside] as const, (kysely, [name]) => kysely.selectFrom('leases').select('holder').where('name', '=', name))).rows).toHaveLength(1)
          throw new Error('rolled back')
        }),
    ).rejects.toThrow('rolled back')
    expect((await read(statements, inside)).rows).toEqual([])
  })

  it('refuses a value written into the SQL, a value left out, and a value changed on the way', async () => {
    const statements = new PreparedStatements()
    expect(() => statements.run(suite().db, 'inlined', ['x'] as const, (kysely, [v]) => kysely.selectFrom('leases').select('name').where('name', '=', sql.lit(v)))).toThrow(/written into the SQL/)
    expect(() => statements.run(suite().db, 'unused', ['x', 'y'] as const, (kysely, [v]) => kysely.selectFrom('leases').select('name').where('name', '=', v))).toThrow(/1 of its 2 values are not parameters/)
    expect(() => statements.run(suite().db, 'changed', ['x'] as const, (kysely, [v]) => kysely.selectFrom('leases').select('name').where('name', '=', `${v}!`))).toThrow(/changed before it became a parameter/)
    expect(statements.size).toBe(0)
  })

  it('keeps at most its capacity of shapes and still runs the others', async () => {
    const statements = new PreparedStatements(1)
    const [a, b] = [name(), name()]
    await insertLease(statements, a, 'h', 1)
    expect((await read(statements, a)).rows).toHaveLength(1)
    expect((await read(statements, b)).rows).toHaveLength(0)
    expect(statements.size).toBe(1)
    expect(() => new PreparedStatements(-1)).toThrow(RangeError)
    expect(() => new PreparedStatements(1.5)).toThrow(RangeError)
  })
})
