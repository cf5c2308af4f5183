/**
 * 005-linked-traces over a store that already has traces (written by 001's shape): the error
 * flag comes from the old status, duplicates of a (rollout, trace id) keep one row so the
 * unique key can be built, and the old rows read back as linked traces without spans.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Db } from '../../schema/store/connect.ts'
import { EvidenceRepository } from '../../schema/store/evidence.ts'
import { migrate } from '../../schema/store/migrate.ts'
import { migrations } from '../../schema/store/migrations/index.ts'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.ts'
import { makeRollout } from '../support/store-fixtures.ts'

const BEFORE = migrations.slice(0, migrations.findIndex((m) => m.name === '005-linked-traces'))

describe.each(DIALECTS)('migration 005-linked-traces on %s', (dialect) => {
  let database: TestDatabase
  let db: Db

  beforeAll(async () => {
    database = await createTestDatabase(dialect)
    db = connect(database.url)
    await migrate(db, BEFORE)
  })
  afterAll(async () => {
    await db?.close()
    await database?.drop()
  })

  it('keeps old rows, derives the error flag, and removes duplicates before the unique key', async () => {
    const rollout = await makeRollout(db)
    const old = (id: string, traceId: string, status: string) =>
      sql`insert into traces (id, rollout_id, step_index, trace_id, version, status, duration_ms, root_name, at)
          values (${id}, ${rollout.id}, 1, ${traceId}, 'v2', ${status}, 12.5, 'GET /', 1700000000000)`.execute(db.kysely)
    await old('a-1', '0af7651916cd43dd8448eb211c80319c', 'ERROR')
    await old('a-2', '0af7651916cd43dd8448eb211c80319c', 'ERROR')
    await old('b-1', '4bf92f3577b34da6a3ce929d0e0e4736', 'ok')
    await migrate(db)
    const evidence = new EvidenceRepository(db)
    const page = await evidence.tracesPage(rollout.id, { first: 10 })
    expect(page.items.map((i) => [i.node.id, i.node.error, i.node.spanCount, i.node.source])).toEqual([
      ['a-1', true, 0, 'otlp'],
      ['b-1', false, 0, 'otlp'],
    ])
    expect(await evidence.spansOf(['a-1'])).toEqual([[]])
    // The unique key holds from now on: a save of the same trace id replaces the row.
    await evidence.saveTraces([
      {
        rolloutId: rollout.id, stepIndex: 1, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', version: 'v2', status: 'ok', durationMs: 99, rootName: 'GET /',
        at: new Date(1700000000000), application: 'a', service: 's', error: false, source: 'tempo', spans: [],
      },
    ])
    const after = await evidence.tracesPage(rollout.id, { first: 10 })
    expect(after.items.map((i) => [i.node.id, i.node.durationMs, i.node.source])).toEqual([
      ['a-1', 12.5, 'otlp'],
      ['b-1', 99, 'tempo'],
    ])
    await expect(
      sql`insert into traces (id, rollout_id, step_index, trace_id, version, status, duration_ms, root_name, at)
          values ('dup', ${rollout.id}, 1, '4bf92f3577b34da6a3ce929d0e0e4736', 'v2', 'ok', 1, 'x', 1)`.execute(db.kysely),
    ).rejects.toThrow()
  })
})
