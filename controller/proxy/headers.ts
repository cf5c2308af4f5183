import type { MessageHead, RequestHead, ResponseHead } from './http-head.ts'

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1); never forwarded.
 * The proxy writes its own framing (Transfer-Encoding) and Connection headers per hop.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

/**
 * Whether header `i` of `head` is hop-by-hop: listed above, `proxy-*`, or named in the
 * sender's own Connection header. Content-Length is never dropped that way: it frames the
 * body we forward verbatim, and dropping it would let a sender desynchronise the hops.
 */
function isHopByHop(head: MessageHead, i: number): boolean {
  const name = head.lowerNames[i] as string
  if (HOP_BY_HOP.has(name) || name.startsWith('proxy-')) return true
  return head.connection.length > 0 && name !== 'content-length' && head.connection.includes(name)
}

/** First value of header `lowerName`, or undefined. */
export function headerValue(head: MessageHead, lowerName: string): string | undefined {
  const at = head.lowerNames.indexOf(lowerName)
  return at < 0 ? undefined : head.values[at]
}

/** Longest keep-alive hint taken from an upstream: a day (beyond it the pool's own idle timeout rules anyway). */
const MAX_KEEP_ALIVE_SECONDS = 86_400

/**
 * The idle time an upstream announced with `Keep-Alive: timeout=N` (RFC 9112 leaves the
 * header to the hop; servers such as Node's send it to say when they close an idle
 * connection), in ms, or null when absent or not a whole number of seconds. The first
 * `timeout` parameter of the first Keep-Alive header counts; names are case-insensitive.
 */
export function keepAliveTimeoutMs(head: MessageHead): number | null {
  const value = headerValue(head, 'keep-alive')
  if (value === undefined) return null
  for (const part of value.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim().toLowerCase() !== 'timeout') continue
    const text = part.slice(eq + 1).trim()
    if (!/^\d{1,6}$/.test(text)) return null
    return Math.min(Number(text), MAX_KEEP_ALIVE_SECONDS) * 1000
  }
  return null
}

export interface UpstreamRequestInput {
  head: RequestHead
  path: string
  clientAddress: string
}

/**
 * The request head sent upstream: the client's end-to-end headers as sent (names, order,
 * repeats; Host kept, as Envoy and Go's ReverseProxy do, so apps see the name users typed),
 * plus X-Forwarded-*. X-Forwarded-For is appended to; -Proto and -Host are kept when a proxy
 * in front of us already set them, since that proxy saw the original request and we did not.
 * An HTTP/1.0 client's request goes up as HTTP/1.0, so the answer needs no chunked decoding.
 */
export function upstreamRequestHead({ head, path, clientAddress }: UpstreamRequestInput): string {
  let out = `${head.method} ${path} HTTP/1.${head.minor}\r\n`
  let forwardedFor = ''
  let proto = false
  let forwardedHost = false
  let host: string | undefined
  for (let i = 0; i < head.names.length; i++) {
    if (isHopByHop(head, i)) continue
    const name = head.lowerNames[i] as string
    const value = head.values[i] as string
    if (name === 'x-forwarded-for') {
      forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value
      continue
    }
    if (name === 'x-forwarded-proto') proto = true
    else if (name === 'x-forwarded-host') forwardedHost = true
    else if (name === 'host' && host === undefined) host = value
    out += `${head.names[i]}: ${value}\r\n`
  }
  out += `x-forwarded-for: ${forwardedFor ? `${forwardedFor}, ${clientAddress}` : clientAddress}\r\n`
  if (!proto) out += 'x-forwarded-proto: http\r\n'
  if (!forwardedHost && host !== undefined) out += `x-forwarded-host: ${host}\r\n`
  if (head.framing.kind === 'chunked') out += 'transfer-encoding: chunked\r\n'
  return `${out}\r\n`
}

export interface ClientResponseInput {
  head: ResponseHead
  version: string
  versionHeader: string
  /** A Set-Cookie line to add next to the upstream's own, or null. */
  setCookie: string | null
  /** Tell the client the connection closes after this answer. */
  close: boolean
  /** Else how long (s) it may stay idle before we close it, so a client does not race our close. */
  idleSeconds: number
}

/** The response head sent to the client: the upstream's end-to-end headers, ours, and framing. */
export function clientResponseHead({ head, version, versionHeader, setCookie, close, idleSeconds }: ClientResponseInput): string {
  let out = `HTTP/1.1 ${head.status} ${head.reason}\r\n`
  for (let i = 0; i < head.names.length; i++) {
    if (isHopByHop(head, i) || head.lowerNames[i] === versionHeader) continue
    out += `${head.names[i]}: ${head.values[i]}\r\n`
  }
  out += `${versionHeader}: ${version}\r\n`
  if (setCookie !== null) out += `set-cookie: ${setCookie}\r\n`
  if (head.status >= 200 && head.framing.kind === 'chunked') out += 'transfer-encoding: chunked\r\n'
  if (close) out += 'connection: close\r\n'
  else if (head.status >= 200) out += `keep-alive: timeout=${idleSeconds}\r\n`
  return `${out}\r\n`
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

/** Upstream path for a request: the upstream URL's base path + the request's path and query. */
export function upstreamPath(basePath: string, target: string): string {
  let path = target
  if (!path.startsWith('/')) {
    // absolute-form (`GET http://host/x`): only its path and query are ours to forward
    try {
      const parsed = new URL(path)
      path = parsed.pathname + parsed.search
    } catch {
      path = `/${path}`
    }
  }
  if (basePath === '/' || basePath === '') return path
  const prefix = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath
  return prefix + path
}
