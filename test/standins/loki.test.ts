/**
 * The Loki stand-in answers like Loki v3.7's HTTP query API: paths, parameters, defaults,
 * JSON shapes (always with data.stats), plain-text errors and status codes; and evaluates
 * its LogQL subset honestly. When the upstream reference data is on this machine
 * (/work/shared/upstream/loki), the shapes are also compared with it key by key.
 */
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { LokiStandin } from './loki.ts'
import { formatGoFloat, parseLogql } from './loki-logql.ts'
import { ERROR_RATIO_QUERY, pushVersionLogs } from './loki-fixtures.ts'

const END = new Date(Math.floor(Date.now() / 1000) * 1000)
const START = new Date(END.getTime() - 20_000)
const ns = (d: Date): string => (BigInt(d.getTime()) * 1_000_000n).toString()

let loki: LokiStandin

interface Answer {
  status: number
  contentType: string | null
  text: string
  json: unknown
}

async function get(path: string, params: Record<string, string> | URLSearchParams = {}, init: RequestInit = {}): Promise<Answer> {
  const search = params instanceof URLSearchParams ? params : new URLSearchParams(params)
  const res = await fetch(`${loki.url}${path}?${search}`, init)
  const text = await res.text()
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json }
}

type Obj = Record<string, unknown>
const keys = (o: unknown): string[] => Object.keys(o as Obj).sort()

/** Every key path of an object ("a.b.c"), for comparing structures. */
function keyPaths(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [prefix]
  return Object.entries(o).flatMap(([k, v]) => keyPaths(v, prefix === '' ? k : `${prefix}.${k}`))
}

function fillTemplate(template: string, version: string, window = '20s'): string {
  return template.replaceAll('{{application}}', 'demo').replaceAll('{{version}}', version).replaceAll('{{window}}', window)
}

beforeAll(async () => {
  loki = await LokiStandin.start()
})
afterAll(async () => {
  await loki.close()
})
beforeEach(() => {
  loki.clear()
  loki.setFault(null)
  loki.requireTenant(null)
  pushVersionLogs(loki, { application: 'demo', version: 'v1', from: START, to: END, lines: 400, errorRatio: 0.005 })
  pushVersionLogs(loki, { application: 'demo', version: 'v2', from: START, to: END, lines: 200, errorRatio: 0.08 })
  pushVersionLogs(loki, { application: 'other', version: 'v1', from: START, to: END, lines: 10, errorRatio: 0 })
})

