import { request, type Agent, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import { pipeline } from 'node:stream'
import { endToEndHeaders, hasRequestBody, upstreamRequestHeaders, withHeaders } from './headers.ts'

/** How one forwarded exchange ended. */
export type ForwardResult =
  | { kind: 'answered'; status: number }
  | { kind: 'failed'; reason: 'connection' | 'timeout'; error: Error }
  /** The client went away first; the upstream request was aborted. */
  | { kind: 'client-gone' }

export interface ForwardTarget {
  url: URL
  agent: Agent
  /** Longest the upstream may stay silent (before its headers, or between body chunks). */
  timeoutMs: number
  /** Added to the response, whether the upstream's or our own 502/504. */
  responseHeaders: OutgoingHttpHeaders
}

/** Upstream path for a request: the upstream URL's base path + the request's path and query. */
function upstreamPath(base: URL, requestUrl: string | undefined): string {
  let path = requestUrl ?? '/'
  if (!path.startsWith('/')) {
    // absolute-form (`GET http://host/x`): only its path and query are ours to forward
    try {
      const parsed = new URL(path)
      path = parsed.pathname + parsed.search
    } catch {
      path = `/${path}`
    }
  }
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname
  return prefix + path
}

function isReset(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET'
}

/**
 * Forwards one request to one upstream and streams the answer back; resolves (never
 * rejects) once the response has finished, failed, or the client left.
 *
 * Bodies stream both ways without buffering. The request body uses `pipe`, not
 * `pipeline`, on purpose: pipeline would destroy the client's request when the upstream
 * fails, taking the client's socket with it before we could answer 502. The response uses
 * `pipeline`, where destroying both sides on either error is exactly right.
 *
 * A body-less request that fails with ECONNRESET on a reused keep-alive socket is retried
 * once on a fresh one: the upstream closed an idle connection as we picked it, which says
 * nothing about the version's health and must not count against it.
 */
export function forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget): Promise<ForwardResult> {
  return new Promise((resolve) => {
    const withBody = hasRequestBody(req)
    const headers = upstreamRequestHeaders(req)
    const path = upstreamPath(target.url, req.url)
    const hostname = target.url.hostname.replace(/^\[(.*)\]$/, '$1') // IPv6 literal without brackets
    let settled = false
    let responded = false
    let retried = false
    let timer: NodeJS.Timeout | undefined
    let current: ClientRequest | undefined

    const settle = (result: ForwardResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(result)
    }

    const fail = (reason: 'connection' | 'timeout', error: Error): void => {
      if (settled) return
      settle({ kind: 'failed', reason, error })
      if (withBody) {
        // stop feeding the dead upstream and drain the rest, so the connection stays usable
        req.unpipe()
        req.resume()
      }
      if (responded || res.headersSent) {
        res.destroy() // headers are out: the only honest signal left is a cut response
        return
      }
      const status = reason === 'timeout' ? 504 : 502
      const text = reason === 'timeout' ? `upstream timed out after ${target.timeoutMs} ms\n` : `upstream unavailable: ${error.message}\n`
      res.writeHead(status, { ...target.responseHeaders, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    }

    const arm = (): void => {
      if (settled) return
      clearTimeout(timer)
      timer = setTimeout(() => {
        const error = new Error(`upstream timed out after ${target.timeoutMs} ms`)
        fail('timeout', error)
        current?.destroy(error)
      }, target.timeoutMs)
    }

    res.on('close', () => {
      if (res.writableFinished) return
      settle({ kind: 'client-gone' })
      current?.destroy()
    })

    const onResponse = (upstream: ClientRequest, upRes: IncomingMessage): void => {
      if (settled || upstream !== current) {
        upRes.destroy()
        return
      }
      responded = true
      arm()
      const status = upRes.statusCode ?? 502
      try {
        res.writeHead(status, upRes.statusMessage, withHeaders(endToEndHeaders(upRes), target.responseHeaders))
      } catch (error) {
        upRes.destroy()
        responded = false // nothing reached the client: answer 502 instead
        fail('connection', error instanceof Error ? error : new Error(String(error)))
        return
      }
      res.on('finish', () => settle({ kind: 'answered', status }))
      res.on('drain', arm)
      upRes.on('data', arm)
      upRes.on('close', () => {
        if (!upRes.complete) fail('connection', new Error('upstream closed the response early'))
      })
      pipeline(upRes, res, () => {
        // outcomes are settled by the listeners above; pipeline only tears both sides down
      })
    }

    const send = (): void => {
      const upstream = request({ hostname, port: target.url.port || 80, method: req.method, path, headers, agent: target.agent })
      current = upstream
      arm()
      upstream.on('response', (upRes) => onResponse(upstream, upRes))
      upstream.on('error', (error) => {
        if (settled || upstream !== current || responded) return
        if (!withBody && !retried && upstream.reusedSocket && isReset(error)) {
          retried = true
          send()
          return
        }
        fail('connection', error)
      })
      if (withBody) {
        req.on('data', arm) // an upload in progress is not a silent upstream
        req.pipe(upstream)
      } else {
        upstream.end()
      }
    }

    if (!withBody) req.resume()
    send()
  })
}
