import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { countRows, makeRollout, queriesOf } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { DecisionRepository, type NewDecision } from './decisions.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import type { Rollout } from './models.ts'

const T0 = Date.parse('2026-02-03T04:05:06.007Z')

function decision(rollout: Rollout, seq: number, extra: Partial<NewDecision> = {}): NewDecision {
  return {
    rolloutId: rollout.id,
    seq,
    action: 'ADVANCE',
    actor: 'controller',
    reason: `step ${seq}`,
    stepIndex: seq,
    fromWeight: seq * 5,
    toWeight: seq * 5 + 5,
    evidence: { gates: [{ name: 'errors', verdict: 'PASS', value: 0.001, threshold: { max: 0.02 } }] },
    at: new Date(T0 + seq * 1000),
    ...extra,
  }
}

describe.each(DIALECTS)('DecisionRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let decisions: DecisionRepository
  let a: Rollout
  let b: Rollout

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    decisions = new DecisionRepository(db)
    a = await makeRollout(db)
    b = await makeRollout(db)
  })
  afterAll(async () => store?.dispose())

  it('append stores a decision that reads back equal, with UTC time and unicode evidence', async () => {
    const written = await decisions.append(decision(a, 0, { reason: 'initial deploy — ✅ 初回', evidence: { note: 'Ω', nested: { list: [1, { x: null }] } } }))
    expect(written.id).toMatch(/^[0-9a-f-]{36}$/)
    const [[read]] = (await decisions.for([a.id])) as [[typeof written]]
    expect(read).toEqual(written)
    expect(read.at.toISOString()).toBe('2026-02-03T04:05:06.007Z')
  })

  it('append defaults at to now', async () => {
    const before = Date.now()
    const { at: _omit, ...input } = decision(b, 0)
    const written = await decisions.append(input)
    expect(written.at.getTime()).toBeGreaterThanOrEqual(before)
    expect(written.at.getTime()).toBeLessThanOrEqual(Date.now())
  })

  it('a repeated (rollout, seq) is a ConflictError and writes nothing', async () => {
    const rows = await countRows(db, 'decisions')
    const repeat = decisions.append(decision(a, 0, { action: 'ROLLBACK' }))
    await expect(repeat).rejects.toThrow(ConflictError)
    await expect(repeat).rejects.toThrow(`rollout ${a.id} already has a decision with seq 0`)
    expect(await countRows(db, 'decisions')).toBe(rows)
    // The same seq on another rollout is fine.
    await decisions.append(decision(b, 1))
  })

  it('a decision of an unknown rollout is NotFoundError', async () => {
    const rows = await countRows(db, 'decisions')
    await expect(decisions.append({ ...decision(a, 99), rolloutId: 'missing' })).rejects.toThrow(new NotFoundError('rollout missing not found'))
    expect(await countRows(db, 'decisions')).toBe(rows)
  })

  it('for: key order, seq order, [] for unknown ids, `last`, one query', async () => {
    // Written out of order: seq decides.
    for (const seq of [3, 1, 2]) await decisions.append(decision(a, seq))
    const all = await queriesOf(db, () => decisions.for([b.id, 'missing', a.id]))
    expect(all.queries).toBe(1)
    expect(all.result.map((ds) => ds.map((d) => d.seq))).toEqual([[0, 1], [], [0, 1, 2, 3]])
    const last = await queriesOf(db, () => decisions.for([a.id, b.id, 'missing'], { last: 2 }))
    expect(last.queries).toBe(1)
    expect(last.result.map((ds) => ds.map((d) => d.seq))).toEqual([[2, 3], [0, 1], []])
    expect(await queriesOf(db, () => decisions.for([]))).toEqual({ result: [], queries: 0 })
  })

  it('lastFor: the newest decision per rollout in key order, null where none, one query', async () => {
    const none = await makeRollout(db)
    const { result, queries } = await queriesOf(db, () => decisions.lastFor([a.id, none.id, b.id, 'missing', a.id]))
    expect(queries).toBe(1)
    expect(result.map((d) => d?.seq ?? null)).toEqual([3, null, 1, null, 3])
    expect(result[0]).toEqual((await decisions.for([a.id]))[0]?.at(-1))
  })

  it('offers no way to change or remove a decision', () => {
    const methods = Object.getOwnPropertyNames(DecisionRepository.prototype).filter((m) => m !== 'constructor').sort()
    expect(methods).toEqual(['append', 'for', 'lastFor', 'verify'])
  })
})
