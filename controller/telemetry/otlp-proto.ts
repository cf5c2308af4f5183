/**
 * OTLP protobuf payloads (application/x-protobuf), decoded with our own wire reader.
 * Field numbers are those of opentelemetry-proto (collector/{trace,logs}/v1 service
 * requests, trace/v1/trace.proto, logs/v1/logs.proto, common/v1/common.proto,
 * resource/v1/resource.proto). Unknown fields are skipped, as the wire format requires;
 * a known field with the wrong wire type, a truncated value or nesting past the limit fails
 * the whole payload (400). Items with bad ids are dropped and counted as rejected.
 */
import {
  type AttributeValue,
  type DecodedLog,
  type DecodedLogs,
  type DecodedSpan,
  type DecodedTraces,
  DECODE_LIMITS,
  idProblem,
  OtlpDecodeError,
  type ResourceBatch,
  resourceInfo,
  SPAN_KINDS,
  truncate,
} from './otlp-model.ts'
import { WIRE, WireError, WireReader, WireWriter } from './otlp-wire.ts'

/** ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 } */
export function decodeTracesProto(buf: Uint8Array): DecodedTraces {
  return decodeRequest(buf, 'resource_spans', (r) => resourceGroup(r, 'scope_spans', 'spans', span))
}

/** ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1 } */
export function decodeLogsProto(buf: Uint8Array): DecodedLogs {
  return decodeRequest(buf, 'resource_logs', (r) => resourceGroup(r, 'scope_logs', 'log_records', logRecord))
}

type ItemResult<T> = { ok: true; item: T } | { ok: false; problem: string }

function decodeRequest<T>(buf: Uint8Array, name: string, group: (r: WireReader) => ResourceBatch<T>): ResourceBatch<T>[] {
  const batches: ResourceBatch<T>[] = []
  try {
    const r = new WireReader(buf)
    while (!r.done) {
      const h = r.next()
      if (h.field === 1) {
        r.expect(h, WIRE.LEN, name)
        const index = batches.length
        batches.push(at(`${name}[${index}]`, () => group(r.message())))
      } else r.skip(h.wireType)
    }
  } catch (error) {
    if (error instanceof WireError) throw new OtlpDecodeError(`invalid protobuf: ${error.message}`)
    throw error
  }
  return batches
}

/** Runs `fn`, prefixing a WireError's message with where it happened. */
function at<T>(path: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof WireError) throw new WireError(`${path}: ${error.message}`)
    throw error
  }
}

/**
 * ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2 } and
 * ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2 }, whose scope
 * messages are { InstrumentationScope scope = 1; repeated <item> items = 2 }.
 */
function resourceGroup<T>(r: WireReader, scopeName: string, itemName: string, item: (r: WireReader) => ItemResult<T>): ResourceBatch<T> {
  const batch: ResourceBatch<T> = { resource: { service: null, version: null, environment: null }, items: [], rejected: 0, problem: null }
  let scopes = 0
  while (!r.done) {
    const h = r.next()
    if (h.field === 1) {
      r.expect(h, WIRE.LEN, 'resource')
      batch.resource = at('resource', () => resourceInfo(attributes(r.message(), Number.POSITIVE_INFINITY)))
    } else if (h.field === 2) {
      r.expect(h, WIRE.LEN, scopeName)
      const scopePath = `${scopeName}[${scopes++}]`
      const scope = r.message()
      let count = 0
      while (!scope.done) {
        const sh = scope.next()
        if (sh.field === 2) {
          scope.expect(sh, WIRE.LEN, itemName)
          const result = at(`${scopePath}.${itemName}[${count++}]`, () => item(scope.message()))
          if (result.ok) batch.items.push(result.item)
          else {
            batch.rejected += 1
            batch.problem ??= `${scopePath}.${itemName}[${count - 1}]: ${result.problem}`
          }
        } else at(scopePath, () => scope.skip(sh.wireType))
      }
    } else r.skip(h.wireType)
  }
  return batch
}

/** Resource / Span / LogRecord attributes: repeated KeyValue { string key = 1; AnyValue value = 2 }. */
function attributes(r: WireReader, max: number): Map<string, AttributeValue> {
  const out = new Map<string, AttributeValue>()
  while (!r.done) {
    const h = r.next()
    if (h.field !== 1) {
      r.skip(h.wireType)
      continue
    }
    r.expect(h, WIRE.LEN, 'attributes')
    const kv = keyValue(r.message(), 1)
    if (kv !== null && out.size < max) out.set(kv.key, kv.value)
  }
  return out
}

function keyValue(r: WireReader, depth: number): { key: string; value: AttributeValue } | null {
  let key = ''
  let value: AttributeValue | null = null
  while (!r.done) {
    const h = r.next()
    if (h.field === 1) {
      r.expect(h, WIRE.LEN, 'key')
      key = truncate(r.string(), DECODE_LIMITS.maxKeyLength)
    } else if (h.field === 2) {
      r.expect(h, WIRE.LEN, 'value')
      value = anyValue(r.message(), depth)
    } else r.skip(h.wireType)
  }
  return key === '' || value === null ? null : { key, value }
}

