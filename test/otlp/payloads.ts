/** Hand-made OTLP protobuf payloads (with our own writer), including broken and hostile ones. */
import { WIRE, WireWriter } from '../../controller/telemetry/otlp-wire.ts'

export const TRACE_ID = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex')
export const SPAN_ID = Buffer.from('eee19b7ec3c1b174', 'hex')

export function keyValue(key: string, value: WireWriter): WireWriter {
  return new WireWriter().stringField(1, key).messageField(2, value)
}

export function stringValue(text: string): WireWriter {
  return new WireWriter().stringField(1, text)
}

export function resource(attributes: Record<string, string>): WireWriter {
  const r = new WireWriter()
  for (const [key, value] of Object.entries(attributes)) r.messageField(1, keyValue(key, stringValue(value)))
  return r
}

export interface SpanInput {
  traceId?: Uint8Array
  spanId?: Uint8Array
  parentSpanId?: Uint8Array
  name?: string
  startMs?: number
  durationMs?: number
  error?: boolean
  attributes?: WireWriter[]
}

export function span(input: SpanInput = {}): WireWriter {
  const start = input.startMs ?? Date.now() - 1000
  const s = new WireWriter()
    .bytesField(1, input.traceId ?? TRACE_ID)
    .bytesField(2, input.spanId ?? SPAN_ID)
    .stringField(5, input.name ?? 'GET /')
    .varintField(6, 2)
    .fixed64Field(7, start * 1e6)
    .fixed64Field(8, (start + (input.durationMs ?? 30)) * 1e6)
  if (input.parentSpanId) s.bytesField(4, input.parentSpanId)
  for (const kv of input.attributes ?? []) s.messageField(9, kv)
  if (input.error) s.messageField(15, new WireWriter().stringField(2, 'boom').varintField(3, 2))
  return s
}

/** ExportTraceServiceRequest with one ResourceSpans per entry. */
export function tracesRequest(groups: { resource: Record<string, string>; spans: WireWriter[] }[]): Uint8Array {
  const request = new WireWriter()
  for (const group of groups) {
    const scope = new WireWriter()
    for (const s of group.spans) scope.messageField(2, s)
    request.messageField(1, new WireWriter().messageField(1, resource(group.resource)).messageField(2, scope))
  }
  return request.finish()
}

/** An AnyValue nested `depth` levels deep through array values. */
export function nestedAnyValue(depth: number): WireWriter {
  let value = stringValue('bottom')
  for (let i = 0; i < depth; i += 1) value = new WireWriter().messageField(5, new WireWriter().messageField(1, value))
  return value
}

/** An unknown field of every wire type: a receiver must skip them. */
export function withUnknownFields(message: WireWriter): WireWriter {
  return message
    .varintField(900, 7)
    .fixed64Field(901, 1)
    .bytesField(902, Buffer.from('ignored'))
    .rawField(903, WIRE.I32, Buffer.from([1, 2, 3, 4]))
}
