import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { countRows, makeRollout, queriesOf } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { NotFoundError } from './errors.ts'
import { EvidenceRepository } from './evidence.ts'
import type { Rollout } from './models.ts'

const T0 = Date.parse('2026-02-03T04:05:06.007Z')
const at = (seconds: number): Date => new Date(T0 + seconds * 1000)

describe.each(DIALECTS)('EvidenceRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let evidence: EvidenceRepository
  let a: Rollout
  let b: Rollout
  let empty: Rollout

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    evidence = new EvidenceRepository(db)
    a = await makeRollout(db)
    b = await makeRollout(db)
    empty = await makeRollout(db)
  })
  afterAll(async () => store?.dispose())

  it('evidence for an unknown rollout is NotFoundError and writes nothing', async () => {
    const counts = async () => Promise.all((['gate_results', 'telemetry_windows', 'traces'] as const).map((t) => countRows(db, t)))
    const before = await counts()
    await expect(
      evidence.addGateResult({ rolloutId: 'missing', stepIndex: 0, gate: 'g', verdict: 'PASS', value: 1, reason: '', evidence: {}, windowId: null }),
    ).rejects.toThrow(new NotFoundError('rollout missing not found'))
    await expect(
      evidence.addWindow({ rolloutId: 'missing', stepIndex: 0, provider: 'builtin', startAt: at(0), endAt: at(1), canary: {}, baseline: {} }),
    ).rejects.toThrow(NotFoundError)
    await expect(
      evidence.saveTraces([
        {
          rolloutId: 'missing', stepIndex: 0, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', version: 'v', status: 'ok', durationMs: 1, rootName: 'r', at: at(0),
          application: 'a', service: 's', error: false, source: 'otlp', spans: [],
        },
      ]),
    ).rejects.toThrow(NotFoundError)
    expect(await counts()).toEqual(before)
  })

  describe('gate results', () => {
    it('addGateResult stores every field and reads back equal', async () => {
      const result = await evidence.addGateResult({
        rolloutId: a.id,
        stepIndex: 1,
        gate: 'errors',
        verdict: 'FAIL',
        value: 0.0725,
        reason: 'error rate 7.25 % > 2 % — 🚨',
        evidence: { threshold: { max: 0.02 }, baseline: 0.001, samples: [120, 118], note: 'ünïcødé' },
        windowId: null,
        at: at(3),
      })
      expect(result.id).toMatch(/^[0-9a-f-]{36}$/)
      const [[read]] = (await evidence.gateResultsFor([a.id])) as [[typeof result]]
      expect(read).toEqual(result)
      expect(read.at.toISOString()).toBe(at(3).toISOString())
    })

    it('addGateResults writes a tick\'s results in one statement; an unknown rollout or a mix writes none', async () => {
      const rollout = await makeRollout(db)
      const input = (gate: string) => ({ rolloutId: rollout.id, stepIndex: 2, gate, verdict: 'PASS' as const, value: 0.5, reason: `${gate} ok`, evidence: { gate }, windowId: null, at: at(7) })
      const written = await queriesOf(db, () => evidence.addGateResults([input('errors'), input('latency'), input('logs')]))
      expect(written.queries).toBe(1)
      expect(written.result.map((r) => r.gate)).toEqual(['errors', 'latency', 'logs'])
      const [read = []] = await evidence.gateResultsFor([rollout.id])
      expect(new Set(read.map((r) => r.id))).toEqual(new Set(written.result.map((r) => r.id)))
      expect(read.find((r) => r.gate === 'latency')).toEqual(written.result[1])

      const before = await countRows(db, 'gate_results')
      await expect(evidence.addGateResults([{ ...input('x'), rolloutId: 'missing' }, { ...input('y'), rolloutId: 'missing' }])).rejects.toThrow(NotFoundError)
      await expect(evidence.addGateResults([input('x'), { ...input('y'), rolloutId: a.id }])).rejects.toThrow(/same rollout/)
      expect(await countRows(db, 'gate_results')).toBe(before)
      expect(await queriesOf(db, () => evidence.addGateResults([]))).toEqual({ result: [], queries: 0 })
    })

    it('returns evidence and window values as they read back (NaN as null, no undefined); a non-object writes nothing', async () => {
      const rollout = await makeRollout(db)
      const hostile = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, gone: undefined, when: new Date(0), list: [1, undefined, Number.NaN] }
      const [result] = await evidence.addGateResults([
        { rolloutId: rollout.id, stepIndex: 0, gate: 'errors', verdict: 'INCONCLUSIVE', value: null, reason: 'odd', evidence: hostile as never, windowId: null, at: at(9) },
      ])
      expect(result!.evidence).toEqual({ nan: null, inf: null, when: '1970-01-01T00:00:00.000Z', list: [1, null, null] })
      expect((await evidence.gateResultsFor([rollout.id]))[0]).toEqual([result])
      const window = await evidence.addWindow({ rolloutId: rollout.id, stepIndex: 0, provider: 'builtin', startAt: at(1), endAt: at(2), canary: hostile as never, baseline: { rate: Number.NaN } })
      expect(window.canary).toEqual(result!.evidence)
      expect(window.baseline).toEqual({ rate: null })
      expect((await evidence.windowsFor([rollout.id]))[0]).toEqual([window])

      const before = await countRows(db, 'gate_results')
      const notAnObject = { rolloutId: rollout.id, stepIndex: 0, gate: 'errors', verdict: 'PASS' as const, value: 1, reason: 'x', evidence: [1, 2] as never, windowId: null }
      await expect(evidence.addGateResults([notAnObject])).rejects.toThrow(/must be a JSON object/)
      expect(await countRows(db, 'gate_results')).toBe(before)
    })

    it('addGateResult defaults at to now and keeps a null value', async () => {
      const before = Date.now()
      const result = await evidence.addGateResult({
        rolloutId: empty.id,
        stepIndex: 0,
        gate: 'p95',
        verdict: 'INCONCLUSIVE',
        value: null,
        reason: 'no data',
        evidence: {},
        windowId: null,
      })
      expect(result.at.getTime()).toBeGreaterThanOrEqual(before)
      expect(result.at.getTime()).toBeLessThanOrEqual(Date.now())
      const [[read]] = (await evidence.gateResultsFor([empty.id])) as [[typeof result]]
      expect(read).toEqual(result)
      await db.kysely.deleteFrom('gate_results').where('rollout_id', '=', empty.id).execute()
    })

    it('gateResultsFor: key order, chronological, [] for unknown ids, `last` per rollout, one query', async () => {
      // Written out of order: readers sort by time, not by insertion.
      for (const s of [5, 1, 4, 2]) {
        await evidence.addGateResult({ rolloutId: b.id, stepIndex: 0, gate: `g${s}`, verdict: 'PASS', value: s, reason: '', evidence: { s }, windowId: null, at: at(s) })
      }
      await evidence.addGateResult({ rolloutId: a.id, stepIndex: 2, gate: 'later', verdict: 'PASS', value: 1, reason: '', evidence: {}, windowId: null, at: at(9) })
      const all = await queriesOf(db, () => evidence.gateResultsFor([b.id, 'missing', a.id, empty.id]))
      expect(all.queries).toBe(1)
      expect(all.result.map((rs) => rs.map((r) => r.gate))).toEqual([['g1', 'g2', 'g4', 'g5'], [], ['errors', 'later'], []])
      const last = await queriesOf(db, () => evidence.gateResultsFor([a.id, b.id, 'missing'], { last: 2 }))
      expect(last.queries).toBe(1)
      expect(last.result.map((rs) => rs.map((r) => r.gate))).toEqual([['errors', 'later'], ['g4', 'g5'], []])
      const one = await evidence.gateResultsFor([b.id, a.id], { last: 1 })
      expect(one.map((rs) => rs.map((r) => r.gate))).toEqual([['g5'], ['later']])
      expect((await evidence.gateResultsFor([b.id], { last: 100 }))[0]).toHaveLength(4)
      expect(await queriesOf(db, () => evidence.gateResultsFor([a.id], { last: 0 }))).toEqual({ result: [[]], queries: 0 })
      expect(await queriesOf(db, () => evidence.gateResultsFor([]))).toEqual({ result: [], queries: 0 })
      await expect(evidence.gateResultsFor([a.id], { last: -1 })).rejects.toThrow(RangeError)
    })
  })

  describe('telemetry windows', () => {
    it('addWindow round-trips signals (null included) and times', async () => {
      const window = await evidence.addWindow({
        rolloutId: a.id,
        stepIndex: 1,
        provider: 'builtin',
        startAt: at(0),
        endAt: at(10),
        canary: { requestRate: 12.5, errorRate: 0.07, latencyP95: null },
        baseline: { requestRate: 40, errorRate: 0.001, latencyP95: 0.123456789 },
      })
      const [[read]] = (await evidence.windowsFor([a.id])) as [[typeof window]]
      expect(read).toEqual(window)
      expect(read.endAt.toISOString()).toBe(at(10).toISOString())
    })

    it('windowsFor: chronological by end, key order, `last`, one query', async () => {
      for (const s of [30, 10, 20]) {
        await evidence.addWindow({ rolloutId: b.id, stepIndex: 0, provider: 'prometheus', startAt: at(s - 10), endAt: at(s), canary: { s }, baseline: {} })
      }
      const all = await queriesOf(db, () => evidence.windowsFor([empty.id, b.id, 'missing']))
      expect(all.queries).toBe(1)
      expect(all.result.map((ws) => ws.map((w) => w.canary.s))).toEqual([[], [10, 20, 30], []])
      const last = await queriesOf(db, () => evidence.windowsFor([b.id, a.id], { last: 2 }))
      expect(last.queries).toBe(1)
      expect(last.result.map((ws) => ws.map((w) => w.endAt.getTime()))).toEqual([[at(20).getTime(), at(30).getTime()], [at(10).getTime()]])
    })
  })
  // Linked traces (saveTraces, tracesPage, spansOf) are tested in test/traces/store.test.ts.
})
