import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { makeRollout, queriesOf } from '../../test/support/store-fixtures.ts'
import { CommandRepository } from './commands.ts'
import type { Db } from './connect.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import type { Rollout } from './models.ts'

describe.each(DIALECTS)('CommandRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let commands: CommandRepository
  let a: Rollout
  let b: Rollout

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    commands = new CommandRepository(db)
    a = await makeRollout(db)
    b = await makeRollout(db)
  })
  afterAll(async () => store?.dispose())

  it('record stores a command with defaults and reads back equal', async () => {
    const before = Date.now()
    const command = await commands.record({ rolloutId: a.id, kind: 'PAUSE', actor: 'alice@example.com' })
    expect(command).toMatchObject({ rolloutId: a.id, kind: 'PAUSE', full: false, actor: 'alice@example.com', reason: null, appliedAt: null, outcome: null })
    expect(command.createdAt.getTime()).toBeGreaterThanOrEqual(before)
    const promote = await commands.record({ rolloutId: a.id, kind: 'PROMOTE', full: true, actor: 'bob', reason: 'looks good — 👍' })
    expect(await commands.pending(a.id)).toEqual([command, promote])
  })

  it('a command for an unknown rollout is NotFoundError', async () => {
    await expect(commands.record({ rolloutId: 'missing', kind: 'ABORT', actor: 'x' })).rejects.toThrow(new NotFoundError('rollout missing not found'))
    expect(await commands.pending('missing')).toEqual([])
  })

  it('pending lists unapplied commands oldest first, of one rollout or of all', async () => {
    // Recorded back to back: order must survive equal wall-clock milliseconds.
    const recorded = []
    for (const kind of ['PAUSE', 'RESUME', 'PAUSE', 'RESUME', 'ROLLBACK'] as const) recorded.push(await commands.record({ rolloutId: b.id, kind, actor: 'ci' }))
    expect((await commands.pending(b.id)).map((c) => c.id)).toEqual(recorded.map((c) => c.id))
    const all = await commands.pending()
    expect(all.map((c) => c.rolloutId)).toEqual([a.id, a.id, b.id, b.id, b.id, b.id, b.id])
    expect(await commands.pending('missing')).toEqual([])
  })

  it('markApplied removes a command from pending and records the outcome; twice is a ConflictError', async () => {
    const [first] = await commands.pending(a.id)
    await commands.markApplied(first!.id, 'APPLIED')
    expect((await commands.pending(a.id)).map((c) => c.id)).not.toContain(first!.id)
    const [[applied]] = (await commands.for([a.id])) as [[typeof first & object]]
    expect(applied.id).toBe(first!.id)
    expect(applied.outcome).toBe('APPLIED')
    expect(applied.appliedAt).toBeInstanceOf(Date)
    await expect(commands.markApplied(first!.id, 'REJECTED: again')).rejects.toThrow(ConflictError)
    expect((await commands.for([a.id]))[0]?.[0]?.outcome).toBe('APPLIED')
    await expect(commands.markApplied('missing', 'APPLIED')).rejects.toThrow(NotFoundError)
  })

  it('for: every command per rollout in key order, oldest first, [] for unknown ids, one query', async () => {
    const { result, queries } = await queriesOf(db, () => commands.for([b.id, 'missing', a.id]))
    expect(queries).toBe(1)
    expect(result.map((cs) => cs.map((c) => c.kind))).toEqual([['PAUSE', 'RESUME', 'PAUSE', 'RESUME', 'ROLLBACK'], [], ['PAUSE', 'PROMOTE']])
    expect(result[2]?.[1]).toMatchObject({ full: true, reason: 'looks good — 👍' })
    expect(await queriesOf(db, () => commands.for([]))).toEqual({ result: [], queries: 0 })
  })
})
