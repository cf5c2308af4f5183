/**
 * Sending fuzz cases to a running server, over HTTP (fetch for GraphQL requests, node:http
 * for raw bodies whose headers and framing we control) and over graphql-ws, and judging
 * what comes back: a 5xx, an internal error, a dropped connection or no answer in time is a
 * finding; everything else (200 with errors, 400, 401, 404, 405, 406, 411, 413, 415) is an answer.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import type { Client } from 'graphql-ws'
import type { FuzzCase, GraphqlCase, RawCase } from './cases.ts'

export interface Outcome {
  status: number | null
  /** Whether a mutation was (possibly) executed: data came back with something in it. */
  accepted: boolean
  problem: string | null
  /** A short excerpt of the answer, for the failure message. */
  excerpt: string
}

const TIMEOUT_MS = 20_000
const STREAM_MS = 300

interface GraphErrorShape {
  message?: unknown
  extensions?: { code?: unknown }
}

/** The problems in a GraphQL response body, if any. */
export function judgeBody(body: unknown): string | null {
  const bodies = Array.isArray(body) ? body : [body]
  for (const item of bodies) {
    if (item === null || typeof item !== 'object') continue
    const errors = (item as { errors?: unknown }).errors
    if (!Array.isArray(errors)) continue
    for (const error of errors as GraphErrorShape[]) {
      const message = typeof error?.message === 'string' ? error.message : ''
      if (error?.extensions?.code === 'INTERNAL_SERVER_ERROR') return `internal error: ${message}`
      if (/unexpected error/i.test(message)) return `unexpected error: ${message}`
    }
  }
  return null
}

/**
 * Whether a response says a mutation ran: any non-null data, or an error inside the selection
 * of a root field's result (path longer than one: the field resolved, then a sub-field
 * failed, and a non-null type nulled all of `data`). Standard GraphQL: the write happened.
 */
export function acceptedFrom(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false
  const { data, errors } = body as { data?: unknown; errors?: unknown }
  if (data !== null && data !== undefined && typeof data === 'object' && Object.values(data).some((v) => v !== null)) return true
  return Array.isArray(errors) && errors.some((e) => Array.isArray((e as { path?: unknown })?.path) && ((e as { path: unknown[] }).path.length > 1))
}

function excerptOf(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

function judgeHttp(status: number, text: string, contentType: string | null, method = 'POST'): Outcome {
  let body: unknown = null
  if (contentType?.includes('json') && method !== 'HEAD') {
    try {
      body = JSON.parse(text)
    } catch {
      return { status, accepted: false, problem: `a ${status} answer declared JSON but was not`, excerpt: excerptOf(text) }
    }
  } else if (contentType?.includes('event-stream') || contentType?.includes('multipart')) {
    // Streamed results: judge every JSON part inside.
    const parts = text.split(/\n|\r\n/).filter((l) => l.startsWith('data:') || l.startsWith('{')).map((l) => l.replace(/^data:\s*/, ''))
    const parsed = parts.flatMap((p) => {
      try {
        return [JSON.parse(p) as unknown]
      } catch {
        return []
      }
    })
    body = parsed
  }
  let problem: string | null = status >= 500 ? `HTTP ${status}` : null
  problem ??= judgeBody(body)
  const accepted = Array.isArray(body) ? body.some(acceptedFrom) : acceptedFrom(body)
  return { status, accepted, problem, excerpt: excerptOf(text) }
}

export async function sendGraphql(graphqlUrl: string, token: string, c: GraphqlCase): Promise<Outcome> {
  const payload: Record<string, unknown> = { query: c.query }
  if (c.variables !== undefined) payload.variables = c.variables
  if (c.operationName !== undefined) payload.operationName = c.operationName
  if (c.extensions !== undefined) payload.extensions = c.extensions
  let response: Response
  try {
    response = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch (error) {
    return { status: null, accepted: false, problem: `no answer: ${describe(error)}`, excerpt: '' }
  }
  const text = await response.text().catch((error: unknown) => `<body failed: ${describe(error)}>`)
  return judgeHttp(response.status, text, response.headers.get('content-type'))
}

/** A raw request; answers to bodies over the limit may arrive before the body is sent (then a reset is fine). */
export function sendRaw(baseUrl: string, c: RawCase): Promise<Outcome> {
  const url = new URL(baseUrl)
  const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, 'utf8')
  const oversized = body !== undefined && body.length > 1024 * 1024
  return new Promise((resolve) => {
    let settled = false
    const finish = (outcome: Outcome): void => {
      if (settled) return
      settled = true
      resolve(outcome)
    }
    const headers: Record<string, string | number> = { ...c.headers }
    if (body !== undefined && !c.chunked) headers['content-length'] = body.length
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = []
      const judge = (): Outcome => judgeHttp(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), res.headers['content-type'] ?? null, c.method)
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => finish(judge()))
      res.on('error', (error) => finish({ status: res.statusCode ?? null, accepted: false, problem: `answer broke off: ${describe(error)}`, excerpt: '' }))
      const type = res.headers['content-type'] ?? ''
      if (type.includes('event-stream') || type.includes('multipart')) {
        // A subscription streamed over HTTP (SSE or multipart) lasts until the client leaves: judge its start.
        setTimeout(() => {
          finish(judge())
          res.destroy()
        }, STREAM_MS)
      }
    }
    let req: ClientRequest
    try {
      req = httpRequest({ host: url.hostname, port: url.port, method: c.method, path: c.path, headers, timeout: TIMEOUT_MS, agent: false }, onResponse)
    } catch (error) {
      // node:http refuses to send it (a header it will not write): nothing reached the server.
      finish({ status: null, accepted: false, problem: null, excerpt: `not sent: ${describe(error)}` })
      return
    }
    req.on('timeout', () => {
      req.destroy()
      finish({ status: null, accepted: false, problem: `no answer in ${TIMEOUT_MS} ms`, excerpt: '' })
    })
    req.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code
      if (oversized && (code === 'ECONNRESET' || code === 'EPIPE')) finish({ status: null, accepted: false, problem: null, excerpt: `(${code} while sending an oversized body)` })
      else finish({ status: null, accepted: false, problem: `connection failed: ${describe(error)}`, excerpt: '' })
    })
    if (body !== undefined) req.write(body)
    req.end()
  })
}

