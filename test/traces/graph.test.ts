/**
 * Linked traces through the real API server: Rollout.traces pagination (errorOnly, first,
 * after), RolloutStep.traces, LinkedTrace fields and spans (waterfall offsets), the trace URL
 * template, Decision.traces and Decision.logLines, bad arguments, and that a page of rollouts
 * with all of it costs the same number of SQL queries for 3 rollouts as for 25.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { plannedSteps } from '../../schema/rollout-steps.ts'
import { assertSpec } from '../../schema/spec.ts'
import type { Rollout, Store } from '../../schema/store/index.ts'
import { DIALECTS } from '../support/databases.ts'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'
import { newTrace, span } from './fixtures.ts'

const TEMPLATE = 'https://grafana.example/explore?traceId={{traceId}}&from={{startMs}}&to={{endMs}}&app={{application}}'
const T0 = Date.parse('2026-02-03T04:05:06.000Z')

interface TraceNode {
  traceId: string
  application: string
  version: string
  stepIndex: number
  step: { index: number; kind: string } | null
  start: string
  durationMs: number
  error: boolean
  rootName: string
  service: string
  source: string
  spanCount: number
  url: string | null
  spans: { spanId: string; parentSpanId: string | null; name: string; service: string; startOffsetMs: number; durationMs: number; status: string; kind: string; attributes: Record<string, unknown> }[]
}
interface Connection<N> {
  edges: { cursor: string; node: N }[]
  pageInfo: { hasNextPage: boolean; endCursor: string | null }
}

const TRACES = /* GraphQL */ `
  query Traces($id: ID!, $first: Int, $after: String, $errorOnly: Boolean) {
    rollout(id: $id) {
      traces(first: $first, after: $after, errorOnly: $errorOnly) {
        edges { cursor node { traceId rootName error durationMs } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`

/** A finished rollout with 7 traces (2 errors) over steps 1 and 5, and two decisions linking some. */
async function seedRollout(store: Store, app: Awaited<ReturnType<Store['applications']['upsert']>>, version: string): Promise<{ rollout: Rollout; traceIds: string[] }> {
  const rollout = await store.rollouts.create({ application: app, toVersion: version, steps: plannedSteps(assertSpec(app.spec)) })
  await store.rollouts.update(rollout.id, { status: 'ROLLED_BACK', finishedAt: new Date(T0) })
  const traces = [
    newTrace(rollout.id, { rootName: 'err-900', durationMs: 900, error: true, stepIndex: 5, at: new Date(T0), application: app.name, version }, 3),
    newTrace(rollout.id, { rootName: 'err-40', durationMs: 40, error: true, stepIndex: 1, at: new Date(T0 + 1000), application: app.name, version, source: 'tempo' }),
    ...[500, 300, 200, 100, 10].map((ms) => newTrace(rollout.id, { rootName: `ok-${ms}`, durationMs: ms, stepIndex: ms >= 300 ? 5 : 1, at: new Date(T0 + ms), application: app.name, version })),
  ]
  await store.evidence.saveTraces(traces)
  await store.decisions.append({
    rolloutId: rollout.id, seq: 1, action: 'SET_WEIGHT', actor: 'controller', reason: 'healthy', stepIndex: 1, fromWeight: 5, toWeight: 25,
    evidence: { gates: [], traceIds: [traces[1]!.traceId, traces[5]!.traceId], logLines: [] },
  })
  await store.decisions.append({
    rolloutId: rollout.id, seq: 2, action: 'ROLLBACK', actor: 'controller', reason: 'errors failed', stepIndex: 5, fromWeight: 50, toWeight: 0,
    evidence: {
      gates: [],
      // An unknown (never linked) id, a malformed one and a duplicate are left out.
      traceIds: [traces[0]!.traceId, 'f'.repeat(32), 'not-a-trace', traces[3]!.traceId, traces[0]!.traceId],
      logLines: [
        { at: new Date(T0 + 5).toISOString(), line: 'level=error msg="upstream failed"', labels: { app: app.name, version }, gate: 'log-errors', version },
        { at: 'yesterday-ish', line: 'dropped: bad time', labels: {} },
        { at: new Date(T0 + 6).toISOString(), line: 'level=error again', labels: { app: app.name, bad: 5 } },
      ],
    },
  })
  return { rollout, traceIds: traces.map((t) => t.traceId) }
}

