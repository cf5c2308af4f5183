/**
 * The Loki provider against the Loki stand-in (test/standins/loki.ts): templates rendered
 * per version, values read from instant queries, the bad version (8 % error lines) separated
 * from the good one by the real judges, evidence lines, auth and tenant headers, ping.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseProviderSpec } from '../../schema/provider-spec.ts'
import { type AppSpec, type GateSpec, assertSpec } from '../../schema/spec.ts'
import { ERROR_LINE, ERROR_RATIO_QUERY, pushVersionLogs } from '../../test/standins/loki-fixtures.ts'
import { LokiStandin } from '../../test/standins/loki.ts'
import { evaluateGates } from '../evaluate.ts'
import { judgeFor } from '../judges/index.ts'
import { LokiProvider, type LokiProviderOptions, logSelectorOf, renderQuery, windowDuration } from './loki.ts'
import type { WindowQuery } from './provider.ts'

const END = new Date(Math.floor(Date.now() / 1000) * 1000)
const START = new Date(END.getTime() - 20_000)

let loki: LokiStandin

function specWith(gates: Record<string, unknown>[]): AppSpec {
  return assertSpec({
    name: 'demo',
    target: { kind: 'process', listen: '127.0.0.1:4199', command: ['node', 'app.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '10s' } }] } },
    gates,
  })
}

const ERRORS_GATE = { name: 'log-errors', provider: 'loki', query: ERROR_RATIO_QUERY, judge: { kind: 'threshold', max: 0.05 } }

function windowQuery(spec: AppSpec, canaryVersion: string, baselineVersion: string | null = 'v1'): WindowQuery {
  return { application: spec.name, canaryVersion, baselineVersion, start: START, end: END, canaryWeight: 10, gates: spec.gates }
}

function provider(options: Partial<LokiProviderOptions> = {}): LokiProvider {
  return new LokiProvider({ url: loki.url, timeoutMs: 5000, ...options })
}

beforeAll(async () => {
  loki = await LokiStandin.start()
  // Baseline v1: 0.5 % error lines; v2: a bad release, 8 %; v3: a good one, none.
  pushVersionLogs(loki, { application: 'demo', version: 'v1', from: START, to: END, lines: 400, errorRatio: 0.005 })
  pushVersionLogs(loki, { application: 'demo', version: 'v2', from: START, to: END, lines: 200, errorRatio: 0.08 })
  pushVersionLogs(loki, { application: 'demo', version: 'v3', from: START, to: END, lines: 200, errorRatio: 0 })
})
afterAll(async () => {
  await loki.close()
})
beforeEach(() => {
  loki.setFault(null)
  loki.requireTenant(null)
})

describe('LokiProvider.sample', () => {
  it('reads the error ratio of canary and baseline; the bad version fails the judges, the good one passes', async () => {
    const spec = specWith([ERRORS_GATE])
    const gate = spec.gates[0]!
    const loki = provider()

    const bad = await loki.sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    expect(bad.provider).toBe('loki')
    expect(bad.canary).toMatchObject({ version: 'v2', requests: null, errors: null, values: { 'log-errors': 0.08 }, reasons: {} })
    expect(bad.baseline).toMatchObject({ version: 'v1', requests: null, errors: null, values: { 'log-errors': 0.005 }, reasons: {} })
    expect(judgeFor(gate.judge).judge([bad], gate)).toMatchObject({ verdict: 'FAIL', value: 0.08 })
    const relative: GateSpec = { ...gate, judge: { kind: 'relative', maxIncrease: 0.03 } }
    expect(judgeFor(relative.judge).judge([bad], relative)).toMatchObject({ verdict: 'FAIL', baseline: 0.005 })

    const good = await loki.sample(windowQuery(spec, 'v3'), AbortSignal.timeout(5000))
    // No error lines at all: `or vector(0)` makes it 0, not "no data".
    expect(good.canary.values['log-errors']).toBe(0)
    expect(judgeFor(gate.judge).judge([good], gate)).toMatchObject({ verdict: 'PASS', value: 0 })
    expect(judgeFor(relative.judge).judge([good], relative).verdict).toBe('PASS')
  })

  it('decides the same through the evaluation loop (evaluateGates)', async () => {
    const spec = specWith([ERRORS_GATE])
    const providers = new Map([['loki', provider()]])
    const run = (canaryVersion: string) =>
      evaluateGates({ spec, canaryVersion, baselineVersion: 'v1', canaryWeight: 10, stepStartedAt: START.getTime(), now: END.getTime(), providers, timeoutMs: 5000 })
    const [bad] = await run('v2')
    expect(bad!.verdict).toMatchObject({ verdict: 'FAIL', reason: 'log-errors 0.08 over the last 20 s; above the limit of 0.05' })
    const [good] = await run('v3')
    expect(good!.verdict.verdict).toBe('PASS')
  })

  it('renders {{application}}, {{version}} and {{window}} per version and asks at the window end, with auth, tenant and headers', async () => {
    const spec = specWith([ERRORS_GATE])
    const before = loki.requests.length
    loki.requireTenant('shop')
    const sample = await provider({ bearerToken: 's3cret', tenant: 'shop', headers: { 'x-team': 'checkout' } }).sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    const asked = loki.requests.slice(before)
    expect(asked).toHaveLength(2)
    const queries = asked.map((r) => r.params.get('query')).sort()
    expect(queries).toEqual([
      '(sum(count_over_time({app="demo", version="v1"} |= "level=error" [20s])) or vector(0)) / sum(count_over_time({app="demo", version="v1"} [20s]))',
      '(sum(count_over_time({app="demo", version="v2"} |= "level=error" [20s])) or vector(0)) / sum(count_over_time({app="demo", version="v2"} [20s]))',
    ])
    expect(sample.canary.queries).toEqual({ 'log-errors': queries[1] })
    expect(sample.baseline.queries).toEqual({ 'log-errors': queries[0] })
    for (const r of asked) {
      expect(r.path).toBe('/loki/api/v1/query')
      expect(r.method).toBe('GET')
      expect(r.params.get('time')).toBe((BigInt(END.getTime()) * 1_000_000n).toString())
      expect(r.headers.authorization).toBe('Bearer s3cret')
      expect(r.headers['x-scope-orgid']).toBe('shop')
      expect(r.headers['x-team']).toBe('checkout')
    }
  })

  it('sends basic auth (from options or the URL, never echoed in messages)', async () => {
    const before = loki.requests.length
    await provider({ basicAuth: { username: 'sentra', password: 'pw' } }).ping(AbortSignal.timeout(5000))
    expect(loki.requests[before]!.headers.authorization).toBe(`Basic ${Buffer.from('sentra:pw').toString('base64')}`)
    const url = new URL(loki.url)
    url.username = 'u'
    url.password = 'p@ss'
    await new LokiProvider({ url: url.href }).ping(AbortSignal.timeout(5000))
    expect(loki.requests.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('u:p@ss').toString('base64')}`)
  })

  it('without a baseline version (initial deploy) asks only for the canary', async () => {
    const spec = specWith([ERRORS_GATE])
    const before = loki.requests.length
    const sample = await provider().sample(windowQuery(spec, 'v2', null), AbortSignal.timeout(5000))
    expect(loki.requests.length - before).toBe(1)
    expect(sample.baseline).toEqual({
      version: '', requests: null, errors: null, values: { 'log-errors': null }, queries: {},
      reasons: { 'log-errors': 'there is no baseline version to compare with' },
    })
    expect(sample.canary.reasons).toEqual({})
  })

  it('several gates: one value per gate name', async () => {
    const spec = specWith([
      ERRORS_GATE,
      { name: 'error-rate', provider: 'loki', query: 'sum(rate({app="{{application}}", version="{{version}}"} |= "level=error" [{{window}}]))', judge: { kind: 'threshold', max: 100 } },
    ])
    const sample = await provider({ concurrency: 2 }).sample(windowQuery(spec, 'v2'), AbortSignal.timeout(5000))
    expect(sample.canary.values).toEqual({ 'log-errors': 0.08, 'error-rate': 16 / 20 })
    expect(sample.baseline.values).toEqual({ 'log-errors': 0.005, 'error-rate': 2 / 20 })
  })
})

describe('LokiProvider evidence: the log lines that made the difference', () => {
  it('evidenceLines fetches the gate numerator\'s lines for each version, newest first', async () => {
    const spec = specWith([ERRORS_GATE])
    const evidence = await provider().evidenceLines(windowQuery(spec, 'v2'), spec.gates[0]!, 5)
    expect(evidence.map((e) => e.version)).toEqual(['v2', 'v1'])
    const [canary, baseline] = evidence
    expect(canary!.query).toBe('{app="demo", version="v2"} |= "level=error"')
    expect(canary!.lines).toHaveLength(5)
    for (const line of canary!.lines) {
      expect(line.line.startsWith(ERROR_LINE)).toBe(true)
      expect(line.labels).toEqual({ app: 'demo', version: 'v2' })
      expect(line.ns).toMatch(/^\d{19}$/)
      expect(line.time.getTime()).toBeGreaterThan(START.getTime())
      expect(line.time.getTime()).toBeLessThanOrEqual(END.getTime())
    }
    const times = canary!.lines.map((l) => l.time.getTime())
    expect([...times].sort((a, b) => b - a)).toEqual(times)
    expect(baseline!.lines).toHaveLength(2)
    const asked = loki.requests.at(-1)!
    expect(asked.path).toBe('/loki/api/v1/query_range')
    expect(asked.params.get('direction')).toBe('backward')
    expect(asked.params.get('limit')).toBe('5')
  })

  it('fetchLines runs a log query over [start, end) and refuses a metric query clearly', async () => {
    const lines = await provider().fetchLines('{app="demo", version="v1"} |= "level=error"', START, new Date(END.getTime() + 1), 10)
    expect(lines).toHaveLength(2)
    await expect(provider().fetchLines('sum(count_over_time({app="demo"}[5s]))', START, END, 10)).rejects.toThrow(
      /loki returned a matrix .*; log lines need a log query/,
    )
  })

  it('logSelectorOf finds the log query inside a metric query', () => {
    expect(logSelectorOf('sum(count_over_time({app="x"} |= "error" [20s])) / sum(count_over_time({app="x"}[20s]))')).toBe('{app="x"} |= "error"')
    expect(logSelectorOf('(sum(rate({app="x", v=~"a|b"} |~ "err(or)?" [1m])) or vector(0))')).toBe('{app="x", v=~"a|b"} |~ "err(or)?"')
    expect(logSelectorOf('count_over_time({app="x"}[5m] |= "a)b")')).toBe('{app="x"} |= "a)b"')
    expect(logSelectorOf('{app="}"} != "debug"')).toBe('{app="}"} != "debug"')
    expect(logSelectorOf('vector(1)')).toBeNull()
  })

  it('renders templates and windows', () => {
    expect(renderQuery('{a="{{ application }}",v="{{version}}"}[{{window}}]', { application: 'demo', version: 'v"2', window: '20s' })).toBe('{a="demo",v="v\\"2"}[20s]')
    expect(windowDuration(START, new Date(START.getTime() + 20_300))).toBe('21s')
    expect(windowDuration(START, START)).toBe('1s')
  })
})

describe('LokiProvider.ping and check', () => {
  it('fromSpec builds the client of a declared provider (url, bearer token, headers, tenant, timeout)', async () => {
    const parsed = parseProviderSpec({ name: 'logs', kind: 'loki', url: loki.url, bearerToken: 'tok', headers: { 'x-team': 'a' }, tenant: 'shop', timeout: '2s' })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    loki.requireTenant('shop')
    await LokiProvider.fromSpec(parsed.provider).ping(AbortSignal.timeout(5000))
    expect(loki.requests.at(-1)!.headers).toMatchObject({ authorization: 'Bearer tok', 'x-team': 'a', 'x-scope-orgid': 'shop' })
  })

  it('ping asks /loki/api/v1/labels; a tenant-less ping to a multi-tenant Loki fails with Loki\'s words', async () => {
    await provider().ping(AbortSignal.timeout(5000))
    expect(loki.requests.at(-1)!.path).toBe('/loki/api/v1/labels')
    loki.requireTenant('shop')
    await expect(provider().ping(AbortSignal.timeout(5000))).rejects.toThrow('loki answered HTTP 401: no org id')
    await provider({ tenant: 'shop' }).ping(AbortSignal.timeout(5000))
  })

  it('checkQuery (the dry run before a rollout): a valid query passes even with no data; Loki\'s parse error, an unusable shape or a bad template throws', async () => {
    const signal = (): AbortSignal => AbortSignal.timeout(5000)
    await provider().checkQuery(ERRORS_GATE.query, signal())
    const before = loki.requests.length
    await provider().checkQuery(ERRORS_GATE.query, signal(), { application: 'demo', version: 'v1' })
    expect(loki.requests[before]!.params.get('query')).toContain('{app="demo", version="v1"} |= "level=error" [60s]')
    await expect(provider().checkQuery('sum(count_over_time({app="demo", version="{{version}}"} | logfmt [1m]))', signal())).rejects.toThrow(
      /^loki answered HTTP 400: parse error at line 1, col 60: not supported by the Sentra Loki stand-in/,
    )
    await expect(provider().checkQuery('count_over_time({app="demo", version=~"{{version}}|v1|v2"}[1m])', signal())).rejects.toThrow(
      'the query returned 2 series; a gate query must return one (aggregate it, e.g. sum(...))',
    )
    await expect(provider().checkQuery('sum(count_over_time({app="demo", version="{{verison}}"}[1m]))', signal())).rejects.toThrow(/^the query /)
  })
})
