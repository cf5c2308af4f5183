/**
 * Bad OTLP input (issue 4, item 6): each is answered with the OTLP status and a clear
 * message, nothing crashes or blocks the loop, and a refused request changes nothing.
 */
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WireReader } from '../../controller/telemetry/otlp-wire.ts'
import { DIALECTS } from '../support/databases.ts'
import { keyValue, nestedAnyValue, span, SPAN_ID, stringValue, TRACE_ID, tracesRequest, withUnknownFields } from './payloads.ts'
import { startOtlpServer, type OtlpTestServer } from './support.ts'

const SHOP = { 'service.name': 'shop', 'service.version': 'v1' }
const MAX_BYTES = 64 * 1024

interface Answer {
  status: number
  headers: Headers
  body: Buffer
}

/** google.rpc.Status { code = 1; message = 2 } decoded from a protobuf error body. */
function rpcStatus(body: Buffer): { code: number; message: string } {
  const r = new WireReader(body)
  let code = 0
  let message = ''
  while (!r.done) {
    const h = r.next()
    if (h.field === 1) code = r.varint()
    else if (h.field === 2) message = r.string()
    else r.skip(h.wireType)
  }
  return { code, message }
}

/** Export*ServiceResponse.partial_success decoded from a protobuf body. */
function partialSuccess(body: Buffer): { rejected: number; message: string } | null {
  const r = new WireReader(body)
  while (!r.done) {
    const h = r.next()
    if (h.field !== 1) {
      r.skip(h.wireType)
      continue
    }
    const p = r.message()
    let rejected = 0
    let message = ''
    while (!p.done) {
      const ph = p.next()
      if (ph.field === 1) rejected = p.varint()
      else if (ph.field === 2) message = p.string()
      else p.skip(ph.wireType)
    }
    return { rejected, message }
  }
  return null
}

