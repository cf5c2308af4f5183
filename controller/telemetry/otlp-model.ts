/**
 * What the OTLP decoders (otlp-proto.ts, otlp-json.ts) hand to the receiver: the few fields
 * Sentra uses, already checked and capped, the same whatever the encoding. Ids are lowercase
 * hex, times epoch milliseconds.
 */

export type AttributeValue = string | number | boolean

/** The resource attributes that attribute telemetry (DESIGN.md, "OpenTelemetry conventions"). */
export interface ResourceInfo {
  /** service.name: the application. */
  service: string | null
  /** service.version: the version. */
  version: string | null
  /** deployment.environment.name (or the older deployment.environment). */
  environment: string | null
}

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const
export type SpanKindName = (typeof SPAN_KINDS)[number]

/** Span status codes (opentelemetry.proto.trace.v1.Status.StatusCode). */
export const STATUS_UNSET = 0
export const STATUS_OK = 1
export const STATUS_ERROR = 2

export interface DecodedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | null
  name: string
  kind: SpanKindName
  startMs: number
  endMs: number
  attributes: Record<string, AttributeValue>
  statusCode: number
  statusMessage: string
}

export interface DecodedLog {
  /** time_unix_nano, else observed_time_unix_nano; null when neither is set. */
  timeMs: number | null
  severityNumber: number
  severityText: string
  traceId: string | null
  spanId: string | null
}

/** The items of one ResourceSpans / ResourceLogs, with the ones refused and why. */
export interface ResourceBatch<T> {
  resource: ResourceInfo
  items: T[]
  /** Items dropped while decoding (bad ids, ...): counted as rejected in the response. */
  rejected: number
  /** The first reason an item was rejected, for the response's error_message. */
  problem: string | null
}

export type DecodedTraces = ResourceBatch<DecodedSpan>[]
export type DecodedLogs = ResourceBatch<DecodedLog>[]

/** A payload that cannot be decoded at all: answered 400 with this message. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError'
}

/**
 * Caps applied while decoding, so a hostile payload cannot make us build deep or huge
 * values: AnyValue nesting (arrays and maps inside attributes or a log body) past
 * MAX_ANY_DEPTH fails the whole request; attribute keys and string values are truncated;
 * attributes past MAX_ATTRIBUTES per span are dropped.
 */
export const DECODE_LIMITS = {
  maxAnyDepth: 8,
  maxAttributes: 32,
  maxKeyLength: 128,
  maxStringLength: 256,
  maxNameLength: 256,
} as const

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

const HEX = /^[0-9a-f]*$/

/**
 * An id's problem, or null when it is fine: `bytes` long, not all zeros. OTLP ids are 16
 * bytes (trace) and 8 bytes (span); a receiver must not guess at others.
 */
export function idProblem(hex: string, bytes: number, what: string): string | null {
  if (hex.length !== bytes * 2 || !HEX.test(hex)) return `${what} must be ${bytes} bytes (${bytes * 2} hex characters), got ${hex.length % 2 === 0 && HEX.test(hex) ? `${hex.length / 2} bytes` : JSON.stringify(truncate(hex, 40))}`
  if (/^0+$/.test(hex)) return `${what} is all zeros (invalid)`
  return null
}

/** Reads service.name, service.version and the environment from resource attributes. */
export function resourceInfo(attributes: ReadonlyMap<string, AttributeValue>): ResourceInfo {
  const text = (key: string): string | null => {
    const value = attributes.get(key)
    return typeof value === 'string' && value.length > 0 ? value : null
  }
  return {
    service: text('service.name'),
    version: text('service.version'),
    environment: text('deployment.environment.name') ?? text('deployment.environment'),
  }
}

/** Severity numbers 17-24 are ERROR..FATAL4 (opentelemetry.proto.logs.v1.SeverityNumber). */
export const SEVERITY_ERROR = 17

/** A log record counts as an error at severity number ERROR (17) or above, or when its text says ERROR or FATAL. */
export function isErrorLog(log: Pick<DecodedLog, 'severityNumber' | 'severityText'>): boolean {
  if (log.severityNumber >= SEVERITY_ERROR) return true
  return /^(error|fatal|critical|crit|alert|emerg(ency)?)\d?$/i.test(log.severityText.trim())
}
