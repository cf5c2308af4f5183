/**
 * The HTTP side of OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp): content
 * types, bounded body reading, gzip, and answers in the request's own encoding.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { encodeExportResponseProto, encodeStatusProto } from './otlp-proto.ts'

const gunzipAsync = promisify(gunzip)

export type Encoding = 'protobuf' | 'json'

/** A request that gets an error status: `status`, a message, and for 429/503 a Retry-After in seconds. */
export class OtlpHttpError extends Error {
  override readonly name = 'OtlpHttpError'
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message)
  }
}

/** The encoding a Content-Type names, or null (answered 415). */
export function encodingOf(contentType: string | undefined): Encoding | null {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf'
  if (type === 'application/json') return 'json'
  return null
}

/**
 * The body, at most `maxBytes` on the wire and `maxBytes` once decompressed (a small gzip
 * bomb must not grow into gigabytes). `reserve(n)` is asked before each chunk is kept and
 * refuses when too many bytes are in flight over all requests (backpressure).
 */
export async function readBody(req: IncomingMessage, maxBytes: number, reserve: (bytes: number) => boolean): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) throw new OtlpHttpError(413, `request body of ${declared} bytes is over the ${maxBytes}-byte limit (SENTRA_OTLP_MAX_BYTES)`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new OtlpHttpError(413, `request body is over the ${maxBytes}-byte limit (SENTRA_OTLP_MAX_BYTES)`)
    if (!reserve(chunk.length)) throw new OtlpHttpError(429, 'the OTLP receiver has too many bytes in flight; retry later', 1)
    chunks.push(chunk)
  }
  const body = Buffer.concat(chunks, size)
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (coding === 'identity' || coding === '') return body
  if (coding !== 'gzip') throw new OtlpHttpError(415, `Content-Encoding "${coding}" is not supported (use gzip or none)`)
  try {
    const inflated = await gunzipAsync(body, { maxOutputLength: maxBytes })
    if (!reserve(inflated.length)) throw new OtlpHttpError(429, 'the OTLP receiver has too many bytes in flight; retry later', 1)
    return inflated
  } catch (error) {
    if (error instanceof OtlpHttpError) throw error
    const code = (error as { code?: string }).code
    if (code === 'ERR_BUFFER_TOO_LARGE' || (error instanceof RangeError && /maxOutputLength|too large/i.test(error.message))) {
      throw new OtlpHttpError(413, `request body is over the ${maxBytes}-byte limit (SENTRA_OTLP_MAX_BYTES) once decompressed`)
    }
    throw new OtlpHttpError(400, `invalid gzip body: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** gRPC status codes for the google.rpc.Status of an error answer. */
function grpcCode(status: number): number {
  switch (status) {
    case 401:
      return 16 // UNAUTHENTICATED
    case 403:
      return 7 // PERMISSION_DENIED
    case 413:
    case 429:
      return 8 // RESOURCE_EXHAUSTED
    case 503:
      return 14 // UNAVAILABLE
    case 500:
      return 13 // INTERNAL
    default:
      return 3 // INVALID_ARGUMENT
  }
}

/** An error answer: a google.rpc.Status in the request's encoding (JSON when it had none we know). */
export function sendError(res: ServerResponse, encoding: Encoding | null, error: OtlpHttpError, extraHeaders: Record<string, string> = {}): void {
  const headers: Record<string, string> = { ...extraHeaders }
  if (error.retryAfterSeconds !== null) headers['retry-after'] = String(error.retryAfterSeconds)
  // Unread request bytes (an early 413/429) would otherwise be read into nowhere.
  if (error.status === 413 || error.status === 429) headers.connection = 'close'
  const code = grpcCode(error.status)
  if (encoding === 'protobuf') {
    const body = encodeStatusProto(code, error.message)
    res.writeHead(error.status, { ...headers, 'content-type': 'application/x-protobuf', 'content-length': String(body.length) })
    res.end(body)
    return
  }
  const body = JSON.stringify({ code, message: error.message })
  res.writeHead(error.status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}

/** 200 with an Export*ServiceResponse; partial_success only when something was rejected. */
export function sendExportResponse(res: ServerResponse, encoding: Encoding, signal: 'traces' | 'logs', rejected: number, errorMessage: string): void {
  if (encoding === 'protobuf') {
    const body = encodeExportResponseProto(rejected, errorMessage)
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': String(body.length) })
    res.end(body)
    return
  }
  const partial = signal === 'traces' ? { rejectedSpans: String(rejected), errorMessage } : { rejectedLogRecords: String(rejected), errorMessage }
  const body = JSON.stringify(rejected > 0 || errorMessage !== '' ? { partialSuccess: partial } : {})
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}
