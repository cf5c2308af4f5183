/**
 * A strict parser for HTTP/1.x message heads (RFC 9112), for the proxy's byte-level data
 * path. Node's llhttp is not public, and node:http's IncomingMessage/ServerResponse cost
 * more per request than the routing itself, so the proxy parses only heads and moves
 * bodies as bytes. Strict on purpose: whatever the proxy and an upstream could read
 * differently (request smuggling) is refused, not guessed at:
 * - head size and header count are capped (431 for requests);
 * - lines end with CRLF; a bare CR or LF, a NUL or another control character is refused;
 * - obs-fold (a header line starting with a space or tab) is refused (RFC 9112 §5.2);
 * - whitespace between a header name and its colon is refused (RFC 9112 §5.1);
 * - Content-Length together with Transfer-Encoding, a repeated or non-numeric
 *   Content-Length, and any transfer coding other than a lone `chunked` are refused.
 */

/** Longest head accepted (request line or status line + headers), node:http's default. */
export const MAX_HEAD_BYTES = 16 * 1024
/** Most header lines accepted in one head. */
export const MAX_HEADERS = 100

/** How a message's body is delimited. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' }

/** A head the proxy refuses; `status` is the answer a client gets for a bad request head. */
export class HeadError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'HeadError'
    this.status = status
  }
}

export interface MessageHead {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number
  /** Header names as sent (for forwarding) and lower-cased (for lookups), and values, index-aligned. */
  names: string[]
  lowerNames: string[]
  values: string[]
  /** Lower-cased tokens of the Connection header(s). */
  connection: string[]
  /** Bytes of the head, final CRLFCRLF included. */
  headBytes: number
}

export interface RequestHead extends MessageHead {
  method: string
  target: string
  framing: Framing
  /** Whether the client lets the connection stay open after this exchange. */
  keepAlive: boolean
}

export interface ResponseHead extends MessageHead {
  status: number
  reason: string
  /** How the body is delimited: `none` for HEAD/1xx/204/304, `close` when neither length nor chunked. */
  framing: Framing
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** A header value: visible ASCII, obs-text, space and tab; no other control character. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** request-target: visible ASCII only (no space, control or non-ASCII byte). */
const TARGET = /^[\x21-\x7e]+$/
const DIGITS = /^[0-9]{1,15}$/
const CRLF2 = Buffer.from('\r\n\r\n', 'latin1')

/**
 * Index just past the head's final CRLFCRLF in `buffer`, or -1 while it is incomplete.
 * Throws (431/502 per `tooLarge`) once more than MAX_HEAD_BYTES arrived without an end.
 */
export function headEnd(buffer: Buffer, tooLarge: number): number {
  const at = buffer.indexOf(CRLF2)
  if (at >= 0) {
    if (at + 4 > MAX_HEAD_BYTES) throw new HeadError(tooLarge, `head longer than ${MAX_HEAD_BYTES} bytes`)
    return at + 4
  }
  if (buffer.length > MAX_HEAD_BYTES) throw new HeadError(tooLarge, `head longer than ${MAX_HEAD_BYTES} bytes`)
  return -1
}

const isBlank = (code: number): boolean => code === 0x20 || code === 0x09

/** Splits a head (without its final CRLFCRLF) into its first line and validated header fields. */
function fields(text: string, bad: number, tooMany: number): { first: string; head: Omit<MessageHead, 'minor' | 'headBytes'> } {
  const lines = text.split('\r\n')
  const first = lines[0] ?? ''
  const names: string[] = []
  const lowerNames: string[] = []
  const values: string[] = []
  const connection: string[] = []
  if (lines.length - 1 > MAX_HEADERS) throw new HeadError(tooMany, `more than ${MAX_HEADERS} header lines`)
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string
    const first = line.charCodeAt(0)
    if (first === 0x20 || first === 0x09) throw new HeadError(bad, 'obsolete line folding in a header')
    const colon = line.indexOf(':')
    if (colon <= 0) throw new HeadError(bad, `malformed header line ${JSON.stringify(line.slice(0, 40))}`)
    const name = line.slice(0, colon)
    if (!TOKEN.test(name)) throw new HeadError(bad, `invalid header name ${JSON.stringify(name.slice(0, 40))}`)
    let from = colon + 1
    let to = line.length
    while (from < to && isBlank(line.charCodeAt(from))) from++
    while (to > from && isBlank(line.charCodeAt(to - 1))) to--
    const value = line.slice(from, to)
    if (!FIELD_VALUE.test(value)) throw new HeadError(bad, `invalid character in header ${name}`)
    const lower = name.toLowerCase()
    names.push(name)
    lowerNames.push(lower)
    values.push(value)
    if (lower === 'connection') for (const token of value.split(',')) if (token.trim()) connection.push(token.trim().toLowerCase())
  }
  return { first, head: { names, lowerNames, values, connection } }
}

