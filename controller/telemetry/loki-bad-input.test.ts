/**
 * Bad telemetry input from Loki (issue 4, item 6): malformed JSON, 4xx/5xx, timeouts, huge
 * bodies, wrong shapes, unsupported LogQL, empty/several/NaN results, an unreachable server.
 * Each one ends as a clear reason and an INCONCLUSIVE verdict (never a PASS), through the
 * real evaluation path (evaluateGates, then the threshold judge), and none blocks the loop
 * longer than its timeout.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type AppSpec, assertSpec } from '../../schema/spec.ts'
import { ERROR_RATIO_QUERY, pushVersionLogs } from '../../test/standins/loki-fixtures.ts'
import { LokiStandin, type StandinFault } from '../../test/standins/loki.ts'
import { type GateEvaluation, evaluateGates } from '../evaluate.ts'
import { judgeFor } from '../judges/index.ts'
import { LokiProvider, type LokiProviderOptions, lokiValueOf } from './loki.ts'
import { NoDataError } from './provider.ts'

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

const gate = (name: string, query: string): Record<string, unknown> => ({ name, provider: 'loki', query, judge: { kind: 'threshold', max: 0.05 } })
const ERRORS = gate('log-errors', ERROR_RATIO_QUERY)

/** evaluateGates with only this provider; also checks it returned within `withinMs`. */
async function evaluate(spec: AppSpec, options: Partial<LokiProviderOptions> = {}, timeoutMs = 5000, withinMs = 6000): Promise<GateEvaluation[]> {
  const providers = new Map([['loki', new LokiProvider({ url: loki.url, timeoutMs: 3000, ...options })]])
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
  loki = await LokiStandin.start()
  pushVersionLogs(loki, { application: 'demo', version: 'v1', from: START, to: END, lines: 400, errorRatio: 0 })
  // The canary looks perfect: any PASS below would come from bad input, not from data.
  pushVersionLogs(loki, { application: 'demo', version: 'v2', from: START, to: END, lines: 200, errorRatio: 0 })
})
afterAll(async () => {
  await loki.close()
})
beforeEach(() => {
  loki.setFault(null)
  loki.requireTenant(null)
})