/**
 * One operation over graphql-ws: the first result (or error), then unsubscribe. A subscription
 * may stay silent (`quietMs`); a query or mutation is waited for, so a mutation never finishes
 * on the server after the client moved on (and the store check blamed the next case).
 */
export function sendWs(client: Client, c: GraphqlCase, quietMs = 300): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false
    let dispose: () => void = () => undefined
    const finish = (outcome: Outcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      dispose()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({ status: null, accepted: false, problem: null, excerpt: '(no event: a quiet subscription)' }), quietMs)
    const payload = {
      query: c.query,
      ...(c.variables !== undefined ? { variables: c.variables as Record<string, unknown> } : {}),
      ...(typeof c.operationName === 'string' ? { operationName: c.operationName } : {}),
      ...(c.extensions !== undefined && c.extensions !== null && typeof c.extensions === 'object' && !Array.isArray(c.extensions) ? { extensions: c.extensions as Record<string, unknown> } : {}),
    }
    dispose = client.subscribe(payload, {
      next: (value) => finish({ status: null, accepted: acceptedFrom(value), problem: judgeBody(value), excerpt: excerptOf(JSON.stringify(value)) }),
      error: (error) => {
        if (Array.isArray(error)) return finish({ status: null, accepted: false, problem: judgeBody({ errors: error }), excerpt: excerptOf(JSON.stringify(error)) })
        const code = (error as { code?: unknown })?.code
        // The socket closed under us: 4400 (a message we sent was bad) is an answer; 1011/4500 are the server failing.
        const fatal = code === 1011 || code === 4500 || code === 1006
        finish({ status: null, accepted: false, problem: fatal ? `socket closed with ${String(code)}: ${String((error as { reason?: unknown }).reason ?? '')}` : null, excerpt: `closed ${String(code)}` })
      },
      complete: () => finish({ status: null, accepted: false, problem: null, excerpt: '(complete)' }),
    })
  })
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause
    return `${error.name}: ${error.message}${cause instanceof Error ? ` (${cause.message})` : ''}`
  }
  return String(error)
}

/** A case as something a person can paste to reproduce it. */
export function showCase(c: FuzzCase, limit = 4000): string {
  const text = JSON.stringify(c.request, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v))
  return `#${c.index} (${c.family}, case seed ${c.seed}${c.note ? `, ${c.note}` : ''}): ${text.length > limit ? `${text.slice(0, limit)}… (${text.length} chars)` : text}`
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  })
  await Promise.all(workers)
}
