/**
 * OTLP JSON payloads (application/json): the protobuf JSON mapping with OTLP's exceptions
 * (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): trace and span ids
 * are hex strings, not base64; enums are integers (names accepted too); 64-bit integers
 * are decimal strings or numbers; field names lowerCamelCase (the proto names accepted
 * too, as the mapping requires). Unknown fields are ignored. A value of the wrong type
 * fails the whole payload (400) with its JSON path; items with bad ids are rejected.
 */
import {
  type AttributeValue,
  type DecodedLog,
  type DecodedLogs,
  type DecodedSpan,
  type DecodedTraces,
  DECODE_LIMITS,
  OtlpDecodeError,
  type ResourceBatch,
  resourceInfo,
  SPAN_KINDS,
  truncate,
} from './otlp-model.ts'
import { logItem, spanItem } from './otlp-proto.ts'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }
type ItemResult<T> = { ok: true; item: T } | { ok: false; problem: string }

/**
 * Nesting allowed in the JSON text itself: enough for OTLP's own structure (about 8) plus
 * AnyValue nesting up to its limit (two JSON levels each), checked before JSON.parse because
 * V8 parses a few MB of hostile brackets for seconds, blocking the loop.
 */
const MAX_JSON_DEPTH = 16 + 3 * DECODE_LIMITS.maxAnyDepth

export function decodeTracesJson(text: string): DecodedTraces {
  return decodeRequest(text, 'resourceSpans', 'resource_spans', (group, path) => resourceGroup(group, path, ['scopeSpans', 'scope_spans'], ['spans', 'spans'], span))
}

export function decodeLogsJson(text: string): DecodedLogs {
  return decodeRequest(text, 'resourceLogs', 'resource_logs', (group, path) => resourceGroup(group, path, ['scopeLogs', 'scope_logs'], ['logRecords', 'log_records'], logRecord))
}

