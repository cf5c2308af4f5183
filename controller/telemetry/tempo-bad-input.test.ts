/**
 * Bad telemetry input from Tempo (issue 4, item 6): malformed JSON, 4xx/5xx, timeouts, huge
 * bodies, wrong shapes, unsupported TraceQL, no traces, an unreachable server. Each one ends
 * as a clear reason and an INCONCLUSIVE verdict (never a PASS), through the real evaluation
 * path (evaluateGates, then the threshold judge), within its timeout; exemplars and trace
 * fetch fail with the same clear messages.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type AppSpec, assertSpec } from '../../schema/spec.ts'
import { pushVersionTraces } from '../../test/standins/tempo-fixtures.ts'
import { type StandinFault, TempoStandin } from '../../test/standins/tempo.ts'
import { type GateEvaluation, evaluateGates } from '../evaluate.ts'
import { judgeFor } from '../judges/index.ts'
import { NoDataError, type WindowQuery } from './provider.ts'
import { DEFAULT_ERROR_QUERY, TempoProvider, type TempoProviderOptions, parseSearch } from './tempo.ts'

const END = new Date(Math.floor(Date.now() / 1000) * 1000 - 500)
const START = new Date(END.getTime() - 20_000)

let tempo: TempoStandin

function specWith(gates: Record<string, unknown>[]): AppSpec {
  return assertSpec({
    name: 'demo',
    target: { kind: 'process', listen: '127.0.0.1:4199', command: ['node', 'app.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '10s' } }] } },
    gates,
  })
}

const gate = (name: string, query: string): Record<string, unknown> => ({ name, provider: 'tempo', query, judge: { kind: 'threshold', max: 0.05 } })
const ERRORS = gate('trace-errors', DEFAULT_ERROR_QUERY)

function windowQuery(spec: AppSpec, canaryVersion = 'v2'): WindowQuery {
  return { application: spec.name, canaryVersion, baselineVersion: 'v1', start: START, end: END, canaryWeight: 10, gates: spec.gates }
}

async function evaluate(spec: AppSpec, options: Partial<TempoProviderOptions> = {}, timeoutMs = 5000, withinMs = 6000): Promise<GateEvaluation[]> {
  const providers = new Map([['tempo', new TempoProvider({ url: tempo.url, timeoutMs: 3000, ...options })]])
  const t0 = performance.now()
  const results = await evaluateGates({
    spec,
    canaryVersion: 'v2',
    baselineVersion: 'v1',
    canaryWeight: 10,
    stepStartedAt: START.getTime(),
    now: END.getTime(),
    providers,
    timeoutMs,
  })
  expect(performance.now() - t0).toBeLessThan(withinMs)
  for (const r of results) expect(r.verdict.verdict, r.verdict.reason).not.toBe('PASS')
  return results
}

beforeAll(async () => {
  tempo = await TempoStandin.start()
  // Both versions look perfect: any PASS below would come from bad input, not from data.
  pushVersionTraces(tempo, { application: 'demo', version: 'v1', from: START, to: END, traces: 100, errorRatio: 0, durationMs: () => 40 })
  pushVersionTraces(tempo, { application: 'demo', version: 'v2', from: START, to: END, traces: 100, errorRatio: 0, durationMs: () => 40 })
  // Same version, another service: a gate that forgets service.name matches more than the total.
  pushVersionTraces(tempo, { application: 'other', version: 'v2', from: START, to: END, traces: 30, errorRatio: 0, durationMs: () => 40 })
})
afterAll(async () => {
  await tempo.close()
})
beforeEach(() => {
  tempo.setFault(null)
  tempo.requireTenant(null)
})

describe('Tempo bad input → INCONCLUSIVE with a clear reason', () => {
  const faults: [string, StandinFault, RegExp][] = [
    ['malformed JSON', { kind: 'malformed' }, /^tempo failed: counting all traces of v2 failed: tempo answered with malformed JSON \(/],
    ['HTTP 500', { kind: 'status', status: 500, body: 'internal error' }, /^tempo failed: counting all traces of v2 failed: tempo answered HTTP 500: internal error$/],
    ['HTTP 502 with an empty body', { kind: 'status', status: 502, body: '' }, /tempo answered HTTP 502 with an empty body$/],
    ['HTTP 429', { kind: 'status', status: 429, body: 'job queue full' }, /tempo answered HTTP 429: job queue full$/],
    ['valid JSON of the wrong shape', { kind: 'wrongShape', body: { status: 'success' } }, /tempo's answer is not a search result \(no traces, no metrics\)$/],
    ['traces that is not a list', { kind: 'wrongShape', body: { traces: { a: 1 }, metrics: {} } }, /tempo's answer is not a search result \(traces is not a list\)$/],
    ['a trace without an ID', { kind: 'wrongShape', body: { traces: [{ durationMs: 3 }] } }, /a search result \(a trace without a hex traceID\)$/],
    ['a numeric startTimeUnixNano (not jsonpb)', { kind: 'wrongShape', body: { traces: [{ traceID: 'ab', startTimeUnixNano: 1 }] } }, /startTimeUnixNano is not a string of digits/],
  ]
  it.each(faults)('%s', async (_name, fault, reason) => {
    tempo.setFault(fault)
    const [result] = await evaluate(specWith([ERRORS]))
    expect(result!.verdict.verdict).toBe('INCONCLUSIVE')
    expect(result!.verdict.reason).toMatch(reason)
  })

  it('a failing total search, or a failing gate search, each named in the reason', async () => {
    tempo.setFault({ kind: 'status', status: 503, body: 'try later' }, { times: 1 })
    const spec = specWith([ERRORS])
    // One search at a time: the first is the canary's total, the second its gate search.
    const sample = await new TempoProvider({ url: tempo.url, concurrency: 1 })
      .sample(windowQuery(spec), AbortSignal.timeout(5000))
      .catch((e: Error) => e)
    expect(String(sample)).toBe('Error: counting all traces of v2 failed: tempo answered HTTP 503: try later')
    // The second search (the canary's gate search) fails, the total before it worked.
    const requestsBefore = tempo.requests.length
    let calls = 0
    const failingSecond: typeof fetch = async (input, init) => {
      calls += 1
      if (calls === 2) return new Response('queue full', { status: 429 })
      return fetch(input, init)
    }
    const partial = await new TempoProvider({ url: tempo.url, concurrency: 1, fetch: failingSecond }).sample(windowQuery(spec), AbortSignal.timeout(5000)).catch((e: Error) => e)
    expect(String(partial)).toBe('Error: tempo answered HTTP 429: queue full')
    expect(tempo.requests.length).toBeGreaterThan(requestsBefore)
  })

  it('a timeout of the provider (its own timeoutMs) answers quickly and says so', async () => {
    tempo.setFault({ kind: 'slow', ms: 4000 })
    const [result] = await evaluate(specWith([ERRORS]), { timeoutMs: 200 }, 5000, 1500)
    expect(result!.verdict.reason).toBe('tempo failed: counting all traces of v2 failed: tempo did not answer within 200 ms')
  })

  it('a timeout of the loop (the tick\'s signal) wins over a longer provider timeout', async () => {
    tempo.setFault({ kind: 'slow', ms: 4000 })
    const [result] = await evaluate(specWith([ERRORS]), { timeoutMs: 10_000 }, 250, 1500)
    expect(result!.verdict).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'tempo did not answer within 250 ms' })
  })

  it('a huge body is refused without reading it all', async () => {
    tempo.setFault({ kind: 'huge', bytes: 3 * 1024 * 1024 })
    const [result] = await evaluate(specWith([ERRORS]), { maxResponseBytes: 512 * 1024 })
    expect(result!.verdict.reason).toMatch(/tempo's answer is larger than 512 KiB; it was not read \(narrow the query or raise maxResponseBytes\)$/)
  })

  it('unsupported TraceQL: Tempo\'s 400 is the reason', async () => {
    const [result] = await evaluate(specWith([gate('errors-count', '{ resource.service.version = "{{version}}" && status = error } | count() > 1')]))
    expect(result!.verdict.reason).toMatch(
      /^tempo failed: tempo answered HTTP 400: invalid TraceQL query: parse error at line 1, col 55: not supported by the Sentra Tempo stand-in: pipelines/,
    )
  })

  it('401 from a multi-tenant Tempo without the tenant; an unreachable Tempo', async () => {
    tempo.requireTenant('shop')
    const [refused] = await evaluate(specWith([ERRORS]))
    expect(refused!.verdict.reason).toMatch(/tempo answered HTTP 401: no org id$/)
    tempo.requireTenant(null)
    const closed = await TempoStandin.start()
    const url = closed.url
    await closed.close()
    const [unreachable] = await evaluate(specWith([ERRORS]), { url })
    expect(unreachable!.verdict.reason).toBe(`tempo failed: counting all traces of v2 failed: could not reach tempo at ${url}: ECONNREFUSED`)
  })

  it('no traces of the canary: NoDataError, read as "no data"; too few traces: the minimum-traffic rule', async () => {
    const spec = specWith([ERRORS])
    const provider = new TempoProvider({ url: tempo.url })
    await expect(provider.sample(windowQuery(spec, 'v9'), AbortSignal.timeout(5000))).rejects.toBeInstanceOf(NoDataError)
    const results = await evaluateGates({
      spec, canaryVersion: 'v9', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: START.getTime(), now: END.getTime(),
      providers: new Map([['tempo', provider]]), timeoutMs: 5000,
    })
    expect(results[0]!.verdict.reason).toMatch(/^no data: no traces of v9 in the window \(\{ resource\.service\.name = "demo"/)
    // 10 traces, all fine: a value of 0, but too little traffic to pass.
    pushVersionTraces(tempo, { application: 'demo', version: 'v8', from: START, to: END, traces: 10, errorRatio: 0, durationMs: () => 40 })
    const few = await provider.sample(windowQuery(spec, 'v8'), AbortSignal.timeout(5000))
    expect(few.canary).toMatchObject({ requests: 10, errors: 0, values: { 'trace-errors': 0 } })
    expect(judgeFor(spec.gates[0]!.judge).judge([few], spec.gates[0]!)).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'only 10 canary requests in the window; need 20' })
  })

  it('a gate query that is not a subset of the version\'s traces is refused, not turned into a rate above 100 %', async () => {
    const spec = specWith([ERRORS, gate('sloppy', '{ resource.service.version = "{{version}}" }')])
    const sample = await new TempoProvider({ url: tempo.url }).sample(windowQuery(spec), AbortSignal.timeout(5000))
    expect(sample.canary.values.sloppy).toBeNull()
    expect(sample.canary.reasons.sloppy).toMatch(/^the gate's query matched 130 traces but v2 has only 100: it must select a subset of \{ resource\.service\.name = "demo"/)
    expect(judgeFor(spec.gates[1]!.judge).judge([sample], spec.gates[1]!).verdict).toBe('INCONCLUSIVE')
    expect(judgeFor(spec.gates[0]!.judge).judge([sample], spec.gates[0]!).verdict).toBe('PASS')
  })
})

describe('Tempo bad input: exemplars and trace fetch', () => {
  it('exemplars reject with the clear reason when a search fails', async () => {
    tempo.setFault({ kind: 'status', status: 500, body: 'internal error' })
    await expect(new TempoProvider({ url: tempo.url }).exemplars(windowQuery(specWith([ERRORS])))).rejects.toThrow('tempo answered HTTP 500: internal error')
  })

  it('fetchTrace: malformed JSON, wrong shape, 5xx, timeouts are errors with clear messages', async () => {
    const provider = new TempoProvider({ url: tempo.url, timeoutMs: 200 })
    const id = 'a'.repeat(32)
    tempo.setFault({ kind: 'malformed' })
    await expect(provider.fetchTrace(id)).rejects.toThrow(/^tempo answered with malformed JSON/)
    tempo.setFault({ kind: 'wrongShape', body: { hello: 1 } })
    await expect(provider.fetchTrace(id)).rejects.toThrow("tempo's answer is not a trace (no batches)")
    tempo.setFault({ kind: 'wrongShape', body: { batches: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 5 }] }] }] } })
    await expect(provider.fetchTrace(id)).rejects.toThrow("tempo's answer is not a trace (span times are not strings of digits)")
    tempo.setFault({ kind: 'status', status: 422, body: 'trace exceeds max size (max bytes: 5000000)' })
    await expect(provider.fetchTrace(id)).rejects.toThrow('tempo answered HTTP 422: trace exceeds max size (max bytes: 5000000)')
    tempo.setFault({ kind: 'slow', ms: 3000 })
    await expect(provider.fetchTrace(id)).rejects.toThrow('tempo did not answer within 200 ms')
  })

  it('parseSearch accepts jsonpb\'s omissions (no traces, no durationMs, no spanSets)', () => {
    expect(parseSearch({ metrics: {} }, 10)).toEqual({ traces: [], truncated: false, limit: 10 })
    const [t] = parseSearch({ traces: [{ traceID: 'abc', startTimeUnixNano: '1000000' }] }, 10).traces
    expect(t).toMatchObject({ traceId: '00000000000000000000000000000abc', durationMs: 0, rootName: null, spanDurationsNs: [] })
  })
})
