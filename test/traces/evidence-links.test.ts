/**
 * controller/evidence-links.ts against the Tempo and Loki stand-ins and a real store: which
 * traces a decision links (error first, capped), Tempo exemplars saved with their spans and
 * bounded, known traces not fetched again, Loki lines capped, and failures recorded in the
 * evidence without failing the decision.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { evaluateGates, type GateEvaluation } from '../../controller/evaluate.ts'
import { linkEvidence, MAX_DECISION_LOG_LINES, MAX_DECISION_TRACES, MAX_LOG_LINE_CHARS, type LinkInput } from '../../controller/evidence-links.ts'
import { LokiProvider } from '../../controller/telemetry/loki.ts'
import type { TelemetryProvider } from '../../controller/telemetry/provider.ts'
import { DEFAULT_EXEMPLAR_BUDGET } from '../../controller/telemetry/tempo-links.ts'
import { DEFAULT_ERROR_QUERY, TempoProvider } from '../../controller/telemetry/tempo.ts'
import { assertSpec, type AppSpec } from '../../schema/spec.ts'
import { createStore, type Rollout, type Store } from '../../schema/store/index.ts'
import { ERROR_RATIO_QUERY, pushVersionLogs } from '../standins/loki-fixtures.ts'
import { LokiStandin } from '../standins/loki.ts'
import { pushVersionTraces } from '../standins/tempo-fixtures.ts'
import { TempoStandin } from '../standins/tempo.ts'
import { DIALECTS, openTestStore } from '../support/databases.ts'
import { makeRollout } from '../support/store-fixtures.ts'
import { newTrace } from './fixtures.ts'

const END = new Date(Math.floor(Date.now() / 1000) * 1000 - 500)
const START = new Date(END.getTime() - 20_000)

const SPEC: AppSpec = assertSpec({
  name: 'demo',
  target: { kind: 'process', listen: '127.0.0.1:4199', command: ['node', 'app.mjs'] },
  strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '10s' } }] } },
  gates: [
    { name: 'trace-errors', provider: 'tempo', query: DEFAULT_ERROR_QUERY, judge: { kind: 'threshold', max: 0.05 } },
    { name: 'log-errors', provider: 'loki', query: ERROR_RATIO_QUERY, judge: { kind: 'threshold', max: 0.05 } },
  ],
})

describe.each(DIALECTS)('decision evidence links on %s', (dialect) => {
  let tempo: TempoStandin
  let loki: LokiStandin
  let store: Store
  let dispose: () => Promise<void>
  let providers: Map<string, TelemetryProvider>
  let evaluations: GateEvaluation[]
  let rollout: Rollout

  const input = (overrides: Partial<LinkInput> = {}): LinkInput => ({
    store,
    spec: SPEC,
    rolloutId: rollout.id,
    stepIndex: 1,
    canaryVersion: 'v2',
    baselineVersion: 'v1',
    evaluations,
    providers,
    signal: AbortSignal.timeout(20_000),
    ...overrides,
  })

  beforeAll(async () => {
    tempo = await TempoStandin.start()
    loki = await LokiStandin.start()
    pushVersionTraces(tempo, { application: 'demo', version: 'v1', from: START, to: END, traces: 200, errorRatio: 0.01, durationMs: (i) => 40 + (i % 10) })
    pushVersionTraces(tempo, { application: 'demo', version: 'v2', from: START, to: END, traces: 200, errorRatio: 0.1, durationMs: (i, e) => (e ? 400 : 190 + (i % 10)) })
    pushVersionLogs(loki, { application: 'demo', version: 'v1', from: START, to: END, lines: 300, errorRatio: 0.01 })
    pushVersionLogs(loki, { application: 'demo', version: 'v2', from: START, to: END, lines: 300, errorRatio: 0.2 })
    const opened = await openTestStore(dialect)
    store = createStore(opened.db)
    dispose = opened.dispose
    providers = new Map<string, TelemetryProvider>([
      ['tempo', new TempoProvider({ url: tempo.url, timeoutMs: 5000 })],
      ['loki', new LokiProvider({ url: loki.url, timeoutMs: 5000 })],
    ])
    evaluations = await evaluateGates({
      spec: SPEC, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: START.getTime(), now: END.getTime(), providers, timeoutMs: 5000,
    })
    expect(evaluations.map((e) => e.verdict.verdict)).toEqual(['FAIL', 'FAIL'])
  })
  beforeEach(async () => {
    tempo.setFault(null)
    loki.setFault(null)
    rollout = await makeRollout(store.db)
  })
  afterAll(async () => {
    await tempo?.close()
    await loki?.close()
    await dispose?.()
  })

  it('Tempo gates carry their counts beside the rate, for count-based judges', () => {
    const canary = evaluations[0]!.sample!.canary.values
    expect(canary['trace-errors.total']).toBe(200)
    expect(canary['trace-errors.errors']).toBe(20)
    expect(canary['trace-errors']).toBeCloseTo(0.1)
    expect(evaluations[0]!.sample!.baseline.values['trace-errors.errors']).toBe(2)
  })

  it('saves the Tempo exemplars of the window (bounded) and links the step traces error first', async () => {
    const links = await linkEvidence(input())
    expect(links.evidenceLinkErrors).toEqual([])
    const [page] = await store.evidence.stepTracesPages([{ rolloutId: rollout.id, stepIndex: 1 }], { first: 100 })
    const saved = page!.items.map((i) => i.node)
    expect(saved.length).toBeGreaterThan(0)
    expect(saved.length).toBeLessThanOrEqual(DEFAULT_EXEMPLAR_BUDGET.total)
    expect(saved.every((t) => t.source === 'tempo' && t.application === 'demo' && t.spanCount === 2)).toBe(true)
    // Error exemplars of the canary first: at least the budgeted error traces of v2 are there
    // (its slowest traces are error traces too).
    expect(saved.filter((t) => t.error && t.version === 'v2').length).toBeGreaterThanOrEqual(DEFAULT_EXEMPLAR_BUDGET.errors)
    expect(links.traceIds).toEqual(saved.slice(0, MAX_DECISION_TRACES).map((t) => t.traceId))
    const spans = (await store.evidence.spansOf([saved[0]!.id]))[0]!
    expect(spans.map((s) => s.name)).toEqual(['GET /checkout', 'SELECT orders'])
    expect(spans[0]!.attributes).toMatchObject({ 'http.status_code': 500 })
  })

  it('a later decision at the same step fetches nothing more once the step has its budget', async () => {
    await linkEvidence(input())
    const requestsBefore = tempo.requests.length
    const again = await linkEvidence(input())
    expect(again.evidenceLinkErrors).toEqual([])
    expect(tempo.requests.length).toBe(requestsBefore)
    const [page] = await store.evidence.stepTracesPages([{ rolloutId: rollout.id, stepIndex: 1 }], { first: 100 })
    expect(page!.items).toHaveLength(DEFAULT_EXEMPLAR_BUDGET.total)
  })

  it('links OTLP traces already saved for the step, at most MAX_DECISION_TRACES, errors first', async () => {
    await store.evidence.saveTraces(Array.from({ length: 15 }, (_, i) => newTrace(rollout.id, { stepIndex: 1, durationMs: 10 + i, error: i === 3, rootName: `otlp-${i}` })))
    await store.evidence.saveTraces([newTrace(rollout.id, { stepIndex: 0, error: true, rootName: 'other step' })])
    const links = await linkEvidence(input({ evaluations: [], providers: new Map() }))
    expect(links.traceIds).toHaveLength(MAX_DECISION_TRACES)
    const [page] = await store.evidence.stepTracesPages([{ rolloutId: rollout.id, stepIndex: 1 }], { first: MAX_DECISION_TRACES })
    expect(page!.items[0]!.node.rootName).toBe('otlp-3')
    expect(links.traceIds).toEqual(page!.items.map((i) => i.node.traceId))
  })

  it('adds the Loki gate lines, canary first, capped', async () => {
    const links = await linkEvidence(input())
    expect(links.logLines.length).toBeGreaterThan(0)
    expect(links.logLines.length).toBeLessThanOrEqual(MAX_DECISION_LOG_LINES)
    expect(links.logLines[0]).toMatchObject({ gate: 'log-errors', version: 'v2', labels: { app: 'demo', version: 'v2' } })
    expect(links.logLines.every((l) => l.line.includes('level=error'))).toBe(true)
    expect(links.logLines.every((l) => !Number.isNaN(Date.parse(l.at)))).toBe(true)
  })

  it('cuts huge log lines and label sets', async () => {
    const at = END.getTime() - 100
    const labels: Record<string, string> = { app: 'demo', version: 'v2', huge: 'h'.repeat(5000) }
    for (let i = 0; i < 50; i++) labels[`l${i}`] = String(i)
    loki.push(labels, [{ time: at, line: `level=error ${'x'.repeat(100_000)}` }])
    const links = await linkEvidence(input())
    const huge = links.logLines.find((l) => l.labels.huge !== undefined)!
    expect(huge.line).toHaveLength(MAX_LOG_LINE_CHARS)
    expect(Object.keys(huge.labels)).toHaveLength(32)
    expect(huge.labels.huge).toHaveLength(256)
    expect(links.logLines.every((l) => l.line.length <= MAX_LOG_LINE_CHARS)).toBe(true)
  })

  it('records Tempo and Loki failures in the links and still links what it has', async () => {
    await store.evidence.saveTraces([newTrace(rollout.id, { stepIndex: 1, error: true, rootName: 'from otlp' })])
    tempo.setFault({ kind: 'status', status: 500, body: 'tempo is down' })
    loki.setFault({ kind: 'malformed' })
    const links = await linkEvidence(input())
    expect(links.evidenceLinkErrors).toHaveLength(2)
    expect(links.evidenceLinkErrors[0]).toMatch(/^tempo exemplars \(tempo\): .*500/)
    expect(links.evidenceLinkErrors[1]).toMatch(/^loki lines \(log-errors\)/)
    expect(links.logLines).toEqual([])
    expect(links.traceIds).toHaveLength(1)
  })

  it('a trace Tempo no longer has keeps its search summary without spans', async () => {
    tempo.setFault({ kind: 'status', status: 404, body: '' }, { paths: ['/api/traces/'] })
    const links = await linkEvidence(input())
    expect(links.evidenceLinkErrors).toEqual([])
    const [page] = await store.evidence.stepTracesPages([{ rolloutId: rollout.id, stepIndex: 1 }], { first: 100 })
    expect(page!.items.length).toBeGreaterThan(0)
    for (const { node } of page!.items) {
      expect(node.spanCount).toBe(0)
      expect(node.rootName).toBe('GET /checkout')
    }
  })

  it('gives up within the signal when Tempo hangs, linking what is stored', async () => {
    tempo.setFault({ kind: 'slow', ms: 5_000 })
    const links = await linkEvidence(input({ signal: AbortSignal.timeout(300) }))
    expect(links.evidenceLinkErrors.some((e) => e.startsWith('tempo exemplars'))).toBe(true)
    expect(links.traceIds).toEqual([])
  })
})