/**
 * AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4;
 * ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7 }.
 * Arrays and maps become short JSON text; nesting deeper than the limit is an error.
 */
function anyValue(r: WireReader, depth: number): AttributeValue | null {
  if (depth > DECODE_LIMITS.maxAnyDepth) throw new WireError(`AnyValue nested deeper than ${DECODE_LIMITS.maxAnyDepth} levels`)
  let value: AttributeValue | null = null
  while (!r.done) {
    const h = r.next()
    switch (h.field) {
      case 1:
        r.expect(h, WIRE.LEN, 'string_value')
        value = truncate(r.string(), DECODE_LIMITS.maxStringLength)
        break
      case 2:
        r.expect(h, WIRE.VARINT, 'bool_value')
        value = r.bool()
        break
      case 3:
        r.expect(h, WIRE.VARINT, 'int_value')
        value = r.int64()
        break
      case 4:
        r.expect(h, WIRE.I64, 'double_value')
        value = r.double()
        break
      case 5:
      case 6: {
        r.expect(h, WIRE.LEN, h.field === 5 ? 'array_value' : 'kvlist_value')
        value = composite(r.message(), h.field === 6, depth + 1)
        break
      }
      case 7:
        r.expect(h, WIRE.LEN, 'bytes_value')
        value = truncate(r.bytes().toString('base64'), DECODE_LIMITS.maxStringLength)
        break
      default:
        r.skip(h.wireType)
    }
  }
  return value
}

/** ArrayValue { repeated AnyValue values = 1 } or KeyValueList { repeated KeyValue values = 1 }, as capped JSON text. */
function composite(r: WireReader, keyed: boolean, depth: number): string {
  const parts: string[] = []
  let length = 0
  while (!r.done) {
    const h = r.next()
    if (h.field !== 1) {
      r.skip(h.wireType)
      continue
    }
    r.expect(h, WIRE.LEN, 'values')
    const inner = r.message()
    // Decode every element (to enforce the depth limit) but keep text only up to the cap.
    const text = keyed ? keyValueText(keyValue(inner, depth)) : JSON.stringify(anyValue(inner, depth))
    if (length < DECODE_LIMITS.maxStringLength) {
      parts.push(text)
      length += text.length + 1
    }
  }
  return truncate(keyed ? `{${parts.join(',')}}` : `[${parts.join(',')}]`, DECODE_LIMITS.maxStringLength)
}

function keyValueText(kv: { key: string; value: AttributeValue } | null): string {
  return kv === null ? '' : `${JSON.stringify(kv.key)}:${JSON.stringify(kv.value)}`
}

/** Span: the fields Sentra uses (see otlp-model.ts DecodedSpan). */
function span(r: WireReader): ItemResult<DecodedSpan> {
  let traceId = ''
  let spanId = ''
  let parentSpanId = ''
  let name = ''
  let kind = 0
  let startNs = 0
  let endNs = 0
  const attrs = new Map<string, AttributeValue>()
  let statusCode = 0
  let statusMessage = ''
  while (!r.done) {
    const h = r.next()
    switch (h.field) {
      case 1:
        r.expect(h, WIRE.LEN, 'trace_id')
        traceId = r.hex()
        break
      case 2:
        r.expect(h, WIRE.LEN, 'span_id')
        spanId = r.hex()
        break
      case 4:
        r.expect(h, WIRE.LEN, 'parent_span_id')
        parentSpanId = r.hex()
        break
      case 5:
        r.expect(h, WIRE.LEN, 'name')
        name = truncate(r.string(), DECODE_LIMITS.maxNameLength)
        break
      case 6:
        r.expect(h, WIRE.VARINT, 'kind')
        kind = r.varint()
        break
      case 7:
        r.expect(h, WIRE.I64, 'start_time_unix_nano')
        startNs = r.fixed64()
        break
      case 8:
        r.expect(h, WIRE.I64, 'end_time_unix_nano')
        endNs = r.fixed64()
        break
      case 9: {
        r.expect(h, WIRE.LEN, 'attributes')
        const kv = keyValue(r.message(), 1)
        if (kv !== null && attrs.size < DECODE_LIMITS.maxAttributes) attrs.set(kv.key, kv.value)
        break
      }
      case 15: {
        r.expect(h, WIRE.LEN, 'status')
        const s = r.message()
        while (!s.done) {
          const sh = s.next()
          if (sh.field === 2) {
            s.expect(sh, WIRE.LEN, 'status.message')
            statusMessage = truncate(s.string(), DECODE_LIMITS.maxStringLength)
          } else if (sh.field === 3) {
            s.expect(sh, WIRE.VARINT, 'status.code')
            statusCode = s.varint()
          } else s.skip(sh.wireType)
        }
        break
      }
      default:
        r.skip(h.wireType)
    }
  }
  return spanItem({ traceId, spanId, parentSpanId, name, kind, startNs, endNs, attrs, statusCode, statusMessage })
}

