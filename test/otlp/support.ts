import { randomBytes } from 'node:crypto'
import { context, trace, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api'
import { SeverityNumber } from '@opentelemetry/api-logs'
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { assertSpec } from '../../schema/spec.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import type { DialectName } from '../../schema/store/connect.ts'
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../server/app.ts'
import { demoSpec } from '../support/api.ts'
import { openTestStore } from '../support/databases.ts'

export type ExportEncoding = 'proto' | 'json'

export interface OtlpTestServer {
  url: string
  store: Store
  bus: Bus
  server: ApiServer
  tokens: { operate: string; read: string; admin: string }
  close(): Promise<void>
}

/** A real API server (with its OTLP receiver) on a loopback port over a fresh database, and the application `shop`. */
export async function startOtlpServer(dialect: DialectName, otlp: ApiServerOptions['otlp'] = {}): Promise<OtlpTestServer> {
  const database = await openTestStore(dialect)
  const store = createStore(database.db)
  const bus = createBus(undefined, { prefix: `otlp-${randomBytes(3).toString('hex')}:` })
  await store.applications.upsert('shop', assertSpec(demoSpec('shop')))
  const server = createApiServer({ store, bus, otlp })
  const { url } = await server.listen(0, '127.0.0.1')
  const tokens = {
    operate: (await store.tokens.create('otlp sender', 'operate')).token,
    read: (await store.tokens.create('reader', 'read')).token,
    admin: (await store.tokens.create('admin', 'admin')).token,
  }
  return {
    url,
    store,
    bus,
    server,
    tokens,
    close: async () => {
      await server.close()
      await bus.close()
      await database.dispose()
    },
  }
}

export interface ExportOutcome {
  code: number
  error?: Error
}

/** Spans made with the real SDK, kept in memory until exported with `exportSpans`. */
export function recordSpans(service: string, version: string, make: (tracer: Tracer) => void): ReadableSpan[] {
  const memory = new InMemorySpanExporter()
  const attributes: Record<string, string> = { 'deployment.environment.name': 'test' }
  if (service) attributes['service.name'] = service
  if (version) attributes['service.version'] = version
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(attributes), spanProcessors: [new SimpleSpanProcessor(memory)] })
  make(provider.getTracer('sentra-otlp-test'))
  return memory.getFinishedSpans()
}

/** `count` requests: a SERVER root span with a CLIENT child; the first `errors` fail in the child (and the root). */
export function requests(tracer: Tracer, count: number, errors: number, durationMs = (i: number) => 20 + i): void {
  const now = Date.now()
  for (let i = 0; i < count; i += 1) {
    const start = now - 5000 + i
    const root = tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: start, attributes: { 'http.route': '/checkout', 'http.response.status_code': i < errors ? 500 : 200 } })
    const child = tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, startTime: start + 1 }, trace.setSpan(context.active(), root))
    if (i < errors) {
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset' })
      root.setStatus({ code: SpanStatusCode.ERROR })
    }
    child.end(start + durationMs(i) - 1)
    root.end(start + durationMs(i))
  }
}

export async function exportSpans(url: string, token: string, spans: ReadableSpan[], encoding: ExportEncoding, compression: 'gzip' | 'none' = 'none'): Promise<ExportOutcome> {
  const options = { url: `${url}/v1/traces`, headers: { authorization: `Bearer ${token}` }, compression: compression as never }
  const exporter = encoding === 'proto' ? new ProtoTraceExporter(options) : new JsonTraceExporter(options)
  try {
    return await new Promise<ExportOutcome>((resolve) => exporter.export(spans, (result) => resolve(result.error ? { code: result.code, error: result.error } : { code: result.code })))
  } finally {
    await exporter.shutdown()
  }
}

/** Log records made with the real SDK: `count` records, the first `errors` at ERROR. */
export function recordLogs(service: string, version: string, count: number, errors: number): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service, 'service.version': version }), processors: [new SimpleLogRecordProcessor({ exporter: memory })] })
  const logger = provider.getLogger('sentra-otlp-test')
  for (let i = 0; i < count; i += 1) {
    const error = i < errors
    logger.emit({ severityNumber: error ? SeverityNumber.ERROR : SeverityNumber.INFO, severityText: error ? 'ERROR' : 'INFO', body: error ? 'payment failed' : 'ok', attributes: { i } })
  }
  return memory.getFinishedLogRecords()
}

export async function exportLogs(url: string, token: string, logs: ReadableLogRecord[], encoding: ExportEncoding): Promise<ExportOutcome> {
  const options = { url: `${url}/v1/logs`, headers: { authorization: `Bearer ${token}` } }
  const exporter = encoding === 'proto' ? new ProtoLogExporter(options) : new JsonLogExporter(options)
  try {
    return await new Promise<ExportOutcome>((resolve) => exporter.export(logs, (result) => resolve(result.error ? { code: result.code, error: result.error } : { code: result.code })))
  } finally {
    await exporter.shutdown()
  }
}