function decodeRequest<T>(text: string, camel: string, snake: string, group: (value: JsonObject, path: string) => ResourceBatch<T>): ResourceBatch<T>[] {
  checkDepth(text)
  let root: Json
  try {
    root = JSON.parse(text) as Json
  } catch (error) {
    throw new OtlpDecodeError(`invalid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  const request = object(root, '$')
  return list(request, camel, snake, '$').map((value, i) => group(object(value, `${camel}[${i}]`), `${camel}[${i}]`))
}

/** Fails on nesting deeper than MAX_JSON_DEPTH, without parsing (strings are skipped). */
function checkDepth(text: string): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i += 1 // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      depth += 1
      if (depth > MAX_JSON_DEPTH) throw new OtlpDecodeError(`invalid OTLP JSON: nested deeper than ${MAX_JSON_DEPTH} levels (AnyValue nesting is limited to ${DECODE_LIMITS.maxAnyDepth})`)
    } else if (c === 0x7d || c === 0x5d) depth -= 1
  }
}

function fail(path: string, expected: string, value: Json | undefined): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
  throw new OtlpDecodeError(`invalid OTLP JSON at ${path}: expected ${expected}, got ${got}`)
}

function object(value: Json | undefined, path: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'an object', value)
  return value
}

/** A field by its JSON name or its proto name; undefined and null both mean "not set". */
function field(obj: JsonObject, camel: string, snake: string): Json | undefined {
  const value = obj[camel] ?? obj[snake]
  return value === null ? undefined : value
}

function list(obj: JsonObject, camel: string, snake: string, path: string): Json[] {
  const value = field(obj, camel, snake)
  if (value === undefined) return []
  if (!Array.isArray(value)) fail(`${path}.${camel}`, 'an array', value)
  return value
}

function str(obj: JsonObject, camel: string, snake: string, path: string): string {
  const value = field(obj, camel, snake)
  if (value === undefined) return ''
  if (typeof value !== 'string') fail(`${path}.${camel}`, 'a string', value)
  return value
}

/** int64/uint64/fixed64: a decimal string or a number. */
function int(obj: JsonObject, camel: string, snake: string, path: string): number {
  const value = field(obj, camel, snake)
  return value === undefined ? 0 : intValue(value, `${path}.${camel}`)
}

function intValue(value: Json, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return Number(value)
  return fail(path, 'an integer (a number or a decimal string)', value)
}

/** An enum: its integer, or its name looked up in `names` (index = value). */
function enumValue(obj: JsonObject, camel: string, snake: string, path: string, names: readonly string[]): number {
  const value = field(obj, camel, snake)
  if (value === undefined) return 0
  if (typeof value === 'string' && names.includes(value)) return names.indexOf(value)
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value
  return fail(`${path}.${camel}`, 'an enum value (an integer or its name)', value)
}

/** trace/span ids are hex in OTLP JSON (not base64 as in the plain protobuf mapping). */
function id(obj: JsonObject, camel: string, snake: string, path: string): string {
  return str(obj, camel, snake, path).toLowerCase()
}

function resourceGroup<T>(
  group: JsonObject,
  path: string,
  scopes: [string, string],
  items: [string, string],
  item: (value: JsonObject, path: string) => ItemResult<T>,
): ResourceBatch<T> {
  const resource = field(group, 'resource', 'resource')
  const attrs = resource === undefined ? new Map<string, AttributeValue>() : attributes(object(resource, `${path}.resource`), `${path}.resource`, Number.POSITIVE_INFINITY)
  const batch: ResourceBatch<T> = { resource: resourceInfo(attrs), items: [], rejected: 0, problem: null }
  list(group, scopes[0], scopes[1], path).forEach((scopeValue, s) => {
    const scopePath = `${path}.${scopes[0]}[${s}]`
    const scope = object(scopeValue, scopePath)
    list(scope, items[0], items[1], scopePath).forEach((value, i) => {
      const itemPath = `${scopePath}.${items[0]}[${i}]`
      const result = item(object(value, itemPath), itemPath)
      if (result.ok) batch.items.push(result.item)
      else {
        batch.rejected += 1
        batch.problem ??= `${itemPath}: ${result.problem}`
      }
    })
  })
  return batch
}

function attributes(obj: JsonObject, path: string, max: number): Map<string, AttributeValue> {
  const out = new Map<string, AttributeValue>()
  list(obj, 'attributes', 'attributes', path).forEach((value, i) => {
    const kv = keyValue(object(value, `${path}.attributes[${i}]`), `${path}.attributes[${i}]`, 1)
    if (kv !== null && out.size < max) out.set(kv.key, kv.value)
  })
  return out
}

function keyValue(obj: JsonObject, path: string, depth: number): { key: string; value: AttributeValue } | null {
  const key = truncate(str(obj, 'key', 'key', path), DECODE_LIMITS.maxKeyLength)
  const raw = field(obj, 'value', 'value')
  const value = raw === undefined ? null : anyValue(object(raw, `${path}.value`), `${path}.value`, depth)
  return key === '' || value === null ? null : { key, value }
}

function anyValue(obj: JsonObject, path: string, depth: number): AttributeValue | null {
  if (depth > DECODE_LIMITS.maxAnyDepth) throw new OtlpDecodeError(`invalid OTLP JSON at ${path}: AnyValue nested deeper than ${DECODE_LIMITS.maxAnyDepth} levels`)
  const s = field(obj, 'stringValue', 'string_value')
  if (s !== undefined) {
    if (typeof s !== 'string') fail(`${path}.stringValue`, 'a string', s)
    return truncate(s, DECODE_LIMITS.maxStringLength)
  }
  const b = field(obj, 'boolValue', 'bool_value')
  if (b !== undefined) {
    if (typeof b !== 'boolean') fail(`${path}.boolValue`, 'a boolean', b)
    return b
  }
  const i = field(obj, 'intValue', 'int_value')
  if (i !== undefined) return intValue(i, `${path}.intValue`)
  const d = field(obj, 'doubleValue', 'double_value')
  if (d !== undefined) {
    if (typeof d === 'number') return d
    if (typeof d === 'string' && /^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(d)) return Number(d)
    fail(`${path}.doubleValue`, 'a number', d)
  }
  const bytes = field(obj, 'bytesValue', 'bytes_value')
  if (bytes !== undefined) {
    if (typeof bytes !== 'string') fail(`${path}.bytesValue`, 'a base64 string', bytes)
    return truncate(bytes, DECODE_LIMITS.maxStringLength)
  }
  const array = field(obj, 'arrayValue', 'array_value')
  if (array !== undefined) {
    const values = list(object(array, `${path}.arrayValue`), 'values', 'values', `${path}.arrayValue`)
    const parts = values.map((v, n) => JSON.stringify(anyValue(object(v, `${path}.arrayValue.values[${n}]`), `${path}.arrayValue.values[${n}]`, depth + 1)))
    return truncate(`[${parts.join(',')}]`, DECODE_LIMITS.maxStringLength)
  }
  const kvlist = field(obj, 'kvlistValue', 'kvlist_value')
  if (kvlist !== undefined) {
    const values = list(object(kvlist, `${path}.kvlistValue`), 'values', 'values', `${path}.kvlistValue`)
    const parts = values.map((v, n) => {
      const kv = keyValue(object(v, `${path}.kvlistValue.values[${n}]`), `${path}.kvlistValue.values[${n}]`, depth + 1)
      return kv === null ? '' : `${JSON.stringify(kv.key)}:${JSON.stringify(kv.value)}`
    })
    return truncate(`{${parts.join(',')}}`, DECODE_LIMITS.maxStringLength)
  }
  return null
}

const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']
const KIND_NAMES = SPAN_KINDS.map((k) => `SPAN_KIND_${k.toUpperCase()}`)

function span(obj: JsonObject, path: string): ItemResult<DecodedSpan> {
  const traceId = id(obj, 'traceId', 'trace_id', path)
  const spanId = id(obj, 'spanId', 'span_id', path)
  const parentSpanId = id(obj, 'parentSpanId', 'parent_span_id', path)
  const name = truncate(str(obj, 'name', 'name', path), DECODE_LIMITS.maxNameLength)
  const kind = enumValue(obj, 'kind', 'kind', path, KIND_NAMES)
  const startNs = int(obj, 'startTimeUnixNano', 'start_time_unix_nano', path)
  const endNs = int(obj, 'endTimeUnixNano', 'end_time_unix_nano', path)
  const attrs = attributes(obj, path, DECODE_LIMITS.maxAttributes)
  const statusValue = field(obj, 'status', 'status')
  const status = statusValue === undefined ? {} : object(statusValue, `${path}.status`)
  const statusCode = enumValue(status, 'code', 'code', `${path}.status`, STATUS_CODES)
  const statusMessage = truncate(str(status, 'message', 'message', `${path}.status`), DECODE_LIMITS.maxStringLength)
  return spanItem({ traceId, spanId, parentSpanId, name, kind, startNs, endNs, attrs, statusCode, statusMessage })
}

const SEVERITY_NAMES = ['SEVERITY_NUMBER_UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((s) => [s, `${s}2`, `${s}3`, `${s}4`].map((n) => `SEVERITY_NUMBER_${n}`))]

function logRecord(obj: JsonObject, path: string): ItemResult<DecodedLog> {
  const timeNs = int(obj, 'timeUnixNano', 'time_unix_nano', path)
  const observedNs = int(obj, 'observedTimeUnixNano', 'observed_time_unix_nano', path)
  const severityNumber = enumValue(obj, 'severityNumber', 'severity_number', path, SEVERITY_NAMES)
  const severityText = truncate(str(obj, 'severityText', 'severity_text', path), 64)
  const body = field(obj, 'body', 'body')
  // Not kept (aggregates only), but checked like any AnyValue.
  if (body !== undefined) anyValue(object(body, `${path}.body`), `${path}.body`, 1)
  attributes(obj, path, 0)
  return logItem(timeNs, observedNs, severityNumber, severityText, id(obj, 'traceId', 'trace_id', path), id(obj, 'spanId', 'span_id', path))
}
