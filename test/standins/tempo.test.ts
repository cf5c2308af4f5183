/**
 * The Tempo stand-in answers like Tempo v2.10's query API: paths, parameters, jsonpb shapes
 * (64-bit numbers as strings, zero values omitted, base64 ids in traces), plain-text errors
 * and status codes; and evaluates its TraceQL subset honestly. When the upstream reference
 * data is on this machine (/work/shared/upstream/tempo), shapes are compared with it too.
 */
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TempoStandin } from './tempo.ts'
import { type PushedTraces, pushVersionTraces } from './tempo-fixtures.ts'

const END = new Date(Math.floor(Date.now() / 1000) * 1000)
const START = new Date(END.getTime() - 20_000)
const sec = (d: Date): string => String(Math.floor(d.getTime() / 1000))
const RANGE = { start: sec(START), end: String(Number(sec(END)) + 1) }

let tempo: TempoStandin
let v1: PushedTraces
let v2: PushedTraces

type Obj = Record<string, unknown>
const keys = (o: unknown): string[] => Object.keys(o as Obj).sort()

interface Answer {
  status: number
  contentType: string | null
  text: string
  json: unknown
}

async function get(path: string, params: Record<string, string> = {}, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${tempo.url}${path}?${new URLSearchParams(params)}`, init)
  const text = await res.text()
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json }
}

async function search(q: string, extra: Record<string, string> = {}): Promise<Obj[]> {
  const a = await get('/api/search', { q, ...RANGE, limit: '1000', ...extra })
  expect(a.status, a.text).toBe(200)
  return ((a.json as Obj).traces ?? []) as Obj[]
}

const app = (version: string, extra = ''): string =>
  `{ resource.service.name = "demo" && resource.service.version = "${version}"${extra === '' ? '' : ` && ${extra}`} }`

beforeAll(async () => {
  tempo = await TempoStandin.start({ maxBytesPerTrace: 4000 })
})
afterAll(async () => {
  await tempo.close()
})
beforeEach(() => {
  tempo.clear()
  tempo.setFault(null)
  tempo.requireTenant(null)
  v1 = pushVersionTraces(tempo, { application: 'demo', version: 'v1', from: START, to: END, traces: 200, errorRatio: 0.01, durationMs: (i) => 40 + (i % 10) })
  v2 = pushVersionTraces(tempo, { application: 'demo', version: 'v2', from: START, to: END, traces: 100, errorRatio: 0.08, durationMs: (i, e) => (e ? 400 : 190 + (i % 10)) })
})

describe('Tempo stand-in: /api/search with TraceQL', () => {
  it('answers Tempo\'s search shape: traces newest first, jsonpb strings for 64-bit numbers, spanSet(s), serviceStats, metrics', async () => {
    const a = await get('/api/search', { q: app('v2', 'status = error'), ...RANGE, limit: '20' })
    expect(a.status).toBe(200)
    expect(a.contentType).toBe('application/json')
    const body = a.json as Obj
    expect(keys(body)).toEqual(['metrics', 'traces'])
    const traces = body.traces as Obj[]
    expect(traces).toHaveLength(8)
    for (const t of traces) {
      expect(keys(t)).toEqual(['durationMs', 'rootServiceName', 'rootTraceName', 'serviceStats', 'spanSet', 'spanSets', 'startTimeUnixNano', 'traceID'])
      expect(t.traceID).toMatch(/^[0-9a-f]{1,32}$/)
      expect(t.traceID).not.toMatch(/^0/)
      expect(t.startTimeUnixNano).toMatch(/^\d+$/)
      expect(typeof t.durationMs).toBe('number')
      expect(t.rootServiceName).toBe('demo')
      expect(t.rootTraceName).toBe('GET /checkout')
      expect(t.spanSets).toEqual([t.spanSet])
      const set = t.spanSet as { spans: Obj[]; matched: number }
      expect(set.matched).toBe(1)
      const span = set.spans[0]!
      expect(keys(span)).toEqual(['attributes', 'durationNanos', 'name', 'spanID', 'startTimeUnixNano'])
      expect(span.spanID).toMatch(/^[0-9a-f]{16}$/)
      expect(span.durationNanos).toBe('400000000')
      // The attributes the query looked at, unscoped keys, status as a string value.
      expect(span.attributes).toEqual([
        { key: 'service.name', value: { stringValue: 'demo' } },
        { key: 'service.version', value: { stringValue: 'v2' } },
        { key: 'status', value: { stringValue: 'error' } },
      ])
      expect(t.serviceStats).toEqual({ demo: { spanCount: 2, errorCount: 1 } })
    }
    const starts = traces.map((t) => BigInt(t.startTimeUnixNano as string))
    expect([...starts].sort((x, y) => (x > y ? -1 : 1))).toEqual(starts)
    const metrics = body.metrics as Obj
    expect(metrics.inspectedTraces).toBe(300)
    expect(typeof metrics.inspectedBytes).toBe('string')
    expect(new Set(traces.map((t) => (t.traceID as string).padStart(32, '0')))).toEqual(new Set(v2.errorIds))
  })

  it('evaluates its TraceQL subset honestly', async () => {
    expect(await search(app('v2'))).toHaveLength(100)
    expect(await search(app('v1', 'status = error'))).toHaveLength(2)
    expect(await search(app('v2', 'status != error'))).toHaveLength(100) // the child spans are not errors
    expect(await search(app('v2', 'duration > 300ms'))).toHaveLength(8)
    expect(await search(app('v2', 'duration >= 190ms && duration < 195ms'))).toHaveLength(46) // 50 minus 4 error traces (400 ms)
    expect(await search('{ span.http.status_code >= 500 }')).toHaveLength(10)
    expect(await search('{ .http.status_code = 500 && resource.service.version = "v1" }')).toHaveLength(2)
    expect(await search('{ name = "SELECT orders" && kind = client }')).toHaveLength(300)
    expect(await search('{ name =~ "GET .*" && resource.service.version =~ "v[12]" }')).toHaveLength(300)
    expect(await search('{ resource.service.version !~ "v1" }')).toHaveLength(100)
    expect(await search('{ span.http.method != "POST" }')).toHaveLength(300) // only spans that have it
    expect(await search('{ span.missing != "x" }')).toHaveLength(0)
    expect(await search('{ span.http.status_code = "500" }')).toHaveLength(0) // types must agree
    expect(await search('{}')).toHaveLength(300)
    expect(await search('{ true }')).toHaveLength(300)
  })

  it('limit caps the results; spss caps spans per span set while matched counts them all', async () => {
    expect(await search(app('v2'), { limit: '7' })).toHaveLength(7)
    const [t] = await search('{ resource.service.version = "v2" }', { limit: '1', spss: '1' })
    const set = t!.spanSet as { spans: unknown[]; matched: number }
    expect(set.spans).toHaveLength(1)
    expect(set.matched).toBe(2)
  })

  it('start/end select traces overlapping the range (Unix seconds)', async () => {
    const early = await search('{}', { start: sec(START), end: String(Number(sec(START)) + 2) })
    expect(early.length).toBeGreaterThan(0)
    expect(early.length).toBeLessThan(300)
    expect(await search('{}', { start: String(Number(sec(END)) + 100), end: String(Number(sec(END)) + 200) })).toHaveLength(0)
  })

  it('an empty result omits `traces`, as jsonpb omits empty lists', async () => {
    const a = await get('/api/search', { q: '{ name = "nope" }', ...RANGE })
    expect(a.status).toBe(200)
    expect(keys(a.json)).toEqual(['metrics'])
  })

  it('tags search (logfmt, minDuration) works as Tempo turns it into TraceQL', async () => {
    const a = await get('/api/search', { tags: 'service.version=v2 http.status_code=500', minDuration: '300ms', ...RANGE, limit: '100' })
    expect(a.status, a.text).toBe(200)
    // http.status_code is an int; logfmt values are strings, so this finds nothing, as in Tempo.
    expect((a.json as Obj).traces).toBeUndefined()
    const b = await get('/api/search', { tags: 'service.version=v2 name="GET /checkout"', minDuration: '300ms', ...RANGE, limit: '100' })
    expect(((b.json as Obj).traces as unknown[]).length).toBe(8)
  })

  it('bad requests: 400 plain text with Tempo\'s messages; unsupported TraceQL says so', async () => {
    const cases: [Record<string, string>, string | RegExp][] = [
      [{ q: '{ foo' }, 'invalid TraceQL query: parse error at line 1, col 3: syntax error: unexpected IDENTIFIER'],
      [{ q: '{ status = error } | count() > 2' }, /^invalid TraceQL query: parse error at line 1, col 20: not supported by the Sentra Tempo stand-in: pipelines/],
      [{ q: '{ status = error || duration > 1s }' }, /not supported by the Sentra Tempo stand-in: \|\| inside a spanset/],
      [{ q: '{ status = error } >> { name = "x" }' }, /not supported by the Sentra Tempo stand-in: operations between spansets/],
      [{ q: '{ span:status = error }' }, /not supported by the Sentra Tempo stand-in: scoped intrinsics \(span:status\)/],
      [{ q: '{ status = 5 }' }, /^invalid TraceQL query: parse error at line 1, col 3: invalid status comparison/],
      [{ q: '{}', tags: 'a=b' }, "invalid request: can't specify tags and q in the same query"],
      [{ q: '{}', limit: '0' }, 'invalid limit: must be a positive number'],
      [{ q: '{}', limit: 'many' }, 'invalid limit: strconv.Atoi: parsing "many": invalid syntax'],
      [{ q: '{}', start: '20', end: '10' }, 'http parameter start must be before end. received start=20 end=10'],
      [{ q: '{}', start: 'today' }, /^invalid start: /],
      [{ q: '{}', spss: '-1' }, 'invalid spss: must be a positive number'],
    ]
    for (const [params, message] of cases) {
      const a = await get('/api/search', params)
      expect(a.status, JSON.stringify(params)).toBe(400)
      expect(a.contentType).toBeNull()
      if (typeof message === 'string') expect(a.text).toBe(message)
      else expect(a.text).toMatch(message)
    }
  })
})

describe('Tempo stand-in: traces by ID', () => {
  it('v1 answers {batches: [ResourceSpans]} with base64 ids, enum names and string nanos', async () => {
    const id = v2.errorIds[0]!
    const a = await get(`/api/traces/${id}`)
    expect(a.status).toBe(200)
    const body = a.json as { batches: { resource: Obj; scopeSpans: { scope: Obj; spans: Obj[] }[] }[] }
    expect(keys(body)).toEqual(['batches'])
    expect(body.batches).toHaveLength(1)
    const batch = body.batches[0]!
    expect(keys(batch)).toEqual(['resource', 'scopeSpans'])
    expect(batch.resource).toEqual({ attributes: [{ key: 'service.name', value: { stringValue: 'demo' } }, { key: 'service.version', value: { stringValue: 'v2' } }] })
    expect(batch.scopeSpans[0]!.scope).toEqual({})
    const [root, child] = batch.scopeSpans[0]!.spans
    expect(keys(root)).toEqual(['attributes', 'endTimeUnixNano', 'kind', 'name', 'spanId', 'startTimeUnixNano', 'status', 'traceId'])
    expect(Buffer.from(root!.traceId as string, 'base64').toString('hex')).toBe(id)
    expect(root!.spanId).toMatch(/^[A-Za-z0-9+/]{11}=$/)
    expect(root!.kind).toBe('SPAN_KIND_SERVER')
    expect(root!.status).toEqual({ message: 'upstream failed', code: 'STATUS_CODE_ERROR' })
    expect(BigInt(root!.endTimeUnixNano as string) - BigInt(root!.startTimeUnixNano as string)).toBe(400_000_000n)
    expect(root!.attributes).toContainEqual({ key: 'http.status_code', value: { intValue: '500' } })
    expect(child!.parentSpanId).toBe(root!.spanId)
    expect(child!.status).toEqual({})
    expect(child!.kind).toBe('SPAN_KIND_CLIENT')
  })

  it('v2 wraps it as {trace: {resourceSpans}, metrics}; ids are left-padded; unknown is an empty 404', async () => {
    const id = v1.ids[0]!
    const a = await get(`/api/v2/traces/${id.replace(/^0+/, '')}`)
    expect(a.status).toBe(200)
    expect(keys(a.json)).toEqual(['metrics', 'trace'])
    expect(keys((a.json as Obj).trace)).toEqual(['resourceSpans'])
    const missing = await get(`/api/traces/${'f'.repeat(32)}`)
    expect(missing.status).toBe(404)
    expect(missing.text).toBe('')
  })

  it('bad IDs are 400; a trace over the size limit is 422 on v1 and PARTIAL on v2', async () => {
    expect((await get('/api/traces/12x4')).text).toBe("trace IDs can only contain hex characters: invalid character 'x' at position 3")
    expect((await get(`/api/traces/${'1'.repeat(33)}`)).text).toBe("trace IDs can't be larger than 128 bits")
    const big = tempo.push({
      resource: { 'service.name': 'big' },
      spans: Array.from({ length: 40 }, (_, i) => ({ name: `span-${i}`, start: START, durationMs: 1, attributes: { payload: 'x'.repeat(100) }, resource: { 'service.name': `svc-${i}` } })),
    })
    const v1Big = await get(`/api/traces/${big}`)
    expect(v1Big.status).toBe(422)
    expect(v1Big.text).toMatch(/^trace exceeds max size/)
    const v2Big = await get(`/api/v2/traces/${big}`)
    expect(v2Big.status).toBe(200)
    expect(v2Big.json).toMatchObject({ status: 'PARTIAL', message: expect.stringMatching(/^Trace exceeds maximum size of 4000 bytes/) })
  })
})

describe('Tempo stand-in: tags, tag values, echo, ready, tenant, 404', () => {
  it('tags v1 and v2', async () => {
    const v1Tags = (await get('/api/search/tags')).json as Obj
    expect(keys(v1Tags)).toEqual(['metrics', 'tagNames'])
    expect(v1Tags.tagNames).toEqual(['db.system', 'http.method', 'http.status_code', 'service.name', 'service.version'])
    expect(typeof (v1Tags.metrics as Obj).inspectedBytes).toBe('string')
    const v2Tags = (await get('/api/v2/search/tags')).json as { scopes: { name: string; tags: string[] }[] }
    expect(v2Tags.scopes.map((s) => s.name)).toEqual(['resource', 'span', 'intrinsic'])
    expect(v2Tags.scopes[0]!.tags).toEqual(['service.name', 'service.version'])
    const onlyResource = (await get('/api/v2/search/tags', { scope: 'resource' })).json as { scopes: { name: string }[] }
    expect(onlyResource.scopes.map((s) => s.name)).toEqual(['resource'])
    expect((await get('/api/v2/search/tags', { scope: 'galaxy' })).status).toBe(400)
  })

  it('tag values v1 (strings) and v2 (typed, scoped names, q filter)', async () => {
    expect(((await get('/api/search/tag/service.version/values')).json as Obj).tagValues).toEqual(['v1', 'v2'])
    const typed = (await get('/api/v2/search/tag/span.http.status_code/values')).json as { tagValues: { type: string; value: string }[] }
    expect(typed.tagValues.sort((a, b) => a.value.localeCompare(b.value))).toEqual([{ type: 'int', value: '200' }, { type: 'int', value: '500' }])
    const status = (await get('/api/v2/search/tag/status/values', { q: '{ resource.service.version = "v2" }' })).json as { tagValues: { type: string; value: string }[] }
    expect(status.tagValues).toEqual(expect.arrayContaining([{ type: 'keyword', value: 'error' }, { type: 'keyword', value: 'unset' }]))
    expect((await get('/api/v2/search/tag/notscoped/values')).status).toBe(400)
  })

  it('/api/echo and /ready; unknown paths 404; multi-tenant needs X-Scope-OrgID', async () => {
    expect(await get('/api/echo')).toMatchObject({ status: 200, text: 'echo' })
    expect(await get('/ready')).toMatchObject({ status: 200, text: 'ready' })
    expect((await get('/api/nope')).status).toBe(404)
    tempo.requireTenant('team-a')
    expect(await get('/api/search', { q: '{}' })).toMatchObject({ status: 401, text: 'no org id\n' })
    expect((await get('/api/search', { q: '{}' }, { headers: { 'X-Scope-OrgID': 'team-a' } })).status).toBe(200)
    expect((await get('/api/echo')).status).toBe(200)
  })

  it('faults: status, malformed, slow', async () => {
    tempo.setFault({ kind: 'status', status: 500 }, { times: 1 })
    expect(await get('/api/search', { q: '{}' })).toMatchObject({ status: 500, text: 'internal error' })
    expect((await get('/api/search', { q: '{}' })).status).toBe(200)
    tempo.setFault({ kind: 'malformed' }, { paths: ['/api/traces/'] })
    expect((await get('/api/search', { q: '{}' })).status).toBe(200)
    expect((await get(`/api/traces/${v1.ids[0]}`)).json).toBeNull()
  })
})

const UPSTREAM = '/work/shared/upstream/tempo'
describe.skipIf(!existsSync(UPSTREAM))('Tempo stand-in vs the upstream reference data in /work/shared (when present)', () => {
  const read = (name: string): Obj => JSON.parse(readFileSync(`${UPSTREAM}/${name}`, 'utf8')) as Obj

  it('search traces carry the documented keys (plus spanSet and serviceStats, which the real server adds) with the same types', async () => {
    const theirs = (read('search-traceql.example.json').traces as Obj[])[0]!
    const ours = (await search(app('v2', 'status = error')))[0]!
    for (const key of Object.keys(theirs)) {
      expect(ours, key).toHaveProperty(key)
      expect(typeof ours[key], key).toBe(typeof theirs[key])
    }
    const theirSpan = ((theirs.spanSets as Obj[])[0]!.spans as Obj[])[0]!
    const ourSpan = ((ours.spanSets as Obj[])[0]!.spans as Obj[])[0]!
    for (const key of Object.keys(theirSpan)) expect(typeof ourSpan[key], key).toBe(typeof theirSpan[key])
    expect(keys(read('search-traceql.example.json'))).toEqual(keys((await get('/api/search', { q: '{}', ...RANGE })).json))
  })

  it('trace by ID v1 has the documented batch, scope and span keys', async () => {
    const theirs = (read('trace-by-id.v1.json').batches as Obj[])[0]!
    const ours = ((await get(`/api/traces/${v2.errorIds[0]}`)).json as { batches: Obj[] }).batches[0]!
    expect(keys(ours)).toEqual(keys(theirs))
    const theirSpans = (theirs.scopeSpans as Obj[])[0]!.spans as Obj[]
    const ourSpan = ((ours.scopeSpans as Obj[])[0]!.spans as Obj[])[1]!
    const theirChild = theirSpans.find((s) => s.parentSpanId !== undefined)!
    for (const key of ['traceId', 'spanId', 'parentSpanId', 'name', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'status']) {
      expect(typeof ourSpan[key], key).toBe(typeof theirChild[key])
    }
  })

  it('tags, tag values and error texts match the documented shapes', async () => {
    expect(keys((await get('/api/search/tags')).json)).toEqual(keys(read('search-tags.example.json')))
    expect(keys((await get('/api/v2/search/tags')).json)).toEqual(keys(read('search-tags-v2.example.json')))
    expect(keys((await get('/api/search/tag/service.name/values')).json)).toEqual(keys(read('search-tag-values.example.json')))
    expect(keys((await get('/api/v2/search/tag/resource.service.name/values')).json)).toEqual(keys(read('search-tag-values-v2.example.json')))
    const cases = (read('errors.examples.json').cases as { body?: string; status: number }[]).filter((c) => c.body !== undefined && !c.body.includes('<'))
    const byBody = new Map(cases.map((c) => [c.body, c.status]))
    for (const a of [
      await get('/api/search', { q: '{}', tags: 'a=b' }),
      await get('/api/search', { q: '{}', limit: '0' }),
      await get(`/api/traces/${'1'.repeat(33)}`),
      await get(`/api/traces/${'f'.repeat(32)}`),
    ]) {
      expect(byBody.get(a.text), a.text).toBe(a.status)
    }
  })
})
