/**
 * A rollout that a Tempo gate rolls back, end to end: the real controller runtime and API,
 * the demo service as a process target, Tempo and Loki stand-ins (test/standins/) declared as
 * providers. The ROLLBACK decision links the step's traces (Tempo exemplars saved with their
 * spans, error traces first) and the Loki gate's error lines, and the graph shows them.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { MAX_DECISION_LOG_LINES, MAX_DECISION_TRACES } from '../../controller/evidence-links.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { DEFAULT_ERROR_QUERY } from '../../controller/telemetry/tempo.ts'
import { parseProviderSpec } from '../../schema/provider-spec.ts'
import { ERROR_LINE, ERROR_RATIO_QUERY, pushVersionLogs } from '../standins/loki-fixtures.ts'
import { LokiStandin } from '../standins/loki.ts'
import { pushVersionTraces, type PushedTraces } from '../standins/tempo-fixtures.ts'
import { TempoStandin } from '../standins/tempo.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 150_000, hookTimeout: 90_000 })

const APP = 'traced'

interface DecisionView {
  action: string
  reason: string
  stepIndex: number
  evidence: { traceIds?: string[]; logLines?: unknown[]; evidenceLinkErrors?: string[] }
  traces: { traceId: string; error: boolean; source: string; version: string; stepIndex: number; spanCount: number; spans: { name: string; parentSpanId: string | null; status: string }[] }[]
  logLines: { line: string; labels: Record<string, string> }[]
}

describe('a rollout a Tempo gate rolls back, with the decision linking its traces and log lines', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let tempo: TempoStandin
  let loki: LokiStandin
  let pushed: Record<string, PushedTraces>

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    tempo = await TempoStandin.start()
    loki = await LokiStandin.start()
    // Telemetry for the next two minutes, as the services would send it: v1 healthy, v2 failing.
    // About 40 traces a second per version: a threshold gate needs 20 canary traces in a 1 s window.
    const from = new Date(Date.now() - 5_000)
    const to = new Date(Date.now() + 120_000)
    pushed = {
      v1: pushVersionTraces(tempo, { application: APP, version: 'v1', from, to, traces: 5000, errorRatio: 0.01, durationMs: (i) => 40 + (i % 10) }),
      v2: pushVersionTraces(tempo, { application: APP, version: 'v2', from, to, traces: 5000, errorRatio: 0.2, durationMs: (i, e) => (e ? 400 : 190 + (i % 10)) }),
    }
    pushVersionLogs(loki, { application: APP, version: 'v1', from, to, lines: 1250, errorRatio: 0.01 })
    pushVersionLogs(loki, { application: APP, version: 'v2', from, to, lines: 1250, errorRatio: 0.25 })
    for (const raw of [
      { name: 'tempo', kind: 'tempo', url: tempo.url, timeout: '5s' },
      { name: 'loki', kind: 'loki', url: loki.url, timeout: '5s' },
    ]) {
      const provider = parseProviderSpec(raw)
      if (!provider.ok) throw new Error(JSON.stringify(provider.issues))
      await api.store.providers.upsert(provider.provider)
    }
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false })
    const spec = quickSpec(APP, await freePort(), {
      strategy: { canary: { steps: [{ setWeight: 50 }, { analyze: { min: '3s', max: '60s' } }] } },
      gates: [
        { name: 'trace-errors', provider: 'tempo', query: DEFAULT_ERROR_QUERY, judge: { kind: 'threshold', max: 0.05 } },
        // Above v2's 25 %: this gate never fails, so the rollback is the Tempo gate's. A Loki ratio
        // has no counts and fails on its first reading, while a Tempo gate needs 20 canary traces
        // and a timely answer: in one run on a loaded machine the Loki gate rolled v2 back alone
        // while the Tempo gate was still inconclusive. Its error lines are linked all the same.
        { name: 'log-errors', provider: 'loki', query: ERROR_RATIO_QUERY, judge: { kind: 'threshold', max: 0.5 } },
      ],
    })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec })
    expect(applied.errors).toBeUndefined()
  })
  afterAll(async () => {
    await runtime?.stop()
    await tempo?.close()
    await loki?.close()
    await api?.close()
  })

  const run = async (version: string) => {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "${APP}", version: $v) { id } }`, { v: version })
    expect(started.errors).toBeUndefined()
    const id = started.data!.startRollout.id
    return waitFor(
      async () =>
        (await api.gql<{ rollout: { status: string; decisions: DecisionView[]; traces: { edges: { node: { traceId: string; error: boolean } }[] }; steps: { traces: { edges: { node: { traceId: string } }[] } }[] } }>(
          `query($id: ID!) { rollout(id: $id) {
            status
            decisions { action reason stepIndex evidence
              traces { traceId error source version stepIndex spanCount spans { name parentSpanId status } }
              logLines { line labels } }
            traces(first: 50) { edges { node { traceId error } } }
            steps { traces(first: 50) { edges { node { traceId } } } }
          } }`,
          { id },
        )).data!.rollout,
      (r) => ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'].includes(r.status),
      { timeoutMs: 120_000, what: `rollout of ${version}` },
    )
  }

  it('rolls back v2 on the trace error rate; the ROLLBACK decision links Tempo traces with spans and Loki error lines', async () => {
    expect((await run('v1')).status).toBe('SUCCEEDED')
    const bad = await run('v2')
    expect(bad.status).toBe('ROLLED_BACK')
    const rollback = bad.decisions.find((d) => d.action === 'ROLLBACK')!
    expect(rollback.reason).toMatch(/trace-errors failed/)
    expect(rollback.evidence.evidenceLinkErrors).toBeUndefined()

    // Traces: the exemplars of the analyze step, error traces first, each with its spans.
    expect(rollback.stepIndex).toBe(1)
    expect(rollback.traces.length).toBeGreaterThan(0)
    expect(rollback.traces.length).toBeLessThanOrEqual(MAX_DECISION_TRACES)
    expect(rollback.evidence.traceIds).toEqual(rollback.traces.map((t) => t.traceId))
    const errors = rollback.traces.filter((t) => t.error)
    expect(errors.length).toBeGreaterThan(0)
    expect(rollback.traces.slice(0, errors.length).every((t) => t.error)).toBe(true)
    const known = new Set([...pushed.v1!.ids, ...pushed.v2!.ids])
    const v2Errors = new Set(pushed.v2!.errorIds)
    for (const trace of rollback.traces) {
      expect(known.has(trace.traceId)).toBe(true)
      expect(trace).toMatchObject({ source: 'TEMPO', stepIndex: 1, spanCount: 2 })
      expect(trace.spans.map((s) => s.name)).toEqual(['GET /checkout', 'SELECT orders'])
      expect(trace.spans[0]!.parentSpanId).toBeNull()
      if (trace.error && trace.version === 'v2') expect(v2Errors.has(trace.traceId)).toBe(true)
    }
    expect(errors.some((t) => t.version === 'v2' && t.spans[0]!.status === 'ERROR')).toBe(true)
    // Linked traces belong to the step, and the rollout's list shows the same ones.
    const stepTraces = bad.steps[1]!.traces.edges.map((e) => e.node.traceId)
    expect(new Set(stepTraces)).toEqual(new Set(bad.traces.edges.map((e) => e.node.traceId)))
    expect(stepTraces.slice(0, rollback.traces.length)).toEqual(rollback.traces.map((t) => t.traceId))

    // Log lines: the Loki gate's error lines, canary first, capped.
    expect(rollback.logLines.length).toBeGreaterThan(0)
    expect(rollback.logLines.length).toBeLessThanOrEqual(MAX_DECISION_LOG_LINES)
    expect(rollback.logLines[0]!.labels).toEqual({ app: APP, version: 'v2' })
    for (const line of rollback.logLines) expect(line.line.startsWith(ERROR_LINE)).toBe(true)
  })
})
