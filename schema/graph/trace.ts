import type { LinkedSpan, LinkedTrace } from '../store/models.ts'
import { builder } from './builder.ts'
import { StepRef } from './step.ts'
import { traceUrl } from './trace-url.ts'

export const TraceSourceEnum = builder.enumType('TraceSource', {
  description: 'Where a linked trace came from.',
  values: {
    OTLP: { value: 'otlp', description: "Sentra's own OTLP receiver (/v1/traces)." },
    TEMPO: { value: 'tempo', description: "A Tempo gate's exemplar traces." },
  } as const,
})

export const SpanStatusEnum = builder.enumType('SpanStatus', {
  values: { OK: { value: 'ok' }, ERROR: { value: 'error' }, UNSET: { value: 'unset' } } as const,
})

/** A span with the start of its trace, so offsets need no second lookup. */
export interface SpanInTrace {
  span: LinkedSpan
  traceStartMs: number
}

export const TraceSpanRef = builder.objectRef<SpanInTrace>('TraceSpan').implement({
  description: 'One span of a linked trace, placed for a waterfall.',
  fields: (t) => ({
    spanId: t.string({ resolve: (s) => s.span.spanId }),
    parentSpanId: t.string({ nullable: true, description: 'Null for a root span.', resolve: (s) => s.span.parentSpanId }),
    name: t.string({ resolve: (s) => s.span.name }),
    service: t.string({ description: "The resource's service.name.", resolve: (s) => s.span.service }),
    startOffsetMs: t.float({ description: 'Milliseconds from the start of the trace to the start of this span.', resolve: (s) => s.span.startMs - s.traceStartMs }),
    durationMs: t.float({ resolve: (s) => s.span.durationMs }),
    status: t.field({ type: SpanStatusEnum, resolve: (s) => s.span.status }),
    kind: t.string({ description: 'server, client, internal, producer, consumer or unspecified.', resolve: (s) => s.span.kind }),
    attributes: t.field({ type: 'JSON', description: 'Span attributes (at most 32, strings cut to 256 characters).', resolve: (s) => s.span.attributes }),
  }),
})

export const TraceRef = builder.objectRef<LinkedTrace>('LinkedTrace').implement({
  description: 'A trace linked to a rollout step: a request the canary or the baseline served that is worth reading (errors, the slowest).',
  fields: (t) => ({
    id: t.exposeID('id'),
    traceId: t.exposeString('traceId', { description: '32 hex characters (W3C trace id).' }),
    application: t.exposeString('application'),
    version: t.exposeString('version'),
    stepIndex: t.exposeInt('stepIndex'),
    step: t.field({
      type: StepRef,
      nullable: true,
      description: 'The rollout step the trace was linked to.',
      resolve: async (trace, _a, ctx) => (await ctx.loaders.steps.load(trace.rolloutId))[trace.stepIndex] ?? null,
    }),
    start: t.expose('at', { type: 'DateTime', description: 'When the trace started.' }),
    durationMs: t.exposeFloat('durationMs'),
    error: t.exposeBoolean('error', { description: 'True when a span of the trace has an error status.' }),
    rootName: t.exposeString('rootName', { description: 'The name of the root span.' }),
    service: t.exposeString('service', { description: "The root span's service.name." }),
    source: t.expose('source', { type: TraceSourceEnum }),
    spanCount: t.exposeInt('spanCount', { description: 'Spans the trace had; `spans` holds at most 500 of them.' }),
    url: t.string({
      nullable: true,
      description: 'A link to the trace in Grafana/Tempo (SENTRA_TRACE_URL_TEMPLATE); null when none is configured.',
      resolve: (trace, _a, ctx) => traceUrl(ctx.traceUrlTemplate, trace),
    }),
    spans: t.field({
      type: [TraceSpanRef],
      description: 'The kept spans in start order, for a waterfall.',
      resolve: async (trace, _a, ctx) => {
        const spans = await ctx.loaders.spans.load(trace.id)
        const traceStartMs = trace.at.getTime()
        return spans.map((span) => ({ span, traceStartMs }))
      },
    }),
  }),
})

export const TraceConnectionRef = builder.connectionObject({ type: TraceRef, name: 'LinkedTraceConnection' }, { name: 'LinkedTraceEdge' })