describe('Loki stand-in: instant queries (/loki/api/v1/query)', () => {
  it('answers a vector with Loki envelope, content type and the full stats object', async () => {
    const a = await get('/loki/api/v1/query', { query: 'sum by (version) (count_over_time({app="demo"}[20s]))', time: ns(END) })
    expect(a.status).toBe(200)
    expect(a.contentType).toBe('application/json; charset=UTF-8')
    const body = a.json as Obj
    expect(keys(body)).toEqual(['data', 'status'])
    expect(body.status).toBe('success')
    const data = body.data as Obj
    expect(keys(data)).toEqual(['result', 'resultType', 'stats'])
    expect(data.resultType).toBe('vector')
    const result = data.result as { metric: Obj; value: [number, string] }[]
    expect(result.map((r) => keys(r))).toEqual([['metric', 'value'], ['metric', 'value']])
    for (const r of result) {
      expect(typeof r.value[0]).toBe('number')
      expect(typeof r.value[1]).toBe('string')
      expect(r.value[0]).toBe(END.getTime() / 1000)
    }
    const byVersion = Object.fromEntries(result.map((r) => [r.metric.version, Number(r.value[1])]))
    expect(byVersion).toEqual({ v1: 400, v2: 200 })
    const stats = data.stats as Obj
    expect(keys(stats)).toEqual(['cache', 'index', 'ingester', 'querier', 'summary'])
    expect(keys(stats.summary)).toEqual([
      'bytesProcessedPerSecond', 'execTime', 'linesProcessedPerSecond', 'queueTime', 'shards', 'splits', 'subqueries',
      'totalBytesProcessed', 'totalEntriesReturned', 'totalLinesProcessed', 'totalPostFilterLines', 'totalStructuredMetadataBytesProcessed',
    ])
    expect(keys(stats.cache)).toEqual(['chunk', 'index', 'instantMetricResult', 'labelResult', 'result', 'seriesResult', 'statsResult', 'volumeResult'])
    expect((stats.summary as Obj).totalLinesProcessed).toBe(600)
  })

  it('computes an error ratio honestly: 8 % for the bad version, 0.5 % for the good one', async () => {
    for (const [version, expected] of [['v2', 0.08], ['v1', 0.005]] as const) {
      const a = await get('/loki/api/v1/query', { query: fillTemplate(ERROR_RATIO_QUERY, version), time: ns(END) })
      expect(a.status).toBe(200)
      const result = ((a.json as Obj).data as Obj).result as { metric: Obj; value: [number, string] }[]
      expect(result).toHaveLength(1)
      expect(result[0]!.metric).toEqual({})
      expect(Number(result[0]!.value[1])).toBeCloseTo(expected, 10)
    }
  })

  it('the range is (t - range, t]: a line exactly at t counts, one exactly at t - range does not', async () => {
    loki.clear()
    loki.push({ app: 'edge' }, [{ time: START, line: 'at start' }, { time: END, line: 'at end' }])
    const a = await get('/loki/api/v1/query', { query: 'sum(count_over_time({app="edge"}[20s]))', time: ns(END) })
    expect(((a.json as Obj).data as Obj).result).toEqual([{ metric: {}, value: [END.getTime() / 1000, '1'] }])
  })

  it('line filters |= != |~ !~ and label matchers = != =~ !~', async () => {
    const count = async (query: string): Promise<number> => {
      const a = await get('/loki/api/v1/query', { query: `sum(count_over_time(${query}[20s])) or vector(0)`, time: ns(END) })
      expect(a.status, a.text).toBe(200)
      const result = ((a.json as Obj).data as Obj).result as { value: [number, string] }[]
      return Number(result[0]!.value[1])
    }
    expect(await count('{app="demo", version="v2"} |= "level=error"')).toBe(16)
    expect(await count('{app="demo", version="v2"} != "level=error"')).toBe(184)
    expect(await count('{app="demo", version="v2"} |~ "(?i)LEVEL=(error|warn)"')).toBe(16)
    expect(await count('{app="demo", version="v2"} !~ "level=e.*"')).toBe(184)
    expect(await count('{app=~"dem.", version!="v1"}')).toBe(200)
    expect(await count('{app!~"demo|x", version="v1"}')).toBe(10)
    expect(await count('{app="demo"} |= "level=error" |= "seq=1"')).toBeGreaterThan(0)
    expect(await count('{app="nothing"}')).toBe(0)
  })

  it('rate is count / range seconds; a scalar expression answers resultType scalar; x/0 is +Inf as Go spells it', async () => {
    const rate = await get('/loki/api/v1/query', { query: 'sum(rate({app="demo", version="v2"}[20s]))', time: ns(END) })
    expect(Number((((rate.json as Obj).data as Obj).result as { value: [number, string] }[])[0]!.value[1])).toBe(10)
    const scalar = await get('/loki/api/v1/query', { query: '1 / 0', time: ns(END) })
    expect((scalar.json as Obj).data).toMatchObject({ resultType: 'scalar', result: [END.getTime() / 1000, '+Inf'] })
    expect(formatGoFloat(0.0000001)).toBe('0.0000001')
    expect(formatGoFloat(1e21)).toBe('1000000000000000000000')
    expect(formatGoFloat(Number.NaN)).toBe('NaN')
  })

  it('accepts POST with a form body, and times as RFC3339, float seconds and integer seconds', async () => {
    const body = new URLSearchParams({ query: 'sum(count_over_time({app="demo", version="v2"}[20s]))', time: END.toISOString() })
    const res = await fetch(`${loki.url}/loki/api/v1/query`, { method: 'POST', body })
    expect(res.status).toBe(200)
    const json = (await res.json()) as Obj
    expect(((json.data as Obj).result as { value: [number, string] }[])[0]!.value[1]).toBe('200')
    for (const time of [String(END.getTime() / 1000), String(END.getTime() / 1000).concat(END.getTime() % 1000 === 0 ? '.0' : '')]) {
      const a = await get('/loki/api/v1/query', { query: 'sum(count_over_time({app="demo", version="v2"}[20s]))', time })
      expect(a.status, a.text).toBe(200)
      expect((((a.json as Obj).data as Obj).result as { value: [number, string] }[])[0]!.value[1]).toBe('200')
    }
  })

  it('refuses a log query as an instant query (400, plain text, as Loki does)', async () => {
    const a = await get('/loki/api/v1/query', { query: '{app="demo"}' })
    expect(a.status).toBe(400)
    expect(a.contentType).toBe('text/plain; charset=utf-8')
    expect(a.text).toBe('log queries are not supported as an instant query type, please change your query to a range query type')
  })

  it('parse errors are 400 "parse error at line L, col C: ..."; unsupported LogQL says so instead of pretending', async () => {
    const cases: [string, RegExp][] = [
      ['sum(count_over_time({app="demo"}[20s]', /^parse error at line 1, col \d+: syntax error: unexpected \$end$/],
      ['foo', /^parse error at line 1, col 1: syntax error: unexpected IDENTIFIER$/],
      ['', /^parse error at line 1, col 1: syntax error: unexpected \$end$/],
      ['sum(count_over_time({app="demo"} | json [20s]))', /^parse error at line 1, col 34: not supported by the Sentra Loki stand-in: pipeline stages/],
      ['avg(count_over_time({app="demo"}[20s]))', /^parse error at line 1, col 1: not supported by the Sentra Loki stand-in: the function avg$/],
      ['bytes_over_time({app="demo"}[20s])', /not supported by the Sentra Loki stand-in: the function bytes_over_time/],
      ['count_over_time({app="demo"}[20s] offset 1m)', /not supported by the Sentra Loki stand-in: offset/],
      ['sum without (x) (count_over_time({app="demo"}[20s]))', /not supported by the Sentra Loki stand-in: without/],
      ['count_over_time({app="demo"}[20s]) > 1', /not supported by the Sentra Loki stand-in: the comparison operator >/],
      ['count_over_time({app=~".*"}[20s])', /^parse error : queries require at least one regexp or equality matcher/],
      ['count_over_time({app=~"("}[20s])', /^parse error at line 1, col 23: error parsing regexp/],
    ]
    for (const [query, message] of cases) {
      const a = await get('/loki/api/v1/query', { query })
      expect(a.status, query).toBe(400)
      expect(a.contentType).toBe('text/plain; charset=utf-8')
      expect(a.text, query).toMatch(message)
    }
    expect(() => parseLogql('sum(count_over_time({a="b"}[1m])) by (x)')).not.toThrow()
  })

  it('validates parameters with Loki\'s messages', async () => {
    const q = 'sum(count_over_time({app="demo"}[20s]))'
    expect((await get('/loki/api/v1/query', { query: q, limit: '0' })).text).toBe('limit must be a positive value')
    expect((await get('/loki/api/v1/query', { query: q, direction: 'sideways' })).text).toBe("invalid direction 'sideways'")
    const badTime = await get('/loki/api/v1/query', { query: q, time: 'yesterday' })
    expect(badTime.status).toBe(400)
    expect(badTime.text).toBe('strconv.ParseInt: parsing "yesterday": invalid syntax')
  })
})