describe.each(DIALECTS)('linked traces in the graph on %s', (dialect) => {
  let api: TestApi
  let app: Awaited<ReturnType<Store['applications']['upsert']>>
  let main: { rollout: Rollout; traceIds: string[] }
  let mainId: string

  beforeAll(async () => {
    api = await startTestApi(dialect, { traceUrlTemplate: TEMPLATE })
    app = await api.store.applications.upsert('traced', assertSpec(demoSpec('traced')))
    main = await seedRollout(api.store, app, 'v2')
    const found = await api.gql<{ rollouts: { edges: { node: { id: string; toVersion: string } }[] } }>(`{ rollouts(first: 1) { edges { node { id toVersion } } } }`)
    mainId = found.data!.rollouts.edges[0]!.node.id
  }, 60_000)
  afterAll(async () => api?.close())

  it('Rollout.traces pages error first, then slowest, with cursors; errorOnly filters', async () => {
    const walked: string[] = []
    let after: string | null = null
    let pages = 0
    for (;;) {
      const result: Awaited<ReturnType<typeof api.gql<{ rollout: { traces: Connection<{ rootName: string }> } }>>> = await api.gql(TRACES, { id: mainId, first: 3, after })
      expect(result.errors).toBeUndefined()
      const { edges, pageInfo } = result.data!.rollout.traces
      walked.push(...edges.map((e) => e.node.rootName))
      pages++
      if (!pageInfo.hasNextPage) break
      expect(pageInfo.endCursor).toBe(edges.at(-1)!.cursor)
      after = pageInfo.endCursor
    }
    expect(pages).toBe(3)
    expect(walked).toEqual(['err-900', 'err-40', 'ok-500', 'ok-300', 'ok-200', 'ok-100', 'ok-10'])
    const errors = await api.gql<{ rollout: { traces: Connection<{ rootName: string; error: boolean }> } }>(TRACES, { id: mainId, errorOnly: true })
    expect(errors.data!.rollout.traces.edges.map((e) => e.node.rootName)).toEqual(['err-900', 'err-40'])
    expect(errors.data!.rollout.traces.pageInfo.hasNextPage).toBe(false)
  })

  it('RolloutStep.traces holds each step its own traces', async () => {
    const result = await api.gql<{ rollout: { steps: { index: number; traces: Connection<{ rootName: string; stepIndex: number }> }[] } }>(
      `query($id: ID!) { rollout(id: $id) { steps { index traces(first: 2) { edges { node { rootName stepIndex } } pageInfo { hasNextPage } } } } }`,
      { id: mainId },
    )
    expect(result.errors).toBeUndefined()
    const byStep = Object.fromEntries(result.data!.rollout.steps.map((s) => [s.index, { names: s.traces.edges.map((e) => e.node.rootName), more: s.traces.pageInfo.hasNextPage }]))
    expect(byStep[1]).toEqual({ names: ['err-40', 'ok-200'], more: true })
    expect(byStep[5]).toEqual({ names: ['err-900', 'ok-500'], more: true })
    expect(byStep[0]).toEqual({ names: [], more: false })
    const errorsOfStep = await api.gql<{ rollout: { steps: { traces: Connection<{ rootName: string }> }[] } }>(
      `query($id: ID!) { rollout(id: $id) { steps { traces(errorOnly: true) { edges { node { rootName } } } } } }`,
      { id: mainId },
    )
    expect(errorsOfStep.data!.rollout.steps.map((s) => s.traces.edges.map((e) => e.node.rootName))).toEqual([[], ['err-40'], [], [], [], ['err-900']])
  })

  it('LinkedTrace fields, the URL from the template, and spans placed for a waterfall', async () => {
    const result = await api.gql<{ rollout: { traces: Connection<TraceNode> } }>(
      `query($id: ID!) { rollout(id: $id) { traces(first: 1) { edges { node {
        traceId application version stepIndex step { index kind } start durationMs error rootName service source spanCount url
        spans { spanId parentSpanId name service startOffsetMs durationMs status kind attributes }
      } } } } }`,
      { id: mainId },
    )
    expect(result.errors).toBeUndefined()
    const node = result.data!.rollout.traces.edges[0]!.node
    expect(node).toMatchObject({
      traceId: main.traceIds[0],
      application: 'traced',
      version: 'v2',
      stepIndex: 5,
      step: { index: 5, kind: 'ANALYZE' },
      start: new Date(T0).toISOString(),
      durationMs: 900,
      error: true,
      rootName: 'err-900',
      service: 'demo',
      source: 'OTLP',
      spanCount: 3,
      url: `https://grafana.example/explore?traceId=${main.traceIds[0]}&from=${T0 - 60_000}&to=${T0 + 900 + 60_000}&app=traced`,
    })
    expect(node.spans).toHaveLength(3)
    const [root, first, second] = node.spans as [TraceNode['spans'][0], TraceNode['spans'][0], TraceNode['spans'][0]]
    expect(root).toMatchObject({ parentSpanId: null, startOffsetMs: 0, durationMs: 900, status: 'ERROR', kind: 'server', name: 'err-900' })
    expect(first).toMatchObject({ parentSpanId: root.spanId, startOffsetMs: 1, kind: 'client', service: 'db', status: 'OK' })
    expect(second.startOffsetMs).toBe(2)
    const tempo = await api.gql<{ rollout: { traces: Connection<{ source: string }> } }>(
      `query($id: ID!) { rollout(id: $id) { traces(first: 2) { edges { node { source } } } } }`,
      { id: mainId },
    )
    expect(tempo.data!.rollout.traces.edges.map((e) => e.node.source)).toEqual(['OTLP', 'TEMPO'])
  })

  it('Decision.traces resolves the linked trace ids in order; Decision.logLines reads the recorded lines', async () => {
    const result = await api.gql<{ rollout: { decisions: { action: string; traces: { traceId: string; rootName: string }[]; logLines: { at: string; line: string; labels: Record<string, string> }[] }[] } }>(
      `query($id: ID!) { rollout(id: $id) { decisions { action traces { traceId rootName } logLines { at line labels } } } }`,
      { id: mainId },
    )
    expect(result.errors).toBeUndefined()
    const [advance, rollback] = result.data!.rollout.decisions
    expect(advance!.traces.map((t) => t.rootName)).toEqual(['err-40', 'ok-100'])
    expect(advance!.logLines).toEqual([])
    expect(rollback!.traces.map((t) => t.rootName)).toEqual(['err-900', 'ok-300'])
    expect(rollback!.logLines).toEqual([
      { at: new Date(T0 + 5).toISOString(), line: 'level=error msg="upstream failed"', labels: { app: 'traced', version: 'v2' } },
      { at: new Date(T0 + 6).toISOString(), line: 'level=error again', labels: { app: 'traced' } },
    ])
  })

  it('refuses bad arguments with BAD_USER_INPUT and a clear message', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ first: -1 }, /first: must be between 1 and 100/],
      [{ first: 0 }, /first: must be between 1 and 100/],
      [{ first: 100_000 }, /first: must be between 1 and 100/],
      [{ first: 2, after: 'not a cursor!' }, /invalid cursor/],
      [{ first: 2, after: Buffer.from(JSON.stringify(['rollouts', 1, 'x'])).toString('base64url') }, /another list/],
      [{ first: 2, after: Buffer.from(JSON.stringify(['traces', 'x', 1, 'x'])).toString('base64url') }, /invalid cursor/],
      [{ first: 2, after: 'A'.repeat(600) }, /not a valid cursor/],
    ]
    for (const [variables, message] of cases) {
      const result = await api.gql(TRACES, { id: mainId, ...variables })
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT')
      expect(result.errors?.[0]?.message).toMatch(message)
    }
    const backwards = await api.gql(`query($id: ID!) { rollout(id: $id) { traces(last: 2) { edges { cursor } } } }`, { id: mainId })
    expect(backwards.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    const stepBad = await api.gql(`query($id: ID!) { rollout(id: $id) { steps { traces(first: 101) { edges { cursor } } } } }`, { id: mainId })
    expect(stepBad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  })

  it('a page of rollouts with traces, spans, steps and decisions costs the same queries for 3 as for 25', async () => {
    for (let i = 0; i < 24; i++) await seedRollout(api.store, app, `v${i + 3}`)
    const PAGE = /* GraphQL */ `
      query($first: Int!) { rollouts(first: $first) { edges { node {
        traces(first: 3) { edges { node { traceId url step { index } spans { spanId startOffsetMs } } } pageInfo { hasNextPage } }
        errors: traces(first: 1, errorOnly: true) { edges { node { traceId } } }
        steps { index traces(first: 2) { edges { node { traceId spans { spanId } } } } }
        decisions { traces { traceId spans { name } } logLines { line } }
      } } } }
    `
    const queriesFor = async (first: number): Promise<number> => {
      await api.gql(`{ viewer { name } }`)
      const before = api.store.db.stats.queries
      const result = await api.gql<{ rollouts: { edges: { node: { traces: Connection<unknown>; decisions: { traces: unknown[] }[] } }[] } }>(PAGE, { first })
      expect(result.errors).toBeUndefined()
      expect(result.data!.rollouts.edges).toHaveLength(first)
      for (const { node } of result.data!.rollouts.edges) {
        expect(node.traces.edges).toHaveLength(3)
        expect(node.decisions.map((d) => d.traces.length)).toEqual([2, 2])
      }
      return api.store.db.stats.queries - before
    }
    // Once first: per-process caches would be counted against the first page only.
    await queriesFor(3)
    const three = await queriesFor(3)
    const many = await queriesFor(25)
    // The token's last_used_at is written at most once per LAST_USED_RESOLUTION_MS, on whichever
    // request falls due: one query either way. An N+1 would cost 22 or more.
    expect(Math.abs(many - three)).toBeLessThanOrEqual(1)
    // auth + rollouts + steps + decisions + 2 trace pages + step pages + decision traces + spans (+ token use).
    expect(many).toBeLessThanOrEqual(12)
  })
})