describe.each(DIALECTS)('OTLP receiver bad input, on %s', (dialect) => {
  let t: OtlpTestServer

  beforeAll(async () => {
    t = await startOtlpServer(dialect, { limits: { maxBytes: MAX_BYTES, maxInflightBytes: 4 * MAX_BYTES }, applicationTtlMs: 0 })
  })
  afterAll(async () => {
    await t?.close()
  })

  async function post(path: string, body: Uint8Array | string, headers: Record<string, string> = {}, token: string | null = t.tokens.operate): Promise<Answer> {
    const response = await fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: typeof body === 'string' ? body : Buffer.from(body),
    })
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) }
  }

  async function nothingStored(): Promise<void> {
    await t.server.otlp!.settle()
    const window = await t.store.otlp.window('shop', ['v1', 'v2', ''], 0, Date.now() + 3_600_000)
    expect(window.size).toBe(0)
  }

  it('answers malformed protobuf with 400 and a google.rpc.Status naming the problem', async () => {
    const valid = tracesRequest([{ resource: SHOP, spans: [span()] }])
    const truncated = await post('/v1/traces', valid.subarray(0, valid.length - 5))
    expect(truncated.status).toBe(400)
    expect(truncated.headers.get('content-type')).toBe('application/x-protobuf')
    expect(rpcStatus(truncated.body)).toMatchObject({ code: 3, message: expect.stringMatching(/^invalid protobuf: resource_spans\[0\].*(past the end|truncated)/) })
    // A known field with the wrong wire type (resource_spans as a varint).
    const wrongType = await post('/v1/traces', Buffer.from([0x08, 0x01]))
    expect(rpcStatus(wrongType.body).message).toMatch(/resource_spans has wire type 0, expected 2/)
    // Garbage bytes.
    expect((await post('/v1/logs', Buffer.from('definitely not protobuf'))).status).toBe(400)
    await nothingStored()
  })

  it('skips unknown fields of every wire type', async () => {
    const request = tracesRequest([{ resource: SHOP, spans: [withUnknownFields(span({ traceId: Buffer.from('aa'.repeat(16), 'hex') }))] }])
    const answer = await post('/v1/traces', request)
    expect(answer.status).toBe(200)
    expect(partialSuccess(answer.body)).toBeNull()
    await t.server.otlp!.settle()
    expect((await t.store.otlp.window('shop', ['v1'], 0, Date.now() + 60_000)).get('v1')?.spans).toBe(1)
    await t.store.otlp.prune(Date.now() + 3_600_000)
  })

  it('answers malformed JSON and values of the wrong type with 400 and the JSON path', async () => {
    const json = { 'content-type': 'application/json' }
    const broken = await post('/v1/traces', '{"resourceSpans": [', json)
    expect(broken.status).toBe(400)
    expect(JSON.parse(broken.body.toString())).toMatchObject({ code: 3, message: expect.stringMatching(/^invalid JSON/) })
    const wrong = await post('/v1/traces', JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), name: 5 }] }] }] }), json)
    expect(wrong.status).toBe(400)
    expect(JSON.parse(wrong.body.toString()).message).toBe('invalid OTLP JSON at resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, got number')
    const time = await post('/v1/logs', JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: 'yesterday' }] }] }] }), json)
    expect(JSON.parse(time.body.toString()).message).toMatch(/logRecords\[0\]\.timeUnixNano: expected an integer/)
    expect((await post('/v1/traces', '[]', json)).status).toBe(400)
    await nothingStored()
  })

  it('refuses other content types (415), other encodings (415), GET (405), and bad gzip (400)', async () => {
    const body = tracesRequest([{ resource: SHOP, spans: [span()] }])
    const text = await post('/v1/traces', body, { 'content-type': 'text/plain' })
    expect(text.status).toBe(415)
    expect(JSON.parse(text.body.toString()).message).toMatch(/use application\/x-protobuf or application\/json/)
    expect((await post('/v1/traces', body, { 'content-encoding': 'br' })).status).toBe(415)
    const badGzip = await post('/v1/traces', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' })
    expect(badGzip.status).toBe(400)
    expect(rpcStatus(badGzip.body).message).toMatch(/invalid gzip body/)
    const get = await fetch(`${t.url}/v1/traces`, { headers: { authorization: `Bearer ${t.tokens.operate}` } })
    expect(get.status).toBe(405)
    await nothingStored()
  })

  it('refuses an oversized body (413), compressed or once decompressed (a gzip bomb)', async () => {
    const big = tracesRequest([{ resource: SHOP, spans: [span({ attributes: [keyValue('blob', stringValue('x'.repeat(MAX_BYTES)))] })] }])
    const over = await post('/v1/traces', big)
    expect(over.status).toBe(413)
    expect(rpcStatus(over.body)).toMatchObject({ code: 8, message: expect.stringMatching(/over the 65536-byte limit \(SENTRA_OTLP_MAX_BYTES\)/) })
    const bomb = gzipSync(Buffer.alloc(50 * MAX_BYTES))
    expect(bomb.length).toBeLessThan(MAX_BYTES)
    const inflated = await post('/v1/traces', bomb, { 'content-encoding': 'gzip' })
    expect(inflated.status).toBe(413)
    expect(rpcStatus(inflated.body).message).toMatch(/once decompressed/)
    await nothingStored()
  })

  it('rejects items without service.name / service.version or of unknown applications as a partial success, keeping the rest', async () => {
    const request = tracesRequest([
      { resource: { 'service.version': 'v1' }, spans: [span(), span()] },
      { resource: { 'service.name': 'shop' }, spans: [span()] },
      { resource: { 'service.name': 'nobody', 'service.version': 'v1' }, spans: [span()] },
      { resource: SHOP, spans: [span({ traceId: Buffer.from('cc'.repeat(16), 'hex') })] },
    ])
    const answer = await post('/v1/traces', request)
    expect(answer.status).toBe(200)
    const partial = partialSuccess(answer.body)
    expect(partial?.rejected).toBe(4)
    expect(partial?.message).toMatch(/^4 spans rejected: a resource has no service.name attribute/)
    expect(partial?.message).toMatch(/has no service.version attribute/)
    expect(partial?.message).toMatch(/"nobody" is not an application Sentra knows/)
    await t.server.otlp!.settle()
    expect((await t.store.otlp.window('shop', ['v1'], 0, Date.now() + 60_000)).get('v1')?.spans).toBe(1)
    await t.store.otlp.prune(Date.now() + 3_600_000)

    const json = await post('/v1/logs', JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 17 }] }] }] }), { 'content-type': 'application/json' })
    expect(JSON.parse(json.body.toString())).toEqual({ partialSuccess: { rejectedLogRecords: '1', errorMessage: '1 log records rejected: a resource has no service.name attribute (the application)' } })
    await nothingStored()
  })

  it('rejects spans whose ids have the wrong length or are all zeros, naming the field', async () => {
    const request = tracesRequest([
      {
        resource: SHOP,
        spans: [span({ traceId: Buffer.alloc(8, 1) }), span({ spanId: Buffer.alloc(16, 1) }), span({ parentSpanId: Buffer.alloc(3, 1) }), span({ traceId: Buffer.alloc(16) })],
      },
    ])
    const answer = await post('/v1/traces', request)
    expect(answer.status).toBe(200)
    expect(partialSuccess(answer.body)).toMatchObject({ rejected: 4, message: expect.stringMatching(/trace_id must be 16 bytes \(32 hex characters\), got 8 bytes/) })
    const json = await post(
      '/v1/traces',
      JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }, { key: 'service.version', value: { stringValue: 'v1' } }] }, scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: SPAN_ID.toString('hex'), startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }),
      { 'content-type': 'application/json' },
    )
    expect(JSON.parse(json.body.toString()).partialSuccess).toMatchObject({ rejectedSpans: '1', errorMessage: expect.stringMatching(/trace_id must be 16 bytes/) })
    await nothingStored()
  })

  it('refuses hostile nesting (AnyValue depth limit), in protobuf and in JSON, and the server keeps answering', async () => {
    const deep = tracesRequest([{ resource: SHOP, spans: [span({ attributes: [keyValue('deep', nestedAnyValue(2000))] })] }])
    const proto = await post('/v1/traces', deep)
    expect(proto.status).toBe(400)
    expect(rpcStatus(proto.body).message).toMatch(/AnyValue nested deeper than 8 levels/)
    const brackets = '{"resourceSpans":' + '['.repeat(30_000) + ']'.repeat(30_000) + '}'
    const json = await post('/v1/traces', brackets, { 'content-type': 'application/json' })
    expect(json.status).toBe(400)
    expect(JSON.parse(json.body.toString()).message).toMatch(/nested deeper than/)
    // Nine levels of AnyValue in JSON: over the limit even though the text nesting is modest.
    let value: unknown = { stringValue: 'x' }
    for (let i = 0; i < 9; i += 1) value = { arrayValue: { values: [value] } }
    const nine = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [{ key: 'k', value }] }] }] }] })
    expect(JSON.parse((await post('/v1/traces', nine, { 'content-type': 'application/json' })).body.toString()).message).toMatch(/AnyValue nested deeper than 8 levels/)
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200)
    await nothingStored()
  })

  it('accepts huge attribute values within the size limit, truncated', async () => {
    const app = (await t.store.applications.byName('shop'))!
    await t.store.applications.setStableVersion(app.id, 'v0')
    const rollout = await t.store.rollouts.create({ application: (await t.store.applications.byName('shop'))!, toVersion: 'v1', steps: [] })
    const huge = tracesRequest([{ resource: SHOP, spans: [span({ error: true, traceId: Buffer.from('dd'.repeat(16), 'hex'), attributes: [keyValue('k'.repeat(1000), stringValue('v'.repeat(40_000)))] })] }])
    expect((await post('/v1/traces', huge)).status).toBe(200)
    await t.server.otlp!.settle()
    const trace = (await t.store.evidence.tracesPage(rollout.id, { first: 5 })).items[0]?.node
    expect(trace).toMatchObject({ traceId: 'dd'.repeat(16), error: true })
    const [spans] = await t.store.evidence.spansOf([trace!.id])
    const [[key, value]] = Object.entries(spans![0]!.attributes) as [[string, string]]
    expect(key.length).toBeLessThanOrEqual(128)
    expect(value.length).toBeLessThanOrEqual(256)
    await t.store.rollouts.update(rollout.id, { status: 'ABORTED', finishedAt: new Date() })
    await t.store.otlp.prune(Date.now() + 3_600_000)
  })

  it('needs a bearer token with the operate scope: 401 without (a session cookie does not count), 403 for read', async () => {
    const body = tracesRequest([{ resource: SHOP, spans: [span()] }])
    const none = await post('/v1/traces', body, {}, null)
    expect(none.status).toBe(401)
    expect(rpcStatus(none.body)).toMatchObject({ code: 16, message: expect.stringMatching(/API token is required/) })
    expect((await post('/v1/traces', body, { cookie: `sentra_session=${t.tokens.operate}` }, null)).status).toBe(401)
    expect((await post('/v1/traces', body, {}, 'sentra_not-a-token')).status).toBe(401)
    const read = await post('/v1/traces', body, {}, t.tokens.read)
    expect(read.status).toBe(403)
    expect(rpcStatus(read.body).message).toMatch(/operate or admin scope/)
    await nothingStored()
  })
})

