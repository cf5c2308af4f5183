import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { SAMPLE_STEPS, countRows, makeApplication, makeRollout, queriesOf } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { BadCursorError, encodeCursor } from './cursor.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import type { Rollout, RolloutStatus } from './models.ts'
import { CommandRepository } from './commands.ts'
import { RolloutRepository } from './rollouts.ts'

describe.each(DIALECTS)('RolloutRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let rollouts: RolloutRepository

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    rollouts = new RolloutRepository(db)
  })
  afterAll(async () => store?.dispose())

  /** Active key as stored, to check the one-active-rollout rule directly. */
  async function activeKey(id: string): Promise<string | null> {
    const row = await db.kysely.selectFrom('rollouts').select('active_key').where('id', '=', id).executeTakeFirstOrThrow()
    return row.active_key
  }

  it('create writes a PENDING rollout from the stable version, and its steps', async () => {
    const app = await makeApplication(db, undefined, 'v1')
    const now = new Date('2026-03-01T12:34:56.789Z')
    const rollout = await rollouts.create({ application: app, toVersion: 'v2', steps: SAMPLE_STEPS, now })
    const expected: Rollout = {
      id: rollout.id,
      applicationId: app.id,
      applicationName: app.name,
      fromVersion: 'v1',
      toVersion: 'v2',
      status: 'PENDING',
      desiredWeight: 0,
      canaryWeight: 0,
      currentStepIndex: 0,
      stepStartedAt: null,
      seq: 0,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
      evidencePrunedAt: null,
    }
    expect(rollout).toEqual(expected)
    const read = await rollouts.byId(rollout.id)
    expect(read).toEqual(expected)
    expect(read?.createdAt.toISOString()).toBe('2026-03-01T12:34:56.789Z')
    expect(await activeKey(rollout.id)).toBe(app.id)
    const [steps] = await rollouts.stepsFor([rollout.id])
    expect(steps).toEqual(
      SAMPLE_STEPS.map((step, index) => ({
        rolloutId: rollout.id,
        index,
        kind: step.kind,
        spec: step.spec,
        status: 'PENDING',
        startedAt: null,
        finishedAt: null,
      })),
    )
  })

  it('create of an application without a stable version has no fromVersion; steps may be empty', async () => {
    const app = await makeApplication(db, undefined, null)
    const rollout = await rollouts.create({ application: app, toVersion: 'v1', steps: [] })
    expect(rollout.fromVersion).toBeNull()
    expect(await rollouts.stepsFor([rollout.id])).toEqual([[]])
  })

  it('a second active rollout of an application is a ConflictError naming the active one, and writes nothing', async () => {
    const app = await makeApplication(db)
    const first = await rollouts.create({ application: app, toVersion: 'v2', steps: SAMPLE_STEPS })
    const before = { rollouts: await countRows(db, 'rollouts'), steps: await countRows(db, 'rollout_steps') }
    const attempt = rollouts.create({ application: app, toVersion: 'v3', steps: SAMPLE_STEPS })
    await expect(attempt).rejects.toThrow(ConflictError)
    await expect(attempt).rejects.toThrow(`application "${app.name}" already has an active rollout ${first.id}`)
    expect({ rollouts: await countRows(db, 'rollouts'), steps: await countRows(db, 'rollout_steps') }).toEqual(before)
  })

  it('create for an application that does not exist is NotFoundError and writes nothing', async () => {
    const ghost = { ...(await makeApplication(db)), id: '00000000-0000-4000-8000-000000000000', name: 'ghost' }
    const before = { rollouts: await countRows(db, 'rollouts'), steps: await countRows(db, 'rollout_steps') }
    await expect(rollouts.create({ application: ghost, toVersion: 'v2', steps: SAMPLE_STEPS })).rejects.toThrow(NotFoundError)
    expect({ rollouts: await countRows(db, 'rollouts'), steps: await countRows(db, 'rollout_steps') }).toEqual(before)
  })

  it('concurrent creates for one application: exactly one wins', async () => {
    const app = await makeApplication(db)
    const stepsBefore = await countRows(db, 'rollout_steps')
    const results = await Promise.allSettled([1, 2, 3].map((n) => rollouts.create({ application: app, toVersion: `v${n + 1}`, steps: SAMPLE_STEPS })))
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(2)
    for (const r of lost) expect(r.reason).toBeInstanceOf(ConflictError)
    const rows = await db.kysely.selectFrom('rollouts').select('id').where('application_id', '=', app.id).execute()
    expect(rows).toHaveLength(1)
    expect(await countRows(db, 'rollout_steps')).toBe(stepsBefore + SAMPLE_STEPS.length)
    const [steps] = await rollouts.stepsFor([rows[0]!.id])
    expect(steps).toHaveLength(SAMPLE_STEPS.length)
  })

  it('update patches fields, bumps seq and updated_at, and returns the row as written', async () => {
    const rollout = await makeRollout(db, { now: new Date(Date.now() - 60_000) })
    const started = new Date('2026-04-02T03:04:05.006Z')
    const updated = await rollouts.update(rollout.id, {
      status: 'PROGRESSING',
      desiredWeight: 25,
      canaryWeight: 5,
      currentStepIndex: 1,
      stepStartedAt: started,
      startedAt: started,
    })
    expect(updated).toMatchObject({
      status: 'PROGRESSING',
      desiredWeight: 25,
      canaryWeight: 5,
      currentStepIndex: 1,
      stepStartedAt: started,
      startedAt: started,
      finishedAt: null,
      seq: 1,
    })
    expect(updated.updatedAt.getTime()).toBeGreaterThan(rollout.updatedAt.getTime())
    expect(await rollouts.byId(rollout.id)).toEqual(updated)
    expect(await activeKey(rollout.id)).toBe(rollout.applicationId)
    const again = await rollouts.update(rollout.id, { canaryWeight: 25, stepStartedAt: null })
    expect(again.seq).toBe(2)
    expect(again.canaryWeight).toBe(25)
    expect(again.stepStartedAt).toBeNull()
    expect(again.desiredWeight).toBe(25)
    // An empty patch still counts as a change (seq bump).
    expect((await rollouts.update(rollout.id, {})).seq).toBe(3)
  })

  it('update with the right expectSeq writes; with a wrong one is a ConflictError and changes nothing', async () => {
    const rollout = await makeRollout(db)
    const next = await rollouts.update(rollout.id, { status: 'PROGRESSING' }, { expectSeq: 0 })
    expect(next.seq).toBe(1)
    const before = await rollouts.byId(rollout.id)
    const stale = rollouts.update(rollout.id, { status: 'ABORTED', desiredWeight: 0 }, { expectSeq: 0 })
    await expect(stale).rejects.toThrow(ConflictError)
    await expect(stale).rejects.toThrow(/expected seq 0, found 1/)
    expect(await rollouts.byId(rollout.id)).toEqual(before)
    expect(await activeKey(rollout.id)).toBe(rollout.applicationId)
  })

  it('forTick reads the rollout, its application spec text and its pending commands in one statement', async () => {
    const app = await makeApplication(db)
    const rollout = await rollouts.create({ application: app, toVersion: 'v2', steps: SAMPLE_STEPS })
    const { result, queries } = await queriesOf(db, () => rollouts.forTick(rollout.id))
    expect(queries).toBe(1)
    expect(result?.rollout).toEqual(await rollouts.byId(rollout.id))
    expect(JSON.parse(result!.specText)).toEqual(app.spec)
    expect(result?.pendingCommands).toBe(0)
    const commands = new CommandRepository(db)
    const first = await commands.record({ rolloutId: rollout.id, kind: 'PAUSE', actor: 'test' })
    await commands.record({ rolloutId: rollout.id, kind: 'RESUME', actor: 'test' })
    // Another rollout's command is not this one's.
    const other = await makeRollout(db)
    await commands.record({ rolloutId: other.id, kind: 'PAUSE', actor: 'test' })
    expect((await rollouts.forTick(rollout.id))?.pendingCommands).toBe(2)
    await commands.markApplied(first.id, 'APPLIED')
    expect((await rollouts.forTick(rollout.id))?.pendingCommands).toBe(1)
    expect(await rollouts.forTick('missing')).toBeNull()
  })

  it('update with the current row returns exactly what a re-read gives, without reading it back', async () => {
    const rollout = await makeRollout(db, { now: new Date(Date.now() - 60_000) })
    const started = new Date('2026-04-02T03:04:05.006Z')
    const patches: Parameters<RolloutRepository['update']>[1][] = [
      { status: 'PROGRESSING', desiredWeight: 25, currentStepIndex: 1, stepStartedAt: started, startedAt: started },
      { canaryWeight: 25 },
      { stepStartedAt: null, currentStepIndex: 2 },
      {},
      { status: 'SUCCEEDED', desiredWeight: 100, canaryWeight: 100, finishedAt: new Date() },
    ]
    let current = rollout
    for (const patch of patches) {
      const seq = current.seq
      const withCurrent = await queriesOf(db, () => rollouts.update(rollout.id, patch, { expectSeq: seq, current }))
      expect(withCurrent.result).toEqual(await rollouts.byId(rollout.id))
      current = withCurrent.result
      // The same patch without `current` on a twin rollout reads the row back: one statement more.
      const twin = await makeRollout(db)
      const without = await queriesOf(db, () => rollouts.update(twin.id, patch, { expectSeq: twin.seq }))
      expect(without.queries).toBe(withCurrent.queries + 1)
      await rollouts.update(twin.id, { status: 'ABORTED', finishedAt: new Date() })
    }
    expect(current.seq).toBe(patches.length)
  })

  it('update with a stale current row is a ConflictError; with another rollout or seq it is refused before writing', async () => {
    const rollout = await makeRollout(db)
    const next = await rollouts.update(rollout.id, { status: 'PROGRESSING' }, { expectSeq: 0, current: rollout })
    await expect(rollouts.update(rollout.id, { desiredWeight: 50 }, { expectSeq: 0, current: rollout })).rejects.toThrow(ConflictError)
    const other = await makeRollout(db)
    await expect(rollouts.update(rollout.id, { desiredWeight: 50 }, { expectSeq: 1, current: other })).rejects.toThrow(/current must be rollout/)
    await expect(rollouts.update(rollout.id, { desiredWeight: 50 }, { expectSeq: 0, current: next })).rejects.toThrow(/current must be rollout .* at the expected seq 0/)
    await expect(rollouts.update(rollout.id, { desiredWeight: 50 }, { current: next })).rejects.toThrow(/current must be rollout/)
    expect(await rollouts.byId(rollout.id)).toEqual(next)
  })

  it('racing updates with the same expectSeq: exactly one wins', async () => {
    const rollout = await makeRollout(db)
    const results = await Promise.allSettled([10, 20, 30].map((w) => rollouts.update(rollout.id, { desiredWeight: w }, { expectSeq: 0 })))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError)
    expect((await rollouts.byId(rollout.id))?.seq).toBe(1)
  })

  it('update of an unknown rollout is NotFoundError', async () => {
    await expect(rollouts.update('missing', { canaryWeight: 1 })).rejects.toThrow(NotFoundError)
    await expect(rollouts.update('missing', { canaryWeight: 1 }, { expectSeq: 0 })).rejects.toThrow(NotFoundError)
  })

  it('a terminal status clears active_key so a new rollout can start; reactivating then conflicts', async () => {
    const app = await makeApplication(db)
    const first = await rollouts.create({ application: app, toVersion: 'v2', steps: SAMPLE_STEPS })
    await rollouts.update(first.id, { status: 'PAUSED' })
    expect(await activeKey(first.id)).toBe(app.id)
    const done = await rollouts.update(first.id, { status: 'ROLLED_BACK', finishedAt: new Date() })
    expect(done.status).toBe('ROLLED_BACK')
    expect(await activeKey(first.id)).toBeNull()
    const second = await rollouts.create({ application: app, toVersion: 'v3', steps: SAMPLE_STEPS })
    expect(second.status).toBe('PENDING')
    const before = await rollouts.byId(first.id)
    await expect(rollouts.update(first.id, { status: 'PROGRESSING' })).rejects.toThrow(ConflictError)
    expect(await rollouts.byId(first.id)).toEqual(before)
    // Non-status patches of a finished rollout leave active_key alone.
    await rollouts.update(first.id, { canaryWeight: 0 })
    expect(await activeKey(first.id)).toBeNull()
  })

  it('activeIds lists exactly the rollouts in active statuses', async () => {
    const statuses: RolloutStatus[] = ['PENDING', 'PROGRESSING', 'PAUSED', 'ROLLING_BACK', 'SUCCEEDED', 'ROLLED_BACK', 'ABORTED', 'FAILED']
    const made = await Promise.all(statuses.map((status) => makeRollout(db, { status })))
    const active = await rollouts.activeIds()
    made.forEach((rollout, i) => {
      expect(active.includes(rollout.id)).toBe(i < 4)
    })
    const all = await db.kysely.selectFrom('rollouts').select(['id', 'status']).execute()
    expect(active.sort()).toEqual(all.filter((r) => ['PENDING', 'PROGRESSING', 'PAUSED', 'ROLLING_BACK'].includes(r.status)).map((r) => r.id).sort())
  })

  it('byIds and stepsFor return key order, with null / [] for unknown ids, in one query each', async () => {
    const a = await makeRollout(db)
    const b = await makeRollout(db)
    const byIds = await queriesOf(db, () => rollouts.byIds([b.id, 'missing', a.id]))
    expect(byIds.queries).toBe(1)
    expect(byIds.result.map((r) => r?.id ?? null)).toEqual([b.id, null, a.id])
    const steps = await queriesOf(db, () => rollouts.stepsFor([b.id, 'missing', a.id, b.id]))
    expect(steps.queries).toBe(1)
    expect(steps.result.map((group) => group.map((s) => `${s.rolloutId}:${s.index}`))).toEqual([
      [`${b.id}:0`, `${b.id}:1`, `${b.id}:2`],
      [],
      [`${a.id}:0`, `${a.id}:1`, `${a.id}:2`],
      [`${b.id}:0`, `${b.id}:1`, `${b.id}:2`],
    ])
    expect(await queriesOf(db, () => rollouts.stepsFor([]))).toEqual({ result: [], queries: 0 })
    expect(await queriesOf(db, () => rollouts.byIds([]))).toEqual({ result: [], queries: 0 })
  })

  it('updateStep patches one step; an unknown step is NotFoundError', async () => {
    const rollout = await makeRollout(db)
    const at = new Date('2026-05-06T07:08:09.010Z')
    await rollouts.updateStep(rollout.id, 1, { status: 'RUNNING', startedAt: at })
    await rollouts.updateStep(rollout.id, 1, { status: 'RUNNING' }) // same values: still found
    await rollouts.updateStep(rollout.id, 1, {})
    const [steps] = await rollouts.stepsFor([rollout.id])
    expect(steps?.map((s) => [s.status, s.startedAt?.toISOString() ?? null])).toEqual([
      ['PENDING', null],
      ['RUNNING', '2026-05-06T07:08:09.010Z'],
      ['PENDING', null],
    ])
    await rollouts.updateStep(rollout.id, 1, { status: 'COMPLETED', finishedAt: at, startedAt: null })
    const [after] = await rollouts.stepsFor([rollout.id])
    expect(after?.[1]).toMatchObject({ status: 'COMPLETED', startedAt: null, finishedAt: at })
    await expect(rollouts.updateStep(rollout.id, 9, { status: 'RUNNING' })).rejects.toThrow(NotFoundError)
    await expect(rollouts.updateStep('missing', 0, {})).rejects.toThrow(NotFoundError)
  })

  describe('list', () => {
    let app: Awaited<ReturnType<typeof makeApplication>>
    let other: Awaited<ReturnType<typeof makeApplication>>
    /** Newest first, as list should return them. */
    let expected: Rollout[]

    beforeAll(async () => {
      app = await makeApplication(db)
      other = await makeApplication(db)
      const base = Date.parse('2026-01-01T00:00:00Z')
      // Three share one created_at, so the id tie-break is exercised across page boundaries.
      const offsets = [0, 1000, 1000, 1000, 2000, 3000, 4000]
      const terminal: RolloutStatus[] = ['SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'ABORTED', 'SUCCEEDED', 'FAILED']
      const made: Rollout[] = []
      for (const [i, offset] of offsets.entries()) {
        const rollout = await rollouts.create({ application: app, toVersion: `v${i}`, steps: [], now: new Date(base + offset) })
        made.push(i < terminal.length ? await rollouts.update(rollout.id, { status: terminal[i] }) : rollout)
        await rollouts.create({ application: other, toVersion: `v${i}`, steps: [], now: new Date(base + offset) }).then((r) =>
          rollouts.update(r.id, { status: 'SUCCEEDED' }),
        )
      }
      expected = made.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
    })

    async function collect(filter: { application?: string | null; statuses?: readonly RolloutStatus[] | null }, first = 3) {
      const pages: string[][] = []
      let after: string | null = null
      for (;;) {
        const page = await rollouts.list({ first, after, ...filter })
        pages.push(page.items.map((item) => item.node.id))
        if (!page.hasNextPage) return pages
        after = page.items.at(-1)?.cursor ?? null
      }
    }

    it('pages newest first by application without duplicates or gaps', async () => {
      const pages = await collect({ application: app.name })
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1])
      expect(pages.flat()).toEqual(expected.map((r) => r.id))
    })

    it('filters by a list of statuses (with the application)', async () => {
      const pages = await collect({ application: app.name, statuses: ['FAILED', 'PENDING'] }, 1)
      expect(pages.flat()).toEqual(expected.filter((r) => ['FAILED', 'PENDING'].includes(r.status)).map((r) => r.id))
      expect(pages.flat()).toHaveLength(3)
      expect(await collect({ application: app.name, statuses: [] })).toEqual(await collect({ application: app.name }))
      expect(await collect({ application: app.name, statuses: ['PAUSED'] })).toEqual([[]])
    })

    it('filters by status alone across applications', async () => {
      const ids = (await collect({ statuses: ['SUCCEEDED'] }, 4)).flat()
      const rows = await db.kysely
        .selectFrom('rollouts')
        .select('id')
        .where('status', '=', 'SUCCEEDED')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute()
      expect(ids).toEqual(rows.map((r) => r.id))
      expect(ids.length).toBeGreaterThanOrEqual(9)
    })

    it('lists everything without filters, newest first, matching the table', async () => {
      const ids = (await collect({}, 5)).flat()
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids).toHaveLength(await countRows(db, 'rollouts'))
    })

    it('an unknown application lists nothing', async () => {
      const page = await rollouts.list({ first: 3, application: 'no-such-app' })
      expect(page).toEqual({ items: [], hasNextPage: false })
    })

    it('returns full rollouts and uses one query per page', async () => {
      const { result, queries } = await queriesOf(db, () => rollouts.list({ first: 2, application: app.name }))
      expect(queries).toBe(1)
      expect(result.items.map((i) => i.node)).toEqual(expected.slice(0, 2))
    })

    it('rejects malformed cursors', async () => {
      const bad = [
        'x',
        '!!!',
        Buffer.from('{"a":1}').toString('base64url'),
        encodeCursor('applications', ['name']),
        encodeCursor('rollouts', ['1', 'id']),
        encodeCursor('rollouts', [1]),
      ]
      for (const after of bad) await expect(rollouts.list({ first: 3, after })).rejects.toThrow(BadCursorError)
      await expect(rollouts.list({ first: 3, after: encodeCursor('applications', ['n']) })).rejects.toThrow(/belongs to another list/)
    })
  })
})