describe('Loki stand-in: range queries (/loki/api/v1/query_range)', () => {
  it('log queries answer streams with [ns string, line] values, newest first and limited by default direction backward', async () => {
    const a = await get('/loki/api/v1/query_range', { query: '{app="demo"} |= "level=error"', start: ns(START), end: ns(new Date(END.getTime() + 1)), limit: '5' })
    expect(a.status).toBe(200)
    const data = (a.json as Obj).data as Obj
    expect(keys(data)).toEqual(['result', 'resultType', 'stats'])
    expect(data.resultType).toBe('streams')
    const streams = data.result as { stream: Obj; values: [string, string][] }[]
    for (const s of streams) expect(keys(s)).toEqual(['stream', 'values'])
    const all = streams.flatMap((s) => s.values)
    expect(all).toHaveLength(5)
    for (const [t, line] of all) {
      expect(t).toMatch(/^\d{19}$/)
      expect(line).toContain('level=error')
    }
    for (const s of streams) {
      const times = s.values.map(([t]) => BigInt(t))
      expect([...times].sort((x, y) => (x > y ? -1 : 1))).toEqual(times)
    }
    expect(((data.stats as Obj).summary as Obj).totalEntriesReturned).toBe(5)
  })

  it('direction forward answers oldest first; start is inclusive and end exclusive', async () => {
    loki.clear()
    loki.push({ app: 'edge' }, [{ time: START, line: 'first' }, { time: new Date(START.getTime() + 1000), line: 'second' }, { time: END, line: 'at end' }])
    const a = await get('/loki/api/v1/query_range', { query: '{app="edge"}', start: ns(START), end: ns(END), direction: 'forward' })
    const streams = ((a.json as Obj).data as Obj).result as { values: [string, string][] }[]
    expect(streams[0]!.values.map(([, line]) => line)).toEqual(['first', 'second'])
  })

  it('metric queries answer a matrix of [seconds, "value"] points, one per step', async () => {
    const a = await get('/loki/api/v1/query_range', {
      query: 'sum by (version) (count_over_time({app="demo"}[10s]))',
      start: ns(new Date(START.getTime() + 10_000)),
      end: ns(END),
      step: '5s',
    })
    expect(a.status, a.text).toBe(200)
    const data = (a.json as Obj).data as Obj
    expect(data.resultType).toBe('matrix')
    const series = data.result as { metric: Obj; values: [number, string][] }[]
    for (const s of series) {
      expect(keys(s)).toEqual(['metric', 'values'])
      expect(s.values).toHaveLength(3)
      expect(s.values.map(([t]) => t)).toEqual([START.getTime() / 1000 + 10, START.getTime() / 1000 + 15, END.getTime() / 1000])
    }
    expect(series.find((s) => s.metric.version === 'v2')!.values.map(([, v]) => v)).toEqual(['100', '100', '100'])
  })

  it('rejects bad ranges and steps with Loki\'s messages', async () => {
    const q = 'sum(count_over_time({app="demo"}[10s]))'
    expect((await get('/loki/api/v1/query_range', { query: q, start: ns(END), end: ns(START) })).text).toBe('end timestamp must not be before or equal to start time')
    expect((await get('/loki/api/v1/query_range', { query: q, start: ns(START), end: ns(END), step: '0' })).text).toBe(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    )
    const tooMany = await get('/loki/api/v1/query_range', { query: q, start: ns(new Date(END.getTime() - 86_400_000)), end: ns(END), step: '1s' })
    expect(tooMany.status).toBe(400)
    expect(tooMany.text).toMatch(/^exceeded maximum resolution of 11,000 points per time series/)
    expect((await get('/loki/api/v1/query_range', { query: q, step: 'soon' })).text).toBe('cannot parse "soon" to a valid duration')
  })
})

