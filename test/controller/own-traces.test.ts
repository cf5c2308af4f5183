import { createServer, type Server } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { trace } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { decodeTracesProto } from '../../controller/telemetry/otlp-proto.ts'
import type { DecodedSpan } from '../../controller/telemetry/otlp-model.ts'
import { startTracing, type Tracing } from '../../controller/tracing.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 90_000 })

/**
 * Sentra's own traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, the real OpenTelemetry SDK
 * exports a span per tick and per decision over OTLP/HTTP protobuf, here to a loopback
 * collector that decodes them with the receiver's own decoder.
 */
describe("Sentra's own OpenTelemetry traces", () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let tracing: Tracing | null
  let collector: Server
  const spans: { service: string | null; span: DecodedSpan }[] = []
  const requests: { path: string; contentType: string; authorization: string }[] = []

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', authorization: String(req.headers.authorization ?? '') })
        let body = Buffer.concat(chunks)
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
        for (const batch of decodeTracesProto(body)) for (const span of batch.items) spans.push({ service: batch.resource.service, span })
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
    const address = collector.address()
    const port = typeof address === 'object' && address ? address.port : 0
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'authorization=Bearer collector-token'
    tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` })
    api = await startTestApi('sqlite')
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec('traced', await freePort()) })
    expect(applied.errors).toBeUndefined()
  })
  afterAll(async () => {
    await runtime?.stop()
    await tracing?.shutdown()
    trace.disable()
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS
    await api?.close()
    await new Promise((resolve) => collector?.close(resolve))
  })

  it('is off without an endpoint', () => {
    expect(startTracing({})).toBeNull()
  })

  it('exports a span per tick and per decision, with the rollout, the action and the reason', async () => {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation { startRollout(application: "traced", version: "v1") { id } }`, {}, api.tokens.operate)
    expect(started.errors).toBeUndefined()
    const id = started.data!.startRollout.id
    const decision = await waitFor(
      async () => spans.find((s) => s.span.name === 'sentra.decision'),
      (found) => found !== undefined,
      { timeoutMs: 30_000, everyMs: 250, what: 'a sentra.decision span at the collector' },
    )
    expect(decision!.service).toBe('sentra-controller')
    expect(decision!.span.attributes).toMatchObject({ 'sentra.application': 'traced', 'sentra.decision.action': expect.any(String) as string })
    expect(String(decision!.span.attributes['sentra.decision.reason'])).not.toBe('')
    const tick = spans.find((s) => s.span.name === 'sentra.tick' && s.span.spanId === decision!.span.parentSpanId)
    // The graph's id is a Relay global id (base64 of Rollout:<row id>); the span carries the row id.
    expect(`Rollout:${String(tick?.span.attributes['sentra.rollout.id'])}`).toBe(Buffer.from(id, 'base64').toString())
    expect(tick?.span.traceId).toBe(decision!.span.traceId)
    expect(requests[0]).toMatchObject({ path: '/v1/traces', contentType: 'application/x-protobuf', authorization: 'Bearer collector-token' })
  })
})
