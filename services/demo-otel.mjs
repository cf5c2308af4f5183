// OpenTelemetry for the demo service: one SERVER span per request (with an INTERNAL child
// for the work), a log record per request (ERROR for a failure), exported over OTLP/HTTP
// protobuf to OTEL_EXPORTER_OTLP_ENDPOINT (Sentra's own receiver in embedded mode).
//
// Loaded only when that variable is set, so the demo still starts in milliseconds with node:
// built-ins alone otherwise. Exporting never affects answers: a missing or failing endpoint
// only loses telemetry (the SDK drops what it cannot send).
//
// Environment:
//   OTEL_EXPORTER_OTLP_ENDPOINT  base URL, e.g. http://127.0.0.1:4000 (/v1/traces and /v1/logs are appended)
//   SENTRA_OTLP_TOKEN_FILE       a file holding the API token to send as a bearer token
//                                (a file, so the token is not in the application spec others can read)
//   OTEL_SERVICE_NAME            service.name (default demo)

import { readFileSync } from 'node:fs'

/**
 * @param {{ version: string, log: (line: string) => void }} options
 * @returns {Promise<null | { request(info: { path: string, code: number, startMs: number, endMs: number }): void, shutdown(): Promise<void> }>}
 */
export async function startTelemetry({ version, log }) {
  const endpoint = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || '').replace(/\/+$/, '')
  if (!endpoint) return null
  const headers = {}
  const tokenFile = process.env.SENTRA_OTLP_TOKEN_FILE
  if (tokenFile) {
    try {
      headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`
    } catch (error) {
      log(`telemetry: cannot read SENTRA_OTLP_TOKEN_FILE (${error.message}); exporting without a token`)
    }
  }
  const [api, logsApi, { OTLPTraceExporter }, { OTLPLogExporter }, { resourceFromAttributes }, { BasicTracerProvider, BatchSpanProcessor }, { LoggerProvider, BatchLogRecordProcessor }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/api-logs'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/exporter-logs-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-logs'),
  ])
  const resource = resourceFromAttributes({
    'service.name': process.env.OTEL_SERVICE_NAME || 'demo',
    'service.version': version,
    'deployment.environment.name': 'demo',
  })
  // Short delays: the canary analysis reads windows of seconds.
  const batch = { scheduledDelayMillis: 1000, maxExportBatchSize: 512, maxQueueSize: 4096 }
  const traces = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces`, headers }), batch)],
  })
  const logs = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${endpoint}/v1/logs`, headers }), ...batch })],
  })
  const tracer = traces.getTracer('sentra-demo')
  const logger = logs.getLogger('sentra-demo')
  log(`telemetry: exporting spans and logs to ${endpoint} (OTLP/HTTP protobuf)`)

  return {
    request({ path, code, startMs, endMs }) {
      const failed = code >= 500
      const root = tracer.startSpan(`GET ${path}`, {
        kind: api.SpanKind.SERVER,
        startTime: startMs,
        attributes: { 'http.request.method': 'GET', 'url.path': path, 'http.response.status_code': code },
      })
      const ctx = api.trace.setSpan(api.context.active(), root)
      const work = tracer.startSpan('render page', { kind: api.SpanKind.INTERNAL, startTime: startMs + 1 }, ctx)
      if (failed) {
        work.setStatus({ code: api.SpanStatusCode.ERROR, message: 'simulated failure' })
        root.setStatus({ code: api.SpanStatusCode.ERROR })
      }
      work.end(Math.max(startMs + 1, endMs - 1))
      root.end(endMs)
      const spanContext = root.spanContext()
      logger.emit({
        timestamp: endMs,
        severityNumber: failed ? logsApi.SeverityNumber.ERROR : logsApi.SeverityNumber.INFO,
        severityText: failed ? 'ERROR' : 'INFO',
        body: failed ? `GET ${path} failed: simulated failure` : `GET ${path} ${code}`,
        attributes: { 'http.response.status_code': code },
        context: api.trace.setSpanContext(api.context.active(), spanContext),
      })
    },
    async shutdown() {
      await Promise.allSettled([traces.shutdown(), logs.shutdown()])
    },
  }
}
