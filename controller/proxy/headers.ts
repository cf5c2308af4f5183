import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1); never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

function isHopByHop(name: string, listed: Set<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || listed.has(name)
}

/** Header names a sender declared hop-by-hop in its own Connection header. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection
  if (!value) return new Set()
  return new Set(value.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean))
}

/**
 * The end-to-end headers of a message, from its raw header list so repeated headers
 * (several Set-Cookie lines, say) stay separate lines instead of being joined.
 */
export function endToEndHeaders(message: IncomingMessage): OutgoingHttpHeaders {
  const listed = connectionListed(message.headers)
  const out: Record<string, string | string[]> = {}
  const raw = message.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase()
    const value = raw[i + 1] ?? ''
    if (isHopByHop(name, listed)) continue
    const previous = out[name]
    if (previous === undefined) out[name] = value
    else if (Array.isArray(previous)) previous.push(value)
    else out[name] = [previous, value]
  }
  return out
}

/**
 * Headers for the upstream request: the client's end-to-end headers (Host kept, as Envoy
 * and Go's ReverseProxy do, so apps see the name users typed), plus X-Forwarded-*.
 * X-Forwarded-For is appended to; -Proto and -Host are kept when a proxy in front of us
 * already set them, since that proxy saw the original request and we did not.
 */
export function upstreamRequestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const headers = endToEndHeaders(req)
  const client = req.socket.remoteAddress ?? ''
  const prior = req.headers['x-forwarded-for']
  headers['x-forwarded-for'] = prior ? `${prior}, ${client}` : client
  headers['x-forwarded-proto'] ??= 'http'
  if (req.headers.host !== undefined) headers['x-forwarded-host'] ??= req.headers.host
  return headers
}

/** Whether a request carries a body to stream (else it is ended at once, and may be retried). */
export function hasRequestBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true
  const length = req.headers['content-length']
  return length !== undefined && length !== '0'
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
    try {
      return decodeURIComponent(value)
    } catch {
      return undefined // malformed: as good as absent
    }
  }
  return undefined
}

/** The Set-Cookie line that pins a browser to a version. */
export function stickyCookieLine(name: string, version: string): string {
  return `${name}=${encodeURIComponent(version)}; Path=/; HttpOnly; SameSite=Lax`
}

/** Single value of a request header (the first, when repeated). */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/** `extra` laid over `base`; Set-Cookie lines are added to the upstream's, never replace them. */
export function withHeaders(base: OutgoingHttpHeaders, extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...base }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) continue
    const previous = out[name]
    if (name === 'set-cookie' && previous !== undefined) out[name] = [previous, value].flat().map(String)
    else out[name] = value
  }
  return out
}
