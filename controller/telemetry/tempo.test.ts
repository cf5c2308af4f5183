/**
 * The Tempo provider against the Tempo stand-in (test/standins/tempo.ts): per-version
 * matching/total trace counts from TraceQL searches, the bad version (8 % error traces, slower)
 * separated from the good one by the real judges, span-duration quantiles, exemplars, trace
 * fetch, truncation, auth and tenant headers, ping.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseProviderSpec } from '../../schema/provider-spec.ts'
import { type AppSpec, assertSpec } from '../../schema/spec.ts'
import { type PushedTraces, pushVersionTraces } from '../../test/standins/tempo-fixtures.ts'
import { TempoStandin } from '../../test/standins/tempo.ts'
import { evaluateGates } from '../evaluate.ts'
import { judgeFor } from '../judges/index.ts'
import type { WindowQuery } from './provider.ts'
import { DEFAULT_ERROR_QUERY, TempoProvider, type TempoProviderOptions, parseTrace, quantile, startedWithin } from './tempo.ts'

const END = new Date(Math.floor(Date.now() / 1000) * 1000 - 500)
const START = new Date(END.getTime() - 20_000)

let tempo: TempoStandin
const pushed: Record<string, PushedTraces> = {}

function specWith(gates: Record<string, unknown>[]): AppSpec {
  return assertSpec({
    name: 'demo',
    target: { kind: 'process', listen: '127.0.0.1:4199', command: ['node', 'app.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '10s' } }] } },
    gates,
  })
}

const ERRORS_GATE = { name: 'trace-errors', provider: 'tempo', query: DEFAULT_ERROR_QUERY, judge: { kind: 'threshold', max: 0.05 } }
const SLOW_GATE = {
  name: 'slow-traces',
  provider: 'tempo',
  query: '{ resource.service.name = "{{application}}" && resource.service.version = "{{version}}" && duration > 150ms }',
  judge: { kind: 'relative', maxIncrease: 0.1 },
}

function windowQuery(spec: AppSpec, canaryVersion: string, baselineVersion: string | null = 'v1'): WindowQuery {
  return { application: spec.name, canaryVersion, baselineVersion, start: START, end: END, canaryWeight: 10, gates: spec.gates }
}

function provider(options: Partial<TempoProviderOptions> = {}): TempoProvider {
  return new TempoProvider({ url: tempo.url, timeoutMs: 5000, ...options })
}

beforeAll(async () => {
  tempo = await TempoStandin.start()
  // Baseline v1: 1 % error traces, ~45 ms. v2: a bad release, 8 % errors, ~195 ms (errors 400 ms). v3: good, 0.5 %.
  pushed.v1 = pushVersionTraces(tempo, { application: 'demo', version: 'v1', from: START, to: END, traces: 400, errorRatio: 0.01, durationMs: (i) => 40 + (i % 10) })
  pushed.v2 = pushVersionTraces(tempo, { application: 'demo', version: 'v2', from: START, to: END, traces: 200, errorRatio: 0.08, durationMs: (i, e) => (e ? 400 : 190 + (i % 10)) })
  pushed.v3 = pushVersionTraces(tempo, { application: 'demo', version: 'v3', from: START, to: END, traces: 200, errorRatio: 0.005, durationMs: (i) => 40 + (i % 10) })
})
afterAll(async () => {
  await tempo.close()
})
beforeEach(() => {
  tempo.setFault(null)
  tempo.requireTenant(null)
})

describe('TempoProvider.sample', () => {
  it('counts each trace in one window only: two adjacent windows add up to the whole', async () => {
    const spec = specWith([ERRORS_GATE])
    // A boundary inside a second: Tempo's range is whole seconds, so both searches see the traces of that second.
    const middle = new Date(START.getTime() + 10_250)
    const whole = await provider().sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    const first = await provider().sample({ ...windowQuery(spec, 'v2'), end: middle }, AbortSignal.timeout(5000))
    const second = await provider().sample({ ...windowQuery(spec, 'v2'), start: middle }, AbortSignal.timeout(5000))
    for (const side of ['canary', 'baseline'] as const) {
      const total = whole[side].counts['trace-errors']!
      const a = first[side].counts['trace-errors']!
      const b = second[side].counts['trace-errors']!
      expect(a.total! + b.total!).toBe(total.total)
      expect(a.matching! + b.matching!).toBe(total.matching)
      expect(a.total).toBeGreaterThan(0)
      expect(b.total).toBeGreaterThan(0)
    }
  })

  it('matching / total traces per version; the bad version fails, the good one passes', async () => {
    const spec = specWith([ERRORS_GATE, SLOW_GATE])
    const [errors, slow] = spec.gates
    const bad = await provider().sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    expect(bad.provider).toBe('tempo')
    expect(bad.canary).toMatchObject({ version: 'v2', requests: 200, errors: null, values: { 'trace-errors': 0.08, 'slow-traces': 1 } })
    expect(bad.baseline).toMatchObject({ version: 'v1', requests: 400, errors: null, values: { 'trace-errors': 0.01, 'slow-traces': 0 } })
    expect(bad.canary.counts).toEqual({ 'trace-errors': { matching: 16, total: 200 }, 'slow-traces': { matching: 200, total: 200 } })
    expect(bad.baseline.counts).toEqual({ 'trace-errors': { matching: 4, total: 400 }, 'slow-traces': { matching: 0, total: 400 } })
    expect(bad.canary.queries['trace-errors']).toBe('{ resource.service.name = "demo" && resource.service.version = "v2" && status = error }')
    expect(bad.canary.totalQuery).toBe('{ resource.service.name = "demo" && resource.service.version = "v2" }')
    expect(bad.truncated).toBe(false)
    expect(bad.canary.reasons).toEqual({})
    expect(bad.baseline.reasons).toEqual({})
    expect(judgeFor(errors!.judge).judge([bad], errors!)).toMatchObject({ verdict: 'FAIL', value: 0.08 })
    expect(judgeFor(slow!.judge).judge([bad], slow!)).toMatchObject({ verdict: 'FAIL', value: 1, baseline: 0 })

    const good = await provider().sample(windowQuery(spec, 'v3'), AbortSignal.timeout(5000))
    expect(good.canary.values['trace-errors']).toBe(0.005)
    expect(judgeFor(errors!.judge).judge([good], errors!).verdict).toBe('PASS')
    expect(judgeFor(slow!.judge).judge([good], slow!).verdict).toBe('PASS')
  })

  it('span-duration quantiles (seconds) from the total search; errors = matching when there is one gate', async () => {
    const spec = specWith([ERRORS_GATE])
    const sample = await provider().sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    expect(sample.canary.errors).toBe(16)
    expect(sample.baseline.errors).toBe(4)
    // v2 spans: roots 190–199 ms (errors 400 ms) and children a fifth of that.
    expect(sample.canary.values.spanDurationP95).toBeGreaterThan(0.19)
    expect(sample.canary.values.spanDurationP99).toBeCloseTo(0.4, 5)
    expect(sample.canary.values.spanDurationP50).toBeGreaterThan(0.038)
    expect(sample.baseline.values.spanDurationP95).toBeLessThan(0.05)
  })

  it('decides the same through the evaluation loop (evaluateGates)', async () => {
    const spec = specWith([ERRORS_GATE])
    const providers = new Map([['tempo', provider()]])
    const run = (canaryVersion: string) =>
      evaluateGates({ spec, canaryVersion, baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: START.getTime(), now: END.getTime(), providers, timeoutMs: 5000 })
    const [bad] = await run('v2')
    expect(bad!.verdict).toMatchObject({ verdict: 'FAIL', reason: 'trace-errors 0.08 over the last 20 s; above the limit of 0.05' })
    expect(bad!.verdict.evidence).toMatchObject({ canaryRequests: 200, baselineRequests: 400, canaryErrors: 16, baselineErrors: 4 })
    expect((await run('v3'))[0]!.verdict.verdict).toBe('PASS')
  })

  it('renders templates per version and searches the window in whole seconds, with limit, spss, auth and tenant', async () => {
    const spec = specWith([ERRORS_GATE])
    tempo.requireTenant('shop')
    const before = tempo.requests.length
    await provider({ tenant: 'shop', bearerToken: 't0ken', searchLimit: 1000, spansPerSpanSet: 4 }).sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    const asked = tempo.requests.slice(before)
    expect(asked.map((r) => r.params.get('q')).sort()).toEqual([
      '{ resource.service.name = "demo" && resource.service.version = "v1" && status = error }',
      '{ resource.service.name = "demo" && resource.service.version = "v1" }',
      '{ resource.service.name = "demo" && resource.service.version = "v2" && status = error }',
      '{ resource.service.name = "demo" && resource.service.version = "v2" }',
    ])
    for (const r of asked) {
      expect(r.path).toBe('/api/search')
      expect(r.params.get('start')).toBe(String(Math.floor(START.getTime() / 1000)))
      expect(r.params.get('end')).toBe(String(Math.ceil(END.getTime() / 1000)))
      expect(r.params.get('limit')).toBe('1000')
      expect(r.params.get('spss')).toBe('4')
      expect(r.headers.authorization).toBe('Bearer t0ken')
      expect(r.headers['x-scope-orgid']).toBe('shop')
    }
  })

  it('a search that hits the limit is TRUNCATED: no value (a biased rate is worse than none), and it says why', async () => {
    const spec = specWith([ERRORS_GATE])
    const relative = { ...spec.gates[0]!, judge: { kind: 'relative' as const, maxIncrease: 0.03 } }
    // 300: the canary's 200 traces fit, the baseline's 400 do not.
    const sample = await provider({ searchLimit: 300 }).sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    expect(sample.truncated).toBe(true)
    expect(sample.canary.values['trace-errors']).toBe(0.08)
    expect(sample.baseline.values['trace-errors']).toBeNull()
    expect(sample.baseline.truncated).toBe(true)
    expect(sample.canary.truncated).toBe(false)
    expect(sample.canary.reasons).toEqual({})
    expect(sample.baseline.reasons).toEqual({
      'trace-errors':
        'truncated: v1 has at least 300 traces in the window (the search limit), so the total is only a lower bound and a rate from it would be biased (raise searchLimit or shorten the window)',
    })
    expect(sample.baseline.counts['trace-errors']).toEqual({ matching: 4, total: 300 })
    expect(judgeFor(relative.judge).judge([sample], relative).verdict).toBe('INCONCLUSIVE')

    // The canary truncated: every gate lost its value, so the whole sample fails with the reason.
    const [result] = await evaluateGates({
      spec, canaryVersion: 'v2', baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: START.getTime(), now: END.getTime(),
      providers: new Map([['tempo', provider({ searchLimit: 100 })]]), timeoutMs: 5000,
    })
    expect(result!.verdict.verdict).toBe('INCONCLUSIVE')
    expect(result!.verdict.reason).toMatch(/^tempo failed: truncated: v2 has at least 100 traces in the window/)
    // The gate's own search truncated too: only a lower bound of the bad traces.
    await expect(provider({ searchLimit: 10 }).sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))).rejects.toThrow(
      /^truncated: the gate's search reached the search limit of 10 traces/,
    )
  })

  it('without a baseline version only the canary is searched', async () => {
    const spec = specWith([ERRORS_GATE])
    const before = tempo.requests.length
    const sample = await provider().sample(windowQuery(spec, 'v2', null), AbortSignal.timeout(5000))
    expect(tempo.requests.length - before).toBe(2)
    expect(sample.baseline).toMatchObject({
      version: '', requests: null, values: { 'trace-errors': null }, counts: {},
      reasons: { 'trace-errors': 'there is no baseline version to compare with' },
    })
  })
})

describe('TempoProvider exemplars and traces', () => {
  it('exemplars: up to 5 error traces (newest first), then the 5 slowest, per version', async () => {
    const spec = specWith([ERRORS_GATE])
    const exemplars = await provider().exemplars(windowQuery(spec, 'v2'))
    const canary = exemplars.filter((e) => e.version === 'v2')
    const baseline = exemplars.filter((e) => e.version === 'v1')
    expect(canary.map((e) => e.why)).toEqual(['error', 'error', 'error', 'error', 'error', 'slowest', 'slowest', 'slowest', 'slowest', 'slowest'])
    for (const e of canary.filter((x) => x.why === 'error')) {
      expect(pushed.v2!.errorIds).toContain(e.traceId)
      expect(e).toMatchObject({ status: 'error', durationMs: 400, rootName: 'GET /checkout' })
      expect(e.startedAt.getTime()).toBeGreaterThanOrEqual(START.getTime())
    }
    const errorStarts = canary.filter((x) => x.why === 'error').map((e) => e.startedAt.getTime())
    expect([...errorStarts].sort((a, b) => b - a)).toEqual(errorStarts)
    // The other error traces (400 ms) are the slowest of all.
    for (const e of canary.filter((x) => x.why === 'slowest')) expect(e).toMatchObject({ status: 'error', durationMs: 400 })
    expect(baseline.filter((e) => e.why === 'error')).toHaveLength(4)
    expect(new Set(exemplars.map((e) => `${e.version}/${e.traceId}`)).size).toBe(exemplars.length)
    expect(exemplars[0]!.traceId).toMatch(/^[0-9a-f]{32}$/)
  })

  it('exemplars of a good version: its one error trace, then the slowest, which are not errors', async () => {
    const spec = specWith([ERRORS_GATE])
    const exemplars = await provider().exemplars(windowQuery(spec, 'v3', null))
    expect(exemplars.map((e) => [e.why, e.status])).toEqual([['error', 'error'], ...Array.from({ length: 5 }, () => ['slowest', 'ok'])])
    expect(exemplars[0]!.traceId).toBe(pushed.v3!.errorIds[0])
    for (const e of exemplars.slice(1)) expect(e.durationMs).toBe(49)
  })

  it('exemplars mark statuses unknown when the error search was truncated', async () => {
    const spec = specWith([ERRORS_GATE])
    const exemplars = await provider({ searchLimit: 3 }).exemplars(windowQuery(spec, 'v2', null), { errors: 1, slowest: 2 })
    expect(exemplars.map((e) => [e.why, e.status])).toEqual([['error', 'error'], ['slowest', 'unknown'], ['slowest', 'unknown']])
  })

  it('fetchTrace reads /api/traces/<id> (v1: batches, base64 ids → hex)', async () => {
    const id = pushed.v2!.errorIds[0]!
    const trace = await provider().fetchTrace(id)
    expect(trace!.traceId).toBe(id)
    const [root, child] = trace!.spans
    expect(root).toMatchObject({
      traceId: id,
      parentSpanId: null,
      name: 'GET /checkout',
      kind: 'server',
      service: 'demo',
      version: 'v2',
      durationMs: 400,
      status: 'error',
      statusMessage: 'upstream failed',
      attributes: { 'http.method': 'GET', 'http.status_code': 500 },
      resource: { 'service.name': 'demo', 'service.version': 'v2' },
    })
    expect(root!.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(child).toMatchObject({ parentSpanId: root!.spanId, kind: 'client', status: 'unset', statusMessage: null, durationMs: 80 })
    expect(tempo.requests.at(-1)!.path).toBe(`/api/traces/${id}`)
    // Tempo trims leading zeros in search results; both spellings fetch the same trace.
    expect((await provider().fetchTrace(id.replace(/^0+/, '')))!.spans).toHaveLength(2)
  })

  it('fetchTrace: unknown is null; not a trace ID is refused before asking', async () => {
    expect(await provider().fetchTrace('f'.repeat(32))).toBeNull()
    await expect(provider().fetchTrace('../../etc')).rejects.toThrow(/^not a trace ID/)
  })

  it('parseTrace also reads the v2 shape and numeric enums', () => {
    const trace = parseTrace({
      trace: {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 's' } }] },
            scopeSpans: [{ scope: {}, spans: [{ traceId: 'AAAAAAAAAAAAAAAAAAAAAQ==', spanId: 'AAAAAAAAAAI=', name: 'x', kind: 2, startTimeUnixNano: '1000000', endTimeUnixNano: '3000000', status: { code: 2 } }] }],
          },
        ],
      },
    })
    expect(trace.spans[0]).toMatchObject({ traceId: '00000000000000000000000000000001', spanId: '0000000000000002', kind: 'server', status: 'error', durationMs: 2, service: 's' })
  })

  it('quantile interpolates between ranks', () => {
    expect(quantile([], 0.95)).toBeNull()
    expect(quantile([5], 0.95)).toBe(5)
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile(Array.from({ length: 101 }, (_, i) => i), 0.95)).toBe(95)
  })
})

describe('TempoProvider.ping and check', () => {
  it('fromSpec builds the client of a declared provider (url, basic auth, tenant, timeout)', async () => {
    const parsed = parseProviderSpec({ name: 'traces', kind: 'tempo', url: tempo.url, basicAuth: { username: 'u', password: 'p' }, tenant: 'shop' })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    tempo.requireTenant('shop')
    await TempoProvider.fromSpec(parsed.provider).ping(AbortSignal.timeout(5000))
    expect(tempo.requests.at(-1)!.headers).toMatchObject({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}`, 'x-scope-orgid': 'shop' })
  })

  it('ping asks /api/echo and /api/v2/search/tags; a multi-tenant Tempo without the tenant fails with its words', async () => {
    const before = tempo.requests.length
    await provider().ping(AbortSignal.timeout(5000))
    expect(tempo.requests.slice(before).map((r) => r.path)).toEqual(['/api/echo', '/api/v2/search/tags'])
    tempo.requireTenant('shop')
    await expect(provider().ping(AbortSignal.timeout(5000))).rejects.toThrow('tempo answered HTTP 401: no org id')
    await provider({ tenant: 'shop' }).ping(AbortSignal.timeout(5000))
  })

  it('checkQuery (the dry run) passes a valid TraceQL query and throws Tempo\'s 400 for an unsupported one', async () => {
    await provider().checkQuery(DEFAULT_ERROR_QUERY, AbortSignal.timeout(5000))
    expect(tempo.requests.at(-1)!.params.get('q')).toBe(
      '{ resource.service.name = "sentra-dry-run" && resource.service.version = "sentra-dry-run" && status = error }',
    )
    await expect(provider().checkQuery('{ resource.service.version = "{{version}}" } | count() > 3', AbortSignal.timeout(5000))).rejects.toThrow(
      /^tempo answered HTTP 400: invalid TraceQL query: parse error at line 1, col 49: not supported by the Sentra Tempo stand-in: pipelines/,
    )
  })
})

describe('startedWithin', () => {
  const at = (ms: number) => ({ traceId: ms.toString(16).padStart(32, '0'), rootServiceName: null, rootName: null, startedAt: new Date(ms), durationMs: 1, spanDurationsNs: [] })
  const result = { traces: [at(999), at(1000), at(1500), at(1999), at(2000)], truncated: true, limit: 5 }

  it.each([
    [1000, 2000, [1000, 1500, 1999]],
    [0, 1000, [999]],
    [2000, 3000, [2000]],
    [1500, 1500, []],
  ])('keeps the traces that started in [%d, %d)', (from, to, kept) => {
    const got = startedWithin(result, new Date(from), new Date(to))
    expect(got.traces.map((t) => t.startedAt.getTime())).toEqual(kept)
    expect(got.truncated).toBe(true)
  })
})
