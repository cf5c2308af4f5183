import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../schema/store/connect.ts'
import { BadCursorError } from '../../schema/store/cursor.ts'
import { NotFoundError } from '../../schema/store/errors.ts'
import { EvidenceRepository, InvalidTraceError, MAX_SPANS_PER_TRACE } from '../../schema/store/evidence.ts'
import type { LinkedTrace, Page, Rollout } from '../../schema/store/models.ts'
import { DIALECTS, openTestStore } from '../support/databases.ts'
import { countRows, makeRollout, queriesOf } from '../support/store-fixtures.ts'
import { newTrace, span, spanId, traceId } from './fixtures.ts'

const nodes = (page: Page<LinkedTrace>): string[] => page.items.map((i) => i.node.rootName)

describe.each(DIALECTS)('linked traces in the store on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let evidence: EvidenceRepository
  let a: Rollout
  let b: Rollout

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    evidence = new EvidenceRepository(db)
    a = await makeRollout(db)
    b = await makeRollout(db)
    // a: 2 error traces and 4 ok ones over steps 1 and 3; durations make the order checkable.
    await evidence.saveTraces([
      newTrace(a.id, { rootName: 'ok-50', durationMs: 50, stepIndex: 1 }),
      newTrace(a.id, { rootName: 'err-20', durationMs: 20, error: true, stepIndex: 1 }),
      newTrace(a.id, { rootName: 'ok-300', durationMs: 300, stepIndex: 3 }),
      newTrace(a.id, { rootName: 'err-900', durationMs: 900, error: true, stepIndex: 3 }),
      newTrace(a.id, { rootName: 'ok-70', durationMs: 70, stepIndex: 1 }),
      newTrace(a.id, { rootName: 'ok-50b', durationMs: 50, stepIndex: 3 }),
    ])
    await evidence.saveTraces([newTrace(b.id, { rootName: 'b-1', durationMs: 1 })])
  })
  afterAll(async () => store?.dispose())

  it('saveTraces round-trips every field and the spans', async () => {
    const rollout = await makeRollout(db)
    const input = newTrace(rollout.id, {
      traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
      stepIndex: 2,
      rootName: 'GET /checkout/{id} — ✓',
      durationMs: 812.25,
      error: true,
      status: 'error',
      source: 'tempo',
      service: 'frontend',
      application: 'shop',
    }, 3)
    input.spans[1]!.attributes = { 'http.status_code': 500, 'http.route': '/checkout/{id}', retried: true }
    await evidence.saveTraces([input])
    const page = await evidence.tracesPage(rollout.id, { first: 10 })
    expect(page.hasNextPage).toBe(false)
    const trace = page.items[0]!.node
    expect(trace).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      rolloutId: rollout.id,
      stepIndex: 2,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      version: 'v2',
      status: 'error',
      durationMs: 812.25,
      rootName: 'GET /checkout/{id} — ✓',
      at: input.at,
      application: 'shop',
      service: 'frontend',
      error: true,
      source: 'tempo',
      spanCount: 3,
    })
    const [spans] = await evidence.spansOf([trace.id])
    expect(spans).toEqual([...input.spans].sort((x, y) => x.startMs - y.startMs))
  })

  it('saving the same trace again replaces its summary and spans, keeping its row id', async () => {
    const rollout = await makeRollout(db)
    const first = newTrace(rollout.id, { durationMs: 10 }, 2)
    await evidence.saveTraces([first])
    const [before] = (await evidence.tracesPage(rollout.id, { first: 5 })).items
    const again = { ...first, durationMs: 40, error: true, status: 'error', spans: [...first.spans, span({ parentSpanId: first.spans[0]!.spanId, status: 'error' })] }
    await evidence.saveTraces([again])
    await evidence.saveTraces([again])
    const page = await evidence.tracesPage(rollout.id, { first: 5 })
    expect(page.items).toHaveLength(1)
    expect(page.items[0]!.node).toMatchObject({ id: before!.node.id, durationMs: 40, error: true, spanCount: 3 })
    expect((await evidence.spansOf([before!.node.id]))[0]).toHaveLength(3)
    // The same trace id in another rollout is another linked trace.
    const other = await makeRollout(db)
    await evidence.saveTraces([{ ...first, rolloutId: other.id }])
    expect((await evidence.tracesPage(other.id, { first: 5 })).items).toHaveLength(1)
  })

  it('a batch with the same trace twice keeps the last copy', async () => {
    const rollout = await makeRollout(db)
    const t = newTrace(rollout.id, { rootName: 'one' })
    await evidence.saveTraces([t, { ...t, rootName: 'two' }])
    expect(nodes(await evidence.tracesPage(rollout.id, { first: 5 }))).toEqual(['two'])
  })

  it('orders error first, then slowest, then id; pages with cursors; filters errorOnly and stepIndex', async () => {
    const all = await evidence.tracesPage(a.id, { first: 100 })
    expect(nodes(all)).toEqual(['err-900', 'err-20', 'ok-300', 'ok-70', ...[['ok-50', 'ok-50b']].flatMap((pair) => {
      const ids = all.items.filter((i) => pair.includes(i.node.rootName)).map((i) => i.node)
      return ids.sort((x, y) => (x.id < y.id ? -1 : 1)).map((n) => n.rootName)
    })])
    // Walk two at a time: the same sequence, no repeats, hasNextPage right on the last page.
    const walked: string[] = []
    let after: string | null = null
    for (;;) {
      const page: Page<LinkedTrace> = await evidence.tracesPage(a.id, { first: 2, after })
      walked.push(...nodes(page))
      if (!page.hasNextPage) break
      after = page.items.at(-1)!.cursor
    }
    expect(walked).toEqual(nodes(all))
    expect(nodes(await evidence.tracesPage(a.id, { first: 10, errorOnly: true }))).toEqual(['err-900', 'err-20'])
    expect(nodes(await evidence.tracesPage(a.id, { first: 10, stepIndex: 1 }))).toEqual(['err-20', 'ok-70', 'ok-50'])
    const errorsOfStep3 = await evidence.tracesPage(a.id, { first: 10, stepIndex: 3, errorOnly: true })
    expect(nodes(errorsOfStep3)).toEqual(['err-900'])
    const none = await evidence.tracesPage(a.id, { first: 0 })
    expect(none).toEqual({ items: [], hasNextPage: true })
  })

  it('batched pages: one query for many rollouts or steps, in key order', async () => {
    const rollouts = await queriesOf(db, () => evidence.tracesPages([b.id, 'missing', a.id], { first: 1 }))
    expect(rollouts.queries).toBe(1)
    expect(rollouts.result.map(nodes)).toEqual([['b-1'], [], ['err-900']])
    expect(rollouts.result.map((p) => p.hasNextPage)).toEqual([false, false, true])
    const steps = await queriesOf(db, () =>
      evidence.stepTracesPages([{ rolloutId: a.id, stepIndex: 3 }, { rolloutId: b.id, stepIndex: 3 }, { rolloutId: a.id, stepIndex: 1 }, { rolloutId: b.id, stepIndex: 1 }], { first: 2 }),
    )
    expect(steps.queries).toBe(1)
    expect(steps.result.map(nodes)).toEqual([['err-900', 'ok-300'], [], ['err-20', 'ok-70'], ['b-1']])
    expect(await queriesOf(db, () => evidence.tracesPages([], { first: 3 }))).toEqual({ result: [], queries: 0 })
  })

  it('tracesByRef and spansOf: key order, nulls and [] for unknown, one query each', async () => {
    const page = await evidence.tracesPage(a.id, { first: 2 })
    const [x, y] = page.items.map((i) => i.node) as [LinkedTrace, LinkedTrace]
    const refs = await queriesOf(db, () =>
      evidence.tracesByRef([{ rolloutId: a.id, traceId: y.traceId }, { rolloutId: b.id, traceId: x.traceId }, { rolloutId: a.id, traceId: x.traceId.toUpperCase() }]),
    )
    expect(refs.queries).toBe(1)
    expect(refs.result.map((t) => t?.rootName ?? null)).toEqual([y.rootName, null, x.rootName])
    const spans = await queriesOf(db, () => evidence.spansOf([y.id, 'missing', x.id]))
    expect(spans.queries).toBe(1)
    expect(spans.result.map((s) => s.length)).toEqual([2, 0, 2])
    expect(spans.result[0]![1]!.parentSpanId).toBe(spans.result[0]![0]!.spanId)
  })

  it('caps spans per trace (roots and errors kept) and attribute maps', async () => {
    const rollout = await makeRollout(db)
    const input = newTrace(rollout.id, { rootName: 'big' }, MAX_SPANS_PER_TRACE + 250)
    const root = input.spans[0]!
    // The last span, which a start-order cut would drop, is an error: it must be kept.
    const lastError = input.spans.at(-1)!
    lastError.status = 'error'
    const attributes: Record<string, string | number | boolean> = { long: 'x'.repeat(10_000), nan: Number.NaN, ['k'.repeat(500)]: 'too long a key' }
    for (let i = 0; i < 100; i++) attributes[`a${i}`] = i
    ;(attributes as Record<string, unknown>).nested = { no: 'objects' }
    root.attributes = attributes
    await evidence.saveTraces([input])
    const trace = (await evidence.tracesPage(rollout.id, { first: 1 })).items[0]!.node
    expect(trace.spanCount).toBe(MAX_SPANS_PER_TRACE + 250)
    const spans = (await evidence.spansOf([trace.id]))[0]!
    expect(spans).toHaveLength(MAX_SPANS_PER_TRACE)
    expect(spans.map((s) => s.spanId)).toContain(root.spanId)
    expect(spans.map((s) => s.spanId)).toContain(lastError.spanId)
    const kept = spans.find((s) => s.spanId === root.spanId)!.attributes
    expect(Object.keys(kept)).toHaveLength(32)
    expect(kept.long).toBe('x'.repeat(256))
    expect(kept).not.toHaveProperty('nan')
    expect(kept).not.toHaveProperty('nested')
    expect(Object.keys(kept).some((k) => k.length > 128)).toBe(false)
  })

  it('cuts long names to 255 characters, whole code points', async () => {
    const rollout = await makeRollout(db)
    await evidence.saveTraces([newTrace(rollout.id, { rootName: '🚨'.repeat(400), service: 's'.repeat(1000) })])
    const trace = (await evidence.tracesPage(rollout.id, { first: 1 })).items[0]!.node
    expect(Array.from(trace.rootName)).toHaveLength(255)
    expect(trace.rootName).toBe('🚨'.repeat(255))
    expect(trace.service).toHaveLength(255)
  })

  it('refuses invalid input with InvalidTraceError and writes nothing of the batch', async () => {
    const rollout = await makeRollout(db)
    const good = newTrace(rollout.id)
    const bad: [string, object][] = [
      ['traceId', { traceId: 'xyz' }],
      ['traceId', { traceId: '0'.repeat(32) }],
      ['traceId', { traceId: traceId() + '00' }],
      ['stepIndex', { stepIndex: -1 }],
      ['version', { version: 'v'.repeat(65) }],
      ['version', { version: '' }],
      ['application', { application: 'a'.repeat(64) }],
      ['source', { source: 'jaeger' }],
      ['durationMs', { durationMs: Number.POSITIVE_INFINITY }],
      ['durationMs', { durationMs: -1 }],
      ['at', { at: new Date(Number.NaN) }],
      ['spanId', { spans: [span({ spanId: 'nothex!!nothex!!' })] }],
      ['parentSpanId', { spans: [span({ parentSpanId: '123' })] }],
      ['status', { spans: [span({ status: 'bad' as 'ok' })] }],
      ['startMs', { spans: [span({ startMs: Number.NaN })] }],
      ['spans', { spans: 'many' }],
    ]
    const before = await countRows(db, 'traces')
    for (const [field, override] of bad) {
      await expect(evidence.saveTraces([good, { ...newTrace(rollout.id), ...override }]), field).rejects.toThrow(InvalidTraceError)
      await expect(evidence.saveTraces([good, { ...newTrace(rollout.id), ...override }]), field).rejects.toThrow(field)
    }
    expect(await countRows(db, 'traces')).toBe(before)
    // An unknown rollout anywhere in the batch: NotFoundError, nothing written.
    await expect(evidence.saveTraces([good, newTrace('missing')])).rejects.toThrow(new NotFoundError('rollout missing not found'))
    expect(await countRows(db, 'traces')).toBe(before)
    await expect(evidence.saveTraces([])).resolves.toBeUndefined()
  })

  it('empty parent ids mean a root; unknown kinds become unspecified', async () => {
    const rollout = await makeRollout(db)
    await evidence.saveTraces([newTrace(rollout.id, { spans: [span({ parentSpanId: '' as unknown as null, kind: 'SERVER' }), span({ spanId: spanId(), kind: 'weird', startMs: Date.parse('2026-02-03T04:05:07.000Z') })] })])
    const trace = (await evidence.tracesPage(rollout.id, { first: 1 })).items[0]!.node
    const [spans] = await evidence.spansOf([trace.id])
    expect(spans!.map((s) => [s.parentSpanId, s.kind])).toEqual([[null, 'server'], [null, 'unspecified']])
  })

  it('refuses bad page options: negative first, malformed or foreign cursors', async () => {
    await expect(evidence.tracesPage(a.id, { first: -1 })).rejects.toThrow(RangeError)
    await expect(evidence.tracesPage(a.id, { first: 2, after: 'not a cursor' })).rejects.toThrow(BadCursorError)
    const foreign = Buffer.from(JSON.stringify(['rollouts', 1, 'x'])).toString('base64url')
    await expect(evidence.tracesPage(a.id, { first: 2, after: foreign })).rejects.toThrow(/another list/)
    const wrongShape = Buffer.from(JSON.stringify(['traces', 'a', 1, 'x'])).toString('base64url')
    await expect(evidence.tracesPage(a.id, { first: 2, after: wrongShape })).rejects.toThrow(BadCursorError)
  })
})
