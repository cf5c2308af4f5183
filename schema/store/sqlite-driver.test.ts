import { describe, expect, it } from 'vitest'
import { loadSqliteDriver, sqliteDriverModule, sqliteDriverVersion } from './sqlite-driver.ts'

describe('sqliteDriverModule', () => {
  it.each([
    [20, 'better-sqlite3'],
    [21, 'better-sqlite3'],
    [22, 'better-sqlite3-napi'],
    [24, 'better-sqlite3-napi'],
    [26, 'better-sqlite3-napi'],
  ] as const)('Node %i uses %s', (major, module) => {
    expect(sqliteDriverModule(major)).toBe(module)
  })
})

describe('loadSqliteDriver on this Node', () => {
  const major = Number(process.versions.node.split('.')[0])

  it('loads the major that is safe here: 12 before Node 22, 13 from Node 22', () => {
    const driverMajor = Number(sqliteDriverVersion().split('.')[0])
    expect(driverMajor).toBe(major >= 22 ? 13 : 12)
  })

  it('opens a database, prepares, writes and reads through the loaded driver', () => {
    const Database = loadSqliteDriver()
    const db = new Database(':memory:')
    try {
      db.exec('CREATE TABLE t (x INTEGER NOT NULL)')
      const insert = db.prepare('INSERT INTO t (x) VALUES (?)')
      for (let i = 0; i < 100; i++) insert.run(i)
      expect(db.prepare('SELECT COUNT(*) AS n, SUM(x) AS s FROM t').get()).toEqual({ n: 100, s: 4950 })
      expect(db.prepare('SELECT x FROM t WHERE x = ?').reader).toBe(true)
    } finally {
      db.close()
    }
  })
})
