/**
 * One webhook POST over node:http / node:https: no connection reuse, no redirects followed,
 * one deadline for the whole exchange, and a DNS guard so that a host name that resolves to
 * a link-local or cloud metadata address is refused at connect time (not only at
 * validation, which a DNS change could get around).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { isRefusedAddress } from '../../schema/webhooks.ts'

export interface PostOptions {
  headers: Record<string, string>
  body: string
  /** The whole exchange: connect, send, status line, and the response body. */
  timeoutMs: number
  /** Aborting ends the request at once (the notifier is stopping). */
  signal?: AbortSignal
}

export interface PostResult {
  statusCode: number
  /** The first bytes of the response body, for the delivery log. */
  snippet: string
}

/** Why a request got no HTTP answer. */
export class WebhookRequestError extends Error {
  override readonly name = 'WebhookRequestError'
  constructor(
    readonly kind: 'timeout' | 'network' | 'refused-address' | 'aborted',
    message: string,
  ) {
    super(message)
  }
}

const SNIPPET_BYTES = 300
/** Read at most this much of a response; the rest is discarded. */
const MAX_RESPONSE_BYTES = 64 * 1024

function refused(host: string): WebhookRequestError {
  return new WebhookRequestError('refused-address', `${host} resolves to a link-local or cloud metadata address; not sent`)
}

/** dns.lookup, minus every refused address; nothing left is an error. */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 4)
    const allowed = addresses.filter((a) => !isRefusedAddress(a.address))
    if (allowed.length === 0) return callback(refused(hostname), '', 4)
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed)
    const [first] = allowed as [LookupAddress]
    callback(null, first.address, first.family)
  })
}

function describeNetworkError(error: unknown, url: URL): string {
  const { code, message } = error as { code?: string; message?: string }
  const where = url.host
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (ECONNREFUSED)`
    case 'ECONNRESET':
      return `connection reset by ${where} (ECONNRESET)`
    case 'ENOTFOUND':
      return `host ${url.hostname} not found (ENOTFOUND)`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} unreachable (${code})`
    default:
      return `${code ? `${code}: ` : ''}${message ?? String(error)}`
  }
}

/** POSTs `body` to `url`; resolves with any HTTP answer, rejects with a WebhookRequestError. */
export function postWebhook(url: string, { headers, body, timeoutMs, signal }: PostOptions): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let target: URL
    try {
      target = new URL(url)
    } catch {
      reject(new WebhookRequestError('network', 'the subscription URL is not valid'))
      return
    }
    const host = target.hostname.replace(/^\[|\]$/g, '')
    if (isIP(host) !== 0 && isRefusedAddress(host)) {
      reject(refused(host))
      return
    }
    if (signal?.aborted) {
      reject(new WebhookRequestError('aborted', 'the notifier stopped before the attempt'))
      return
    }
    const payload = Buffer.from(body, 'utf8')
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest
    let settled = false
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      fn()
    }
    const req = send(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(payload.length) },
      agent: false,
      lookup: guardedLookup,
    })
    const timer = setTimeout(() => {
      const error = new WebhookRequestError('timeout', `no complete answer within ${timeoutMs} ms (timed out)`)
      finish(() => reject(error))
      req.destroy(error)
    }, timeoutMs)
    const onAbort = (): void => {
      const error = new WebhookRequestError('aborted', 'the notifier stopped during the attempt')
      finish(() => reject(error))
      req.destroy(error)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', (error) => {
      if (error instanceof WebhookRequestError) return finish(() => reject(error))
      finish(() => reject(new WebhookRequestError('network', describeNetworkError(error, target))))
    })
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_RESPONSE_BYTES) chunks.push(chunk)
        size += chunk.length
      })
      res.on('error', (error) => finish(() => reject(new WebhookRequestError('network', describeNetworkError(error, target)))))
      res.on('end', () => {
        const text = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8').replace(/\s+/g, ' ').trim()
        finish(() => resolve({ statusCode: res.statusCode ?? 0, snippet: text }))
      })
    })
    req.end(payload)
  })
}
