import { describe, expect, it } from 'vitest'
import { loadSqliteDriver } from './sqlite-driver.ts'
import { cachingStatements } from './sqlite-statements.ts'

function openMemory() {
  const Database = loadSqliteDriver()
  const raw = new Database(':memory:')
  let prepared = 0
  const counting = {
    prepare: (sql: string) => {
      prepared++
      return raw.prepare(sql)
    },
    close: () => raw.close(),
  }
  return { db: cachingStatements(counting, 3), prepared: () => prepared }
}

describe('cachingStatements (SQLite)', () => {
  it('compiles the same SQL once and runs it again with new parameters', () => {
    const { db, prepared } = openMemory()
    db.prepare('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)').run([])
    for (const name of ['a', 'b', 'c']) db.prepare('INSERT INTO t (name) VALUES (?)').run([name])
    expect(db.prepare('SELECT name FROM t WHERE id = ?').all([2])).toEqual([{ name: 'b' }])
    expect(db.prepare('SELECT name FROM t WHERE id = ?').all([3])).toEqual([{ name: 'c' }])
    expect(prepared()).toBe(3)
    db.close()
  })

  it('keeps at most its capacity, dropping the least recently used', () => {
    const { db, prepared } = openMemory()
    const sql = (n: number) => `SELECT ${n} AS n`
    for (const n of [1, 2, 3]) db.prepare(sql(n)).all([])
    db.prepare(sql(1)).all([]) // 1 is now the most recent: 2 goes next
    db.prepare(sql(4)).all([])
    expect(db.cached()).toBe(3)
    const before = prepared()
    db.prepare(sql(1)).all([])
    db.prepare(sql(3)).all([])
    expect(prepared()).toBe(before)
    db.prepare(sql(2)).all([])
    expect(prepared()).toBe(before + 1)
    db.close()
  })

  it('gives a query of its own statement while the cached one is still being iterated', () => {
    const { db } = openMemory()
    db.prepare('CREATE TABLE t (n INTEGER)').run([])
    for (let n = 0; n < 3; n++) db.prepare('INSERT INTO t (n) VALUES (?)').run([n])
    const iterating = db.prepare('SELECT n FROM t ORDER BY n').iterate([])
    expect(iterating.next().value).toEqual({ n: 0 })
    // The same SQL while the first statement is busy: better-sqlite3 would refuse to reuse it.
    expect(db.prepare('SELECT n FROM t ORDER BY n').all([])).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
    expect([...iterating]).toEqual([{ n: 1 }, { n: 2 }])
    db.close()
  })

  it('sees a table changed after its statement was cached', () => {
    const { db } = openMemory()
    db.prepare('CREATE TABLE t (a INTEGER)').run([])
    db.prepare('INSERT INTO t (a) VALUES (1)').run([])
    expect(db.prepare('SELECT * FROM t').all([])).toEqual([{ a: 1 }])
    db.prepare('ALTER TABLE t ADD COLUMN b INTEGER DEFAULT 7').run([])
    expect(db.prepare('SELECT * FROM t').all([])).toEqual([{ a: 1, b: 7 }])
    db.close()
  })

  it('refuses a capacity that is not a positive integer', () => {
    const { db } = openMemory()
    expect(() => cachingStatements({ prepare: db.prepare, close: () => {} }, 0)).toThrow(/positive integer/)
    expect(() => cachingStatements({ prepare: db.prepare, close: () => {} }, Number.NaN)).toThrow(/positive integer/)
    db.close()
  })
})