/** A decoded span's fields as both decoders read them (ids hex, times nanoseconds, kind its number). */
export interface SpanFields {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  startNs: number
  endNs: number
  attrs: ReadonlyMap<string, AttributeValue>
  statusCode: number
  statusMessage: string
}

/** The span as the receiver uses it, or why it cannot be used. Shared with the JSON decoder. */
export function spanItem(f: SpanFields): ItemResult<DecodedSpan> {
  const problem = spanProblem(f.traceId, f.spanId, f.parentSpanId, f.startNs, f.endNs)
  if (problem !== null) return { ok: false, problem }
  return {
    ok: true,
    item: {
      traceId: f.traceId,
      spanId: f.spanId,
      parentSpanId: f.parentSpanId === '' ? null : f.parentSpanId,
      name: f.name,
      kind: SPAN_KINDS[f.kind] ?? 'unspecified',
      startMs: f.startNs / 1e6,
      endMs: f.endNs / 1e6,
      attributes: Object.fromEntries(f.attrs),
      statusCode: f.statusCode,
      statusMessage: f.statusMessage,
    },
  }
}

/** Why a span cannot be used, or null. Shared with the JSON decoder. */
export function spanProblem(traceId: string, spanId: string, parentSpanId: string, startNs: number, endNs: number): string | null {
  return (
    idProblem(traceId, 16, 'trace_id') ??
    idProblem(spanId, 8, 'span_id') ??
    (parentSpanId === '' ? null : idProblem(parentSpanId, 8, 'parent_span_id')) ??
    (startNs <= 0 ? 'start_time_unix_nano is missing' : null) ??
    (endNs < startNs ? 'end_time_unix_nano is before start_time_unix_nano' : null)
  )
}

/** LogRecord: time (1, fixed64), severity_number (2), severity_text (3), body (5), attributes (6), trace_id (9), span_id (10), observed time (11). */
function logRecord(r: WireReader): ItemResult<DecodedLog> {
  let timeNs = 0
  let observedNs = 0
  let severityNumber = 0
  let severityText = ''
  let traceId = ''
  let spanId = ''
  while (!r.done) {
    const h = r.next()
    switch (h.field) {
      case 1:
        r.expect(h, WIRE.I64, 'time_unix_nano')
        timeNs = r.fixed64()
        break
      case 11:
        r.expect(h, WIRE.I64, 'observed_time_unix_nano')
        observedNs = r.fixed64()
        break
      case 2:
        r.expect(h, WIRE.VARINT, 'severity_number')
        severityNumber = r.varint()
        break
      case 3:
        r.expect(h, WIRE.LEN, 'severity_text')
        severityText = truncate(r.string(), 64)
        break
      case 5:
        // The body is not kept (aggregates only), but it is checked like any AnyValue.
        r.expect(h, WIRE.LEN, 'body')
        anyValue(r.message(), 1)
        break
      case 6:
        r.expect(h, WIRE.LEN, 'attributes')
        keyValue(r.message(), 1)
        break
      case 9:
        r.expect(h, WIRE.LEN, 'trace_id')
        traceId = r.hex()
        break
      case 10:
        r.expect(h, WIRE.LEN, 'span_id')
        spanId = r.hex()
        break
      default:
        r.skip(h.wireType)
    }
  }
  return logItem(timeNs, observedNs, severityNumber, severityText, traceId, spanId)
}

/** Checks a decoded log record's fields. Shared with the JSON decoder. */
export function logItem(timeNs: number, observedNs: number, severityNumber: number, severityText: string, traceId: string, spanId: string): ItemResult<DecodedLog> {
  const problem =
    (severityNumber > 24 ? `severity_number ${severityNumber} is not a SeverityNumber (0-24)` : null) ??
    (traceId === '' ? null : idProblem(traceId, 16, 'trace_id')) ??
    (spanId === '' ? null : idProblem(spanId, 8, 'span_id'))
  if (problem !== null) return { ok: false, problem }
  const ns = timeNs > 0 ? timeNs : observedNs
  return {
    ok: true,
    item: { timeMs: ns > 0 ? ns / 1e6 : null, severityNumber, severityText, traceId: traceId === '' ? null : traceId, spanId: spanId === '' ? null : spanId },
  }
}

/**
 * Export{Trace,Logs}ServiceResponse { Export*PartialSuccess partial_success = 1 }, with
 * { int64 rejected_spans | rejected_log_records = 1; string error_message = 2 }. Empty when
 * everything was accepted.
 */
export function encodeExportResponseProto(rejected: number, errorMessage: string): Uint8Array {
  const response = new WireWriter()
  if (rejected > 0 || errorMessage !== '') response.messageField(1, new WireWriter().varintField(1, rejected).stringField(2, errorMessage))
  return response.finish()
}

/** google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3 }: the body of a 4xx/5xx. */
export function encodeStatusProto(code: number, message: string): Uint8Array {
  return new WireWriter().varintField(1, code).stringField(2, message).finish()
}