/** The text of a head; a CR or LF anywhere but in a CRLF pair is refused. */
function headText(buffer: Buffer, end: number, bad: number): string {
  const text = buffer.toString('latin1', 0, end - 4)
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 2)) if (text.charCodeAt(i + 1) !== 0x0a) throw new HeadError(bad, 'bare CR in head')
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) if (text.charCodeAt(i - 1) !== 0x0d) throw new HeadError(bad, 'bare LF in head')
  if (text.includes('\0')) throw new HeadError(bad, 'NUL in head')
  return text
}

function versionMinor(version: string, bad: number): number {
  if (version === 'HTTP/1.1') return 1
  if (version === 'HTTP/1.0') return 0
  if (/^HTTP\/[0-9]\.[0-9]$/.test(version)) throw new HeadError(bad === 400 ? 505 : bad, `unsupported version ${version}`)
  throw new HeadError(bad, `malformed version ${JSON.stringify(version.slice(0, 20))}`)
}

/** Body framing from Content-Length / Transfer-Encoding (RFC 9112 §6.1–6.3); refuses every ambiguous case. */
function framingOf(head: Omit<MessageHead, 'minor' | 'headBytes'>, bad: number): Framing | { kind: 'coded' } {
  let length: string | undefined
  let coding: string[] | undefined
  for (let i = 0; i < head.lowerNames.length; i++) {
    const name = head.lowerNames[i]
    if (name === 'content-length') {
      if (length !== undefined) throw new HeadError(bad, 'repeated Content-Length')
      length = head.values[i] as string
      if (!DIGITS.test(length)) throw new HeadError(bad, `invalid Content-Length ${JSON.stringify(length.slice(0, 20))}`)
    } else if (name === 'transfer-encoding') {
      coding ??= []
      for (const token of (head.values[i] as string).split(',')) coding.push(token.trim().toLowerCase())
    }
  }
  if (coding !== undefined) {
    if (length !== undefined) throw new HeadError(bad, 'both Content-Length and Transfer-Encoding')
    if (coding.length === 1 && coding[0] === 'chunked') return { kind: 'chunked' }
    return { kind: 'coded' }
  }
  if (length !== undefined) return { kind: 'length', length: Number(length) }
  return { kind: 'none' }
}

/** Parses the request head in `buffer[0, end)` (`end` from `headEnd`). */
export function parseRequestHead(buffer: Buffer, end: number): RequestHead {
  const { first, head } = fields(headText(buffer, end, 400), 400, 431)
  const parts = first.split(' ')
  if (parts.length !== 3) throw new HeadError(400, `malformed request line ${JSON.stringify(first.slice(0, 60))}`)
  const [method, target, version] = parts as [string, string, string]
  if (!TOKEN.test(method)) throw new HeadError(400, `invalid method ${JSON.stringify(method.slice(0, 20))}`)
  if (!TARGET.test(target)) throw new HeadError(400, 'invalid request target')
  const minor = versionMinor(version, 400)
  const framing = framingOf(head, 400)
  if (framing.kind === 'coded') throw new HeadError(minor === 0 ? 400 : 501, 'unsupported transfer coding (only a lone "chunked" is accepted)')
  if (framing.kind === 'chunked' && minor === 0) throw new HeadError(400, 'Transfer-Encoding in an HTTP/1.0 request')
  const keepAlive = minor === 1 ? !head.connection.includes('close') : head.connection.includes('keep-alive') && !head.connection.includes('close')
  // an explicit literal, not a spread: V8 copies a spread object along a slow path (~40 µs here)
  return { names: head.names, lowerNames: head.lowerNames, values: head.values, connection: head.connection, method, target, minor, framing, keepAlive, headBytes: end }
}

/**
 * Parses an upstream's response head. Errors use status 502: a malformed answer is the
 * version's failure. `requestMethod` decides framing: an answer to HEAD has no body.
 */
export function parseResponseHead(buffer: Buffer, end: number, requestMethod: string): ResponseHead {
  const { first, head } = fields(headText(buffer, end, 502), 502, 502)
  const space = first.indexOf(' ')
  const version = first.slice(0, space)
  const minor = versionMinor(version, 502)
  const code = first.slice(space + 1, space + 4)
  if (space < 0 || !/^[1-9][0-9]{2}$/.test(code) || (first.length > space + 4 && first[space + 4] !== ' ')) throw new HeadError(502, `malformed status line ${JSON.stringify(first.slice(0, 60))}`)
  const status = Number(code)
  const reason = first.slice(space + 5)
  if (!FIELD_VALUE.test(reason)) throw new HeadError(502, 'invalid character in reason phrase')
  const declared = framingOf(head, 502)
  let framing: Framing
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) framing = { kind: 'none' }
  else if (declared.kind === 'coded') framing = { kind: 'close' } // RFC 9112 §6.3 (4): read until close
  else if (declared.kind === 'none') framing = { kind: 'close' }
  else framing = declared
  return { names: head.names, lowerNames: head.lowerNames, values: head.values, connection: head.connection, status, reason, minor, framing, headBytes: end }
}