describe('Loki stand-in: labels, label values, series, push, 404', () => {
  it('labels and label values answer {status, data: [strings]}', async () => {
    const labels = await get('/loki/api/v1/labels')
    expect(labels.json).toEqual({ status: 'success', data: ['app', 'version'] })
    const values = await get('/loki/api/v1/label/version/values', { query: '{app="demo"}' })
    expect(values.json).toEqual({ status: 'success', data: ['v1', 'v2'] })
    const apps = await get('/loki/api/v1/label/app/values')
    expect(apps.json).toEqual({ status: 'success', data: ['demo', 'other'] })
  })

  it('series takes repeated match[] (GET and POST) and answers label maps', async () => {
    const params = new URLSearchParams()
    params.append('match[]', '{app="demo", version="v2"}')
    params.append('match[]', '{app="other"}')
    const a = await get('/loki/api/v1/series', params)
    expect(a.json).toEqual({ status: 'success', data: [{ app: 'demo', version: 'v2' }, { app: 'other', version: 'v1' }] })
    const post = await fetch(`${loki.url}/loki/api/v1/series`, { method: 'POST', body: params })
    expect(await post.json()).toEqual(a.json)
    expect((await get('/loki/api/v1/series')).status).toBe(400)
  })

  it('accepts pushes in Loki\'s JSON push format', async () => {
    const res = await fetch(`${loki.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { app: 'pushed' }, values: [[ns(END), 'hello']] }] }),
    })
    expect(res.status).toBe(204)
    const a = await get('/loki/api/v1/query', { query: 'count_over_time({app="pushed"}[5s])', time: ns(END) })
    expect(((a.json as Obj).data as Obj).result).toEqual([{ metric: { app: 'pushed' }, value: [END.getTime() / 1000, '1'] }])
  })

  it('unknown paths are Go\'s 404; /ready answers ready', async () => {
    const missing = await get('/loki/api/v1/nope')
    expect(missing.status).toBe(404)
    expect(missing.text).toBe('404 page not found\n')
    const ready = await get('/ready')
    expect(ready.status).toBe(200)
    expect(ready.text.trim()).toBe('ready')
  })

  it('multi-tenant: without the X-Scope-OrgID it answers 401 "no org id"', async () => {
    loki.requireTenant('team-a')
    const refused = await get('/loki/api/v1/labels')
    expect(refused.status).toBe(401)
    expect(refused.text).toBe('no org id\n')
    const allowed = await get('/loki/api/v1/labels', {}, { headers: { 'X-Scope-OrgID': 'team-a' } })
    expect(allowed.status).toBe(200)
  })
})

describe('Loki stand-in: faults for bad-input tests', () => {
  it('status, malformed, wrong shape, slow and huge; for `times` requests only', async () => {
    const q = { query: 'sum(count_over_time({app="demo"}[20s]))', time: ns(END) }
    loki.setFault({ kind: 'status', status: 503, body: 'too busy' }, { times: 1 })
    expect(await get('/loki/api/v1/query', q)).toMatchObject({ status: 503, text: 'too busy' })
    expect((await get('/loki/api/v1/query', q)).status).toBe(200)

    loki.setFault({ kind: 'malformed' })
    const malformed = await get('/loki/api/v1/query', q)
    expect(malformed.status).toBe(200)
    expect(malformed.json).toBeNull()

    loki.setFault({ kind: 'wrongShape' })
    expect((await get('/loki/api/v1/query', q)).json).toEqual({ status: 'success' })

    loki.setFault({ kind: 'slow', ms: 300 })
    const t0 = performance.now()
    expect((await get('/loki/api/v1/query', q)).status).toBe(200)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280)

    loki.setFault({ kind: 'huge', bytes: 3 * 1024 * 1024 })
    const huge = await get('/loki/api/v1/query', q)
    expect(huge.text.length).toBeGreaterThan(3 * 1024 * 1024)
    expect(huge.json).not.toBeNull()

    // Health stays out of faults.
    loki.setFault({ kind: 'status', status: 500 })
    expect((await get('/ready')).status).toBe(200)
  })
})

const UPSTREAM = '/work/shared/upstream/loki'
describe.skipIf(!existsSync(UPSTREAM))('Loki stand-in vs the upstream reference data in /work/shared (when present)', () => {
  const read = (name: string): Obj => JSON.parse(readFileSync(`${UPSTREAM}/${name}`, 'utf8')) as Obj

  it('stats has exactly the key structure of Loki v3.7\'s empty stats', async () => {
    const a = await get('/loki/api/v1/query', { query: 'sum(count_over_time({app="demo"}[20s]))', time: ns(END) })
    const ours = ((a.json as Obj).data as Obj).stats
    expect(keyPaths(ours).sort()).toEqual(keyPaths(read('stats-empty.json')).sort())
  })

  it('vector, matrix and streams items have the documented key sets and value types', async () => {
    const shapeOf = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(shapeOf).slice(0, 1) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, k === 'metric' || k === 'stream' ? 'labels' : shapeOf((v as Obj)[k])])) : typeof v
    const cases: [string, Record<string, string>, string][] = [
      ['/loki/api/v1/query', { query: 'sum by (version) (count_over_time({app="demo"}[20s]))', time: ns(END) }, 'marshal-test.query-vector.json'],
      ['/loki/api/v1/query_range', { query: 'sum by (version) (count_over_time({app="demo"}[20s]))', start: ns(START), end: ns(END), step: '10s' }, 'marshal-test.query_range-matrix.json'],
      ['/loki/api/v1/query_range', { query: '{app="demo"}', start: ns(START), end: ns(END), limit: '3' }, 'marshal-test.query_range-streams.json'],
    ]
    for (const [path, params, file] of cases) {
      const ours = ((await get(path, params)).json as Obj).data as Obj
      const theirs = read(file).data as Obj
      expect(ours.resultType).toBe(theirs.resultType)
      expect(shapeOf((ours.result as unknown[])[0])).toEqual(shapeOf((theirs.result as unknown[])[0]))
      expect(keys(ours)).toEqual(keys(theirs))
    }
  })

  it('labels, label values and series answer the documented envelope', async () => {
    for (const [path, file] of [['/loki/api/v1/labels', 'labels.example.json'], ['/loki/api/v1/label/app/values', 'label-values.example.json']] as const) {
      const ours = (await get(path)).json as Obj
      const theirs = read(file)
      expect(keys(ours)).toEqual(keys(theirs))
      expect((ours.data as unknown[]).every((v) => typeof v === 'string')).toBe(true)
    }
    const series = (await get('/loki/api/v1/series', { 'match[]': '{app="demo"}' })).json as Obj
    expect(keys(series)).toEqual(keys(read('series.example.json')))
  })

  it('error texts and codes match the compiled list', async () => {
    const cases = (read('errors.examples.json').cases as { body?: string; status: number }[]).filter((c) => c.body !== undefined)
    const byBody = new Map(cases.map((c) => [c.body, c.status]))
    const instantLog = await get('/loki/api/v1/query', { query: '{app="demo"}' })
    expect(byBody.get(instantLog.text)).toBe(instantLog.status)
    const limit = await get('/loki/api/v1/query', { query: 'vector(1)', limit: '-1' })
    expect(byBody.get(limit.text)).toBe(limit.status)
    const direction = await get('/loki/api/v1/query', { query: 'vector(1)', direction: 'sideways' })
    expect(byBody.get(direction.text)).toBe(direction.status)
    const range = await get('/loki/api/v1/query_range', { query: 'vector(1)', start: ns(END), end: ns(START) })
    expect(byBody.get(range.text)).toBe(range.status)
    loki.requireTenant('x')
    const tenant = await get('/loki/api/v1/labels')
    expect(byBody.get(tenant.text)).toBe(tenant.status)
  })
})