describe('OTLP receiver backpressure', () => {
  it('answers 503 with Retry-After while the store is behind, and 429 with Retry-After when too many bytes are in flight', async () => {
    const behind = await startOtlpServer('sqlite', { limits: { maxPendingSeconds: 0 } })
    try {
      const answer = await fetch(`${behind.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${behind.tokens.operate}` },
        body: '{}',
      })
      expect(answer.status).toBe(503)
      expect(answer.headers.get('retry-after')).toBe('2')
      expect((await answer.json()) as unknown).toMatchObject({ code: 14, message: expect.stringMatching(/behind writing to the store/) })
    } finally {
      await behind.close()
    }
    const busy = await startOtlpServer('sqlite', { limits: { maxBytes: 64 * 1024, maxInflightBytes: 1024 } })
    try {
      const body = tracesRequest([{ resource: SHOP, spans: Array.from({ length: 40 }, () => span({ traceId: TRACE_ID })) }])
      expect(body.length).toBeGreaterThan(1024)
      const answer = await fetch(`${busy.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${busy.tokens.operate}` }, body: Buffer.from(body) })
      expect(answer.status).toBe(429)
      expect(answer.headers.get('retry-after')).toBe('1')
      expect(rpcStatus(Buffer.from(await answer.arrayBuffer())).message).toMatch(/too many bytes in flight/)
      // Nothing is left reserved: a small request still goes through.
      const small = tracesRequest([{ resource: SHOP, spans: [span()] }])
      expect((await fetch(`${busy.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${busy.tokens.operate}` }, body: Buffer.from(small) })).status).toBe(200)
    } finally {
      await busy.close()
    }
  })
})
