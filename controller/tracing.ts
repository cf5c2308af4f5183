/**
 * Sentra's own traces: each controller tick is a span (`sentra.tick`) and each decision a
 * child span of it (`sentra.decision`), so a decision can be followed in Tempo like any
 * request (the tick's provider queries are HTTP calls made inside it). Exported over OTLP/HTTP (protobuf)
 * when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; without
 * it the OpenTelemetry API's no-op tracer costs next to nothing.
 */
import { SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node'

const TRACER = 'sentra.controller'

export interface Tracing {
  /** Exports what is buffered and stops (call before the process exits). */
  shutdown(): Promise<void>
}

/** Starts exporting when the standard OTLP endpoint variables say where; null otherwise. */
export function startTracing(env: NodeJS.ProcessEnv = process.env, serviceName = 'sentra-controller', version = '0.1.0'): Tracing | null {
  // The standard variables: a signal-specific URL is used as it is; the general one gets /v1/traces.
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : '')
  if (!url) return null
  // Headers (OTEL_EXPORTER_OTLP_HEADERS) and timeouts are read by the exporter itself.
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName, 'service.version': version }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 })],
  })
  provider.register()
  return { shutdown: () => provider.shutdown() }
}

function tracer(): Tracer {
  return trace.getTracer(TRACER)
}

/** Runs one tick of a rollout inside a `sentra.tick` span. */
export function traceTick<T>(rolloutId: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan('sentra.tick', { attributes: { 'sentra.rollout.id': rolloutId } }, async (span) => {
    try {
      return await fn(span)
    } catch (error) {
      span.recordException(error instanceof Error ? error : new Error(String(error)))
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
      throw error
    } finally {
      span.end()
    }
  })
}

/** Attributes on the current tick's span (application, status, step). */
export function annotateTick(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes)
}

/** A decision, as a child span of the current tick. */
export function traceDecision(attributes: { application: string; action: string; reason: string; fromWeight: number; toWeight: number; stepIndex: number; seq: number }): void {
  const span = tracer().startSpan('sentra.decision', {
    attributes: {
      'sentra.application': attributes.application,
      'sentra.decision.action': attributes.action,
      'sentra.decision.reason': attributes.reason.slice(0, 1024),
      'sentra.decision.from_weight': attributes.fromWeight,
      'sentra.decision.to_weight': attributes.toWeight,
      'sentra.step.index': attributes.stepIndex,
      'sentra.rollout.seq': attributes.seq,
    },
  })
  span.end()
}
