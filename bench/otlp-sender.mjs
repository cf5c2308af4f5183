// The OTLP benchmark's load generator (bench/otlp.ts runs it as a separate process): makes
// traces with the real OpenTelemetry SDK and sends them with its OTLP/HTTP protobuf exporter
// at a fixed rate, timing each export (request sent to answer received).
//
// argv: <url> <token> <spans per second> <seconds> <spans per export>
// stdout: one JSON line { sent, failed, exports, latencyMs: { p50, p90, p99, max } }
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'

const [url, token, rateArg, secondsArg, batchArg] = process.argv.slice(2)
const rate = Number(rateArg)
const seconds = Number(secondsArg)
const batch = Number(batchArg)
const SPANS_PER_TRACE = 5

/** `count` spans (traces of a SERVER root and four children; 2 % fail) of `version`, made by the SDK. */
function makeSpans(version, count) {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-otlp', 'service.version': version }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  })
  const tracer = provider.getTracer('bench')
  const now = Date.now()
  for (let t = 0; t < count / SPANS_PER_TRACE; t += 1) {
    const start = now - 200 + (t % 100)
    const root = tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: start, attributes: { 'http.route': '/checkout' } })
    const ctx = trace.setSpan(context.active(), root)
    const failed = t % 50 === 0
    for (let c = 0; c < SPANS_PER_TRACE - 1; c += 1) {
      const child = tracer.startSpan(`step ${c}`, { kind: SpanKind.INTERNAL, startTime: start + c }, ctx)
      if (failed && c === 0) child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' })
      child.end(start + c + 5)
    }
    root.end(start + 20 + (t % 30))
  }
  return memory.getFinishedSpans()
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

const exporter = new OTLPTraceExporter({ url: `${url}/v1/traces`, headers: { authorization: `Bearer ${token}` }, concurrencyLimit: 256 })
// Pre-made batches (the SDK's spans), so the generator's own cost is serialisation and HTTP only.
const pool = [makeSpans('v1', batch * 4), makeSpans('v2', batch * 4)].flatMap((spans) => {
  const batches = []
  for (let i = 0; i + batch <= spans.length; i += batch) batches.push(spans.slice(i, i + batch))
  return batches
})
const exportsPerSecond = rate / batch
const total = Math.max(1, Math.round(exportsPerSecond * seconds))
const latencies = []
let sent = 0
let failed = 0
const started = performance.now()
const pending = []
for (let i = 0; i < total; i += 1) {
  // Open loop: each export starts on schedule, whether or not earlier ones have answered.
  const due = started + (i * 1000) / exportsPerSecond
  const wait = due - performance.now()
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
  const spans = pool[i % pool.length]
  const begin = performance.now()
  pending.push(
    new Promise((resolve) =>
      exporter.export(spans, (result) => {
        latencies.push(performance.now() - begin)
        if (result.code === 0) sent += spans.length
        else failed += spans.length
        resolve()
      }),
    ),
  )
}
await Promise.all(pending)
await exporter.shutdown()
latencies.sort((a, b) => a - b)
const round = (x) => (x === null ? null : Math.round(x * 10) / 10)
process.stdout.write(
  `${JSON.stringify({ sent, failed, exports: total, seconds: (performance.now() - started) / 1000, latencyMs: { p50: round(quantile(latencies, 0.5)), p90: round(quantile(latencies, 0.9)), p99: round(quantile(latencies, 0.99)), max: round(latencies.at(-1) ?? null) } })}\n`,
)