describe('Loki bad input → INCONCLUSIVE with a clear reason', () => {
  const faults: [string, StandinFault, RegExp][] = [
    ['malformed JSON', { kind: 'malformed' }, /^loki failed: loki answered with malformed JSON \(.+; the body starts "\{\\"status\\":\\"success\\"/],
    ['HTTP 500', { kind: 'status', status: 500, body: 'internal error' }, /^loki failed: loki answered HTTP 500: internal error$/],
    ['HTTP 503 with an empty body', { kind: 'status', status: 503, body: '' }, /^loki failed: loki answered HTTP 503 with an empty body$/],
    ['HTTP 429', { kind: 'status', status: 429, body: 'too many outstanding requests' }, /loki answered HTTP 429: too many outstanding requests$/],
    ['HTTP 504 (Loki query timeout)', { kind: 'status', status: 504, body: 'request timed out, decrease the duration of the request' }, /loki answered HTTP 504: request timed out/],
    ['valid JSON of the wrong shape', { kind: 'wrongShape', body: { hello: 'world' } }, /^loki failed: loki's answer is not a query result \(no status\)$/],
    ['an error envelope', { kind: 'wrongShape', body: { status: 'error', errorType: 'bad_data', error: 'boom' } }, /loki answered status "error": boom/],
    [
      'a warning (partial data)',
      { kind: 'wrongShape', body: { status: 'success', warnings: ['max series reached'], data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.01'] }], stats: {} } } },
      /loki warned \(the result may be partial\): max series reached/,
    ],
    [
      'a sample value that is not a number',
      { kind: 'wrongShape', body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'lots'] }], stats: {} } } },
      /loki sent a sample value that is not a number \("lots"\)/,
    ],
    [
      'a streams result for a gate',
      { kind: 'wrongShape', body: { status: 'success', data: { resultType: 'streams', result: [], stats: {} } } },
      /the query returned a streams; a gate needs a metric query that returns one number/,
    ],
  ]
  it.each(faults)('%s', async (_name, fault, reason) => {
    loki.setFault(fault)
    const [result] = await evaluate(specWith([ERRORS]))
    expect(result!.verdict.verdict).toBe('INCONCLUSIVE')
    expect(result!.verdict.reason).toMatch(reason)
  })

  it('a timeout of the provider (its own timeoutMs) answers quickly and says so', async () => {
    loki.setFault({ kind: 'slow', ms: 4000 })
    const [result] = await evaluate(specWith([ERRORS]), { timeoutMs: 200 }, 5000, 1500)
    expect(result!.verdict).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'loki failed: loki did not answer within 200 ms' })
  })

  it('a timeout of the loop (the tick\'s signal) wins over a longer provider timeout', async () => {
    loki.setFault({ kind: 'slow', ms: 4000 })
    const [result] = await evaluate(specWith([ERRORS]), { timeoutMs: 10_000 }, 250, 1500)
    expect(result!.verdict).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'loki did not answer within 250 ms' })
  })

  it('a huge body is refused without reading it all (custom and default limits)', async () => {
    loki.setFault({ kind: 'huge', bytes: 4 * 1024 * 1024 })
    const [small] = await evaluate(specWith([ERRORS]), { maxResponseBytes: 1024 * 1024 })
    expect(small!.verdict.reason).toBe(
      "loki failed: loki's answer is larger than 1 MiB; it was not read (narrow the query or raise maxResponseBytes)",
    )
    loki.setFault({ kind: 'huge', bytes: 9 * 1024 * 1024 })
    const [byDefault] = await evaluate(specWith([ERRORS]))
    expect(byDefault!.verdict.reason).toMatch(/larger than 8 MiB/)
  })

  it('unsupported or invalid LogQL: Loki\'s 400 parse error is the reason', async () => {
    const [unsupported, invalid] = await evaluate(
      specWith([
        gate('json-errors', 'sum(count_over_time({app="demo", version="{{version}}"} | json | level="error" [{{window}}]))'),
        gate('typo', 'sum(count_over_time({app="demo", version="{{version}}"}[{{window}}])'),
      ]),
    )
    expect(unsupported!.verdict.reason).toMatch(
      /^loki failed: json-errors: loki answered HTTP 400: parse error at line 1, col 48: not supported by the Sentra Loki stand-in: pipeline stages/,
    )
    expect(invalid!.verdict.reason).toMatch(/typo: loki answered HTTP 400: parse error at line 1, col \d+: syntax error: unexpected \$end/)
  })

  it('401 from a multi-tenant Loki without the tenant', async () => {
    loki.requireTenant('shop')
    const [result] = await evaluate(specWith([ERRORS]))
    expect(result!.verdict.reason).toBe('loki failed: loki answered HTTP 401: no org id')
  })

  it('an unreachable Loki', async () => {
    const closed = await LokiStandin.start()
    const url = closed.url
    await closed.close()
    const [result] = await evaluate(specWith([ERRORS]), { url })
    expect(result!.verdict.reason).toBe(`loki failed: could not reach loki at ${url}: ECONNREFUSED`)
  })

  it('no matching lines: NoDataError, read as "no data"', async () => {
    const empty = gate('empty', 'sum(count_over_time({app="nothing", version="{{version}}"}[{{window}}]))')
    const [result] = await evaluate(specWith([empty]))
    expect(result!.verdict.reason).toBe('no data: the query returned no series (no matching log lines in the window)')
    const loki2 = new LokiProvider({ url: loki.url })
    const spec = specWith([empty])
    await expect(
      loki2.sample({ application: 'demo', canaryVersion: 'v2', baselineVersion: 'v1', start: START, end: END, canaryWeight: 10, gates: spec.gates }, AbortSignal.timeout(5000)),
    ).rejects.toBeInstanceOf(NoDataError)
  })

  it('several series, NaN (0/0) and +Inf (x/0) are no value, with the reason', async () => {
    const [several, nan, inf] = await evaluate(
      specWith([
        gate('several', 'sum by (version) (count_over_time({app="demo", version=~"{{version}}|v1"}[{{window}}]))'),
        gate('nan', '(sum(count_over_time({app="demo", version="{{version}}"} |= "nope" [{{window}}])) or vector(0)) / (sum(count_over_time({app="demo", version="{{version}}"} |= "nope" [{{window}}])) or vector(0))'),
        gate('inf', 'sum(count_over_time({app="demo", version="{{version}}"}[{{window}}])) / (sum(count_over_time({app="demo", version="{{version}}"} |= "nope" [{{window}}])) or vector(0))'),
      ]),
    )
    expect(several!.verdict.reason).toMatch(/several: the query returned 2 series; a gate query must return one \(aggregate it, e\.g\. sum\(\.\.\.\)\)/)
    expect(nan!.verdict.reason).toMatch(/nan: the value is NaN \(0\/0: no lines in the window\?\)/)
    expect(inf!.verdict.reason).toMatch(/inf: the value is \+Inf \(a division by zero/)
  })

  it('one gate failing does not hide the others: its value is null with a per-gate reason, the others are judged', async () => {
    const spec = specWith([ERRORS, gate('broken', 'sum(count_over_time({app="demo", version="{{version}}"} | json [{{window}}]))')])
    const provider = new LokiProvider({ url: loki.url })
    const sample = await provider.sample(
      { application: 'demo', canaryVersion: 'v2', baselineVersion: 'v1', start: START, end: END, canaryWeight: 10, gates: spec.gates },
      AbortSignal.timeout(5000),
    )
    expect(sample.canary.values).toEqual({ 'log-errors': 0, broken: null })
    expect(sample.canary.reasons.broken).toMatch(/^loki answered HTTP 400: parse error/)
    expect(sample.baseline.reasons.broken).toMatch(/^loki answered HTTP 400: parse error/)
    expect(sample.canary.reasons['log-errors']).toBeUndefined()
    const [errors, broken] = spec.gates
    expect(judgeFor(errors!.judge).judge([sample], errors!).verdict).toBe('PASS')
    // The judges quote the provider's reason.
    expect(judgeFor(broken!.judge).judge([sample], broken!)).toMatchObject({
      verdict: 'INCONCLUSIVE',
      reason: expect.stringMatching(/^no canary data for broken: loki answered HTTP 400: parse error at line 1, col \d+: not supported by the Sentra Loki stand-in/),
    })
  })

  it('only the canary failing (e.g. a fault on the first request) still gives an INCONCLUSIVE canary', async () => {
    loki.setFault({ kind: 'status', status: 502, body: 'bad gateway' }, { times: 1 })
    const spec = specWith([ERRORS])
    const sample = await new LokiProvider({ url: loki.url, concurrency: 1 }).sample(
      { application: 'demo', canaryVersion: 'v2', baselineVersion: 'v1', start: START, end: END, canaryWeight: 10, gates: [...spec.gates, ...specWith([gate('other', ERROR_RATIO_QUERY)]).gates] },
      AbortSignal.timeout(5000),
    )
    expect(sample.canary.values['log-errors']).toBeNull()
    expect(sample.canary.reasons).toEqual({ 'log-errors': 'loki answered HTTP 502: bad gateway' })
    expect(sample.baseline.reasons).toEqual({})
    expect(judgeFor(spec.gates[0]!.judge).judge([sample], spec.gates[0]!)).toMatchObject({
      verdict: 'INCONCLUSIVE',
      reason: 'no canary data for log-errors: loki answered HTTP 502: bad gateway',
    })
  })

  it('lokiValueOf reads scalars and refuses odd shapes', () => {
    expect(lokiValueOf({ status: 'success', data: { resultType: 'scalar', result: [1, '0.25'] } })).toEqual({ ok: true, value: 0.25 })
    expect(lokiValueOf([])).toMatchObject({ ok: false, reason: "loki's answer is not a query result (not a JSON object)" })
    expect(lokiValueOf({ status: 'success', data: { resultType: 'vector', result: [{ metric: {} }] } })).toMatchObject({ ok: false })
    expect(lokiValueOf({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 3] }] } })).toMatchObject({
      ok: false,
      reason: 'loki sent a sample value that is not a string (3)',
    })
  })
})
