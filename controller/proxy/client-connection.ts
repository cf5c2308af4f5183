import type { Socket } from 'node:net'
import { BodyReader } from './body-reader.ts'
import { clientResponseHead, headerValue, keepAliveTimeoutMs, readCookie, stickyCookieLine, upstreamPath, upstreamRequestHead } from './headers.ts'
import { HeadError, headEnd, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './http-head.ts'
import type { RedMetrics } from './red-metrics.ts'
import { chooseUpstream } from './routing.ts'
import type { UpstreamOwner, UpstreamPool, UpstreamSocket } from './upstream-pool.ts'

/** An upstream with its address worked out once, when the routes are set. */
export interface ResolvedUpstream {
  version: string
  url: string
  /** host:port, the pool's key. */
  key: string
  host: string
  port: number
  basePath: string
}

export interface ResolvedRoutes {
  stable: ResolvedUpstream | null
  canary: ResolvedUpstream | null
  weight: number
}

/** What every connection of one proxy shares. */
export interface ProxyContext {
  routes(): ResolvedRoutes
  readonly pool: UpstreamPool
  readonly metrics: RedMetrics
  readonly random: () => number
  readonly stickyCookie: string | null
  /** Lower-cased. */
  readonly canaryHeader: string
  readonly versionHeader: string
  readonly timeoutMs: number
  /** Longest a client may take to send a whole request head. */
  readonly headTimeoutMs: number
  /** Idle time allowed between requests (the client socket's timeout), announced in Keep-Alive. */
  readonly idleSeconds: number
}

/** Where one exchange is. */
const Phase = { Head: 0, Waiting: 1, Upstream: 2, Closed: 3 } as const
type Phase = (typeof Phase)[keyof typeof Phase]

const EMPTY = Buffer.alloc(0)
const CR = 0x0d
const LF = 0x0a

const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported' }

/**
 * One client connection: reads request heads, routes each request, and moves its bytes to
 * an upstream connection and the answer's bytes back, one exchange at a time (a pipelined
 * request waits in the buffer until the one before it is answered). Bodies are forwarded
 * verbatim; only heads are parsed and rewritten. All per-request state lives in fields of
 * this object, reset between exchanges, so a request allocates no closures or listeners.
 *
 * Exchange outcomes, recorded once per request in the proxy's RED metrics: the upstream's
 * status; a connection failure or malformed answer (502) or silence (504) counted as the
 * version's failure; a client that left first (499, a request but not an error).
 */
export class ClientConnection implements UpstreamOwner {
  readonly #socket: Socket
  readonly #ctx: ProxyContext
  #phase: Phase = Phase.Head
  /** Bytes read but not yet consumed: a partial head, body bytes waiting for an upstream, or a pipelined request. */
  #buffer: Buffer = EMPTY
  #headStartedAt = 0

  // per exchange
  #request: RequestHead | null = null
  #requestBody: BodyReader | null = null
  #requestHead = ''
  #target: ResolvedUpstream | null = null
  #setCookie: string | null = null
  #started = 0
  #upstream: UpstreamSocket | null = null
  #responseBuffer: Buffer = EMPTY
  #response: ResponseHead | null = null
  #responseBody: BodyReader | null = null
  /** The final response head went to the client. */
  #responded = false
  /** The outcome is recorded and the answer (ours or the upstream's) is complete. */
  #settled = false
  #retried = false
  #closeAfter = false

  constructor(socket: Socket, ctx: ProxyContext) {
    this.#socket = socket
    this.#ctx = ctx
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('drain', () => {
      if (this.#upstream) resume(this.#upstream.socket)
    })
    socket.on('timeout', () => this.#onIdle())
    socket.on('error', () => this.#onGone())
    socket.on('close', () => this.#onGone())
    socket.on('end', () => this.#onGone())
  }

  // ---- client side -------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#phase === Phase.Closed) return
    if (this.#phase === Phase.Upstream && this.#requestBody && !this.#requestBody.done && this.#buffer.length === 0) {
      this.#feedBody(chunk) // the hot path of an upload: no buffering
      return
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    this.#drive()
  }

  /** Consumes what the buffer allows in the current phase. */
  #drive(): void {
    if (this.#phase === Phase.Head) this.#readHead()
    else if (this.#phase === Phase.Upstream && this.#requestBody && !this.#requestBody.done && this.#buffer.length > 0) {
      const pending = this.#buffer
      this.#buffer = EMPTY
      this.#feedBody(pending)
    }
    // bytes for later (a body while we wait for a connection, a pipelined request): past a
    // bound, stop reading until the current exchange catches up
    if (this.#phase !== Phase.Head && this.#buffer.length > 64 * 1024) this.#socket.pause()
  }

  /** Request body bytes: forwarded to the upstream (or dropped after a failure); the rest is the next request. */
  #feedBody(chunk: Buffer): void {
    const body = this.#requestBody as BodyReader
    let end: number
    try {
      end = body.consume(chunk, 0)
    } catch (error) {
      // a malformed chunked upload: we no longer know where the next request starts
      this.#closeAfter = true
      if (this.#settled) this.#cut()
      else this.#fail('bad-request', error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (end < chunk.length) this.#buffer = this.#buffer.length === 0 ? chunk.subarray(end) : Buffer.concat([chunk.subarray(end), this.#buffer])
    if (!this.#settled && this.#upstream && end > 0) {
      const more = this.#upstream.socket.write(end === chunk.length ? chunk : chunk.subarray(0, end))
      if (!more) this.#socket.pause() // resumed by the upstream's 'drain'
    }
    if (body.done && this.#settled) this.#next()
  }

  #readHead(): void {
    let buffer = this.#buffer
    // empty lines before a request line are tolerated (RFC 9112 §2.2), e.g. a body's extra CRLF
    let skip = 0
    while (buffer[skip] === CR && buffer[skip + 1] === LF) skip += 2
    if (skip > 0) buffer = this.#buffer = buffer.subarray(skip)
    if (buffer.length === 0) return
    if (this.#headStartedAt === 0) this.#headStartedAt = Date.now()
    let head: RequestHead
    try {
      const end = headEnd(buffer, 431)
      if (end < 0) {
        if (Date.now() - this.#headStartedAt > this.#ctx.headTimeoutMs) this.#refuse(408, 'request head took too long')
        return
      }
      head = parseRequestHead(buffer, end)
    } catch (error) {
      const refused = error instanceof HeadError ? error : new HeadError(400, String(error))
      this.#refuse(refused.status, refused.message)
      return
    }
    this.#headStartedAt = 0
    this.#buffer = buffer.length === head.headBytes ? EMPTY : buffer.subarray(head.headBytes)
    this.#start(head)
  }

  /** A request we cannot read: answer, and close (we no longer know where the next one starts). */
  #refuse(status: number, message: string): void {
    this.#phase = Phase.Closed
    const text = `${message}\n`
    this.#socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`, 'utf8')
  }

  #start(head: RequestHead): void {
    const ctx = this.#ctx
    this.#started = performance.now()
    this.#request = head
    this.#requestBody = head.framing.kind === 'none' ? null : new BodyReader(head.framing, 400)
    this.#responded = false
    this.#settled = false
    this.#retried = false
    this.#response = null
    this.#responseBody = null
    this.#responseBuffer = EMPTY
    this.#closeAfter = !head.keepAlive || head.minor === 0
    if (head.method === 'CONNECT') {
      this.#closeAfter = true
      this.#local(405, 'CONNECT is not supported\n', null)
      return
    }
    const routes = ctx.routes() // one snapshot per request: later changes do not move it
    const sticky = ctx.stickyCookie !== null && routes.stable !== null && routes.canary !== null
    const choice = chooseUpstream(
      routes,
      { canaryHeader: headerValue(head, ctx.canaryHeader), stickyVersion: sticky && ctx.stickyCookie ? readCookie(cookies(head), ctx.stickyCookie) : undefined },
      ctx.random,
      sticky,
    )
    if (!choice) {
      this.#local(503, 'no upstream: this application has no version to serve yet\n', null, 'retry-after: 1\r\n')
      return
    }
    const target = choice.upstream
    this.#target = target
    this.#setCookie = choice.stick && ctx.stickyCookie ? stickyCookieLine(ctx.stickyCookie, target.version) : null
    this.#requestHead = upstreamRequestHead({ head, path: upstreamPath(target.basePath, head.target), clientAddress: this.#socket.remoteAddress ?? '' })
    this.#phase = Phase.Waiting
    ctx.pool.acquire(target.key, target.host, target.port, this)
  }

  /** An answer of our own (no upstream involved); the request body, if any, is read and dropped. */
  #local(status: number, text: string, version: string | null, extra = ''): void {
    this.#phase = Phase.Upstream
    this.#settled = true
    this.#respond(status, text, version, extra)
    this.#drainOrNext()
  }

  #respond(status: number, text: string, version: string | null, extra = ''): void {
    const close = this.#closeAfter
    const head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${version === null ? '' : `${this.#ctx.versionHeader}: ${version}\r\n`}${extra}content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${close ? 'connection: close' : `keep-alive: timeout=${this.#ctx.idleSeconds}`}\r\n\r\n`
    this.#socket.write(this.#request?.method === 'HEAD' ? head : head + text, 'utf8')
    this.#responded = true
  }

  /** After an exchange settled: drop the rest of the request body, then serve the next request. */
  #drainOrNext(): void {
    if (this.#requestBody && !this.#requestBody.done) {
      resume(this.#socket) // keep reading: the body is consumed and dropped by #feedBody
      if (this.#buffer.length > 0) {
        const pending = this.#buffer
        this.#buffer = EMPTY
        this.#feedBody(pending)
      }
      return
    }
    this.#next()
  }

  /** The exchange is over on both sides: close, or read the next request. */
  #next(): void {
    if (this.#phase === Phase.Closed) return
    this.#request = null
    this.#requestBody = null
    this.#target = null
    if (this.#closeAfter) {
      this.#phase = Phase.Closed
      this.#socket.end()
      return
    }
    this.#phase = Phase.Head
    resume(this.#socket)
    if (this.#buffer.length > 0) this.#readHead()
  }

  #onIdle(): void {
    // the client socket's timeout only matters between requests (or during a head): while an
    // exchange runs, the upstream's own timeout decides
    if (this.#phase !== Phase.Head) return
    this.#phase = Phase.Closed
    this.#socket.destroy()
  }

  #onGone(): void {
    if (this.#phase === Phase.Closed) return
    const wasPhase = this.#phase
    this.#phase = Phase.Closed
    this.#socket.destroy()
    if (wasPhase === Phase.Head || this.#settled) return
    // the client left first: stop the upstream request and count it as 499 (nginx's
    // "client closed request"), a request but not the version's error
    this.#settled = true
    const target = this.#target as ResolvedUpstream
    if (this.#upstream) {
      const upstream = this.#upstream
      this.#upstream = null
      this.#ctx.pool.release(target.key, upstream, false)
    } else this.#ctx.pool.cancel(target.key, this)
    this.#record({ status: 499 })
  }

  // ---- upstream side -----------------------------------------------------------------

  attach(upstream: UpstreamSocket): void {
    if (this.#phase !== Phase.Waiting) {
      // cannot happen (a client that leaves withdraws from the queue), but never leak it
      upstream.destroy()
      return
    }
    this.#phase = Phase.Upstream
    this.#upstream = upstream
    this.#retryable = upstream.reused
    upstream.socket.write(this.#requestHead, 'latin1')
    resume(this.#socket)
    this.#drive()
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.#settled) return
    if (this.#response === null) {
      this.#responseBuffer = this.#responseBuffer.length === 0 ? chunk : Buffer.concat([this.#responseBuffer, chunk])
      this.#readResponseHead()
      return
    }
    this.#forwardResponse(chunk, 0)
  }

  #readResponseHead(): void {
    const request = this.#request as RequestHead
    let head: ResponseHead
    for (;;) {
      const buffer = this.#responseBuffer
      try {
        const end = headEnd(buffer, 502)
        if (end < 0) return
        head = parseResponseHead(buffer, end, request.method)
      } catch (error) {
        this.#fail('connection', error instanceof Error ? error : new Error(String(error)))
        return
      }
      this.#responseBuffer = buffer.length === head.headBytes ? EMPTY : buffer.subarray(head.headBytes)
      if (head.status >= 200) break
      if (head.status === 101) {
        // we never forward Upgrade, so a switch is a protocol error of the upstream
        this.#fail('connection', new Error('upstream switched protocols unasked'))
        return
      }
      // an interim answer (100 Continue, 103 Early Hints): pass it on to an HTTP/1.1 client
      if (request.minor === 1) this.#socket.write(clientResponseHead({ head, version: (this.#target as ResolvedUpstream).version, versionHeader: this.#ctx.versionHeader, setCookie: null, close: false, idleSeconds: this.#ctx.idleSeconds }), 'latin1')
    }
    this.#response = head
    if (head.framing.kind === 'close') this.#closeAfter = true // the end of the body is the end of the connection
    this.#responseBody = new BodyReader(head.framing, 502)
    const text = clientResponseHead({ head, version: (this.#target as ResolvedUpstream).version, versionHeader: this.#ctx.versionHeader, setCookie: this.#setCookie, close: this.#closeAfter, idleSeconds: this.#ctx.idleSeconds })
    this.#responded = true
    const rest = this.#responseBuffer
    this.#responseBuffer = EMPTY
    if (rest.length === 0) {
      this.#socket.write(text, 'latin1')
      if (this.#responseBody.done) this.#finish(true)
      return
    }
    this.#socket.cork()
    this.#socket.write(text, 'latin1')
    this.#forwardResponse(rest, 0)
    this.#socket.uncork()
  }

  #forwardResponse(chunk: Buffer, start: number): void {
    const body = this.#responseBody as BodyReader
    let end: number
    try {
      end = body.consume(chunk, start)
    } catch (error) {
      this.#fail('connection', error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (end > start) {
      const more = this.#socket.write(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end))
      if (!more) this.#upstream?.socket.pause() // resumed by the client's 'drain'
    }
    // bytes past the answer's end: the upstream is out of step, never reuse that connection
    if (body.done) this.#finish(end === chunk.length)
  }

  onUpstreamClose(error: Error | null): void {
    if (this.#settled || this.#upstream === null) return
    this.#upstream = null // the pool has closed it already
    if (this.#responseBody?.closeDelimited && error === null) {
      this.#finish(false)
      return
    }
    const request = this.#request as RequestHead
    const untouched = this.#response === null && this.#responseBuffer.length === 0
    if (untouched && this.#retryable && !this.#retried && request.framing.kind === 'none') {
      // the upstream closed an idle keep-alive connection just as we reused it: that says
      // nothing about the version's health, so try once more on a fresh connection
      this.#retried = true
      this.#phase = Phase.Waiting
      const target = this.#target as ResolvedUpstream
      this.#ctx.pool.acquire(target.key, target.host, target.port, this)
      return
    }
    this.#fail('connection', error ?? new Error(this.#responded ? 'upstream closed the response early' : 'upstream closed the connection without answering'))
  }

  /** Whether the connection that just closed had served earlier requests. */
  #retryable = false

  onUpstreamTimeout(): void {
    if (this.#settled) return
    this.#fail('timeout', new Error(`upstream timed out after ${this.#ctx.timeoutMs} ms`))
  }

  onUpstreamDrain(): void {
    if (this.#phase === Phase.Upstream) resume(this.#socket)
  }

  // ---- outcomes ----------------------------------------------------------------------

  /** The answer is complete; `reusable` says whether the upstream connection ended cleanly between messages. */
  #finish(reusable: boolean): void {
    this.#settled = true
    const response = this.#response as ResponseHead
    const upstream = this.#upstream
    this.#upstream = null
    if (upstream) {
      const requestDone = !this.#requestBody || this.#requestBody.done
      const keepAlive = response.minor === 1 && !response.connection.includes('close') && response.framing.kind !== 'close'
      this.#ctx.pool.release((this.#target as ResolvedUpstream).key, upstream, reusable && requestDone && keepAlive, keepAliveTimeoutMs(response))
    }
    this.#record({ status: response.status })
    this.#drainOrNext()
  }

  #fail(reason: 'connection' | 'timeout' | 'bad-request', error: Error): void {
    if (this.#settled) return
    this.#settled = true
    const target = this.#target as ResolvedUpstream
    const upstream = this.#upstream
    this.#upstream = null
    if (upstream) this.#ctx.pool.release(target.key, upstream, false)
    else if (this.#phase === Phase.Waiting) this.#ctx.pool.cancel(target.key, this)
    if (reason === 'bad-request') {
      // the client's own fault, not the version's: answered 400 and not counted as an error
      this.#record({ status: 400 })
      if (this.#responded) this.#cut()
      else this.#refuse(400, error.message)
      return
    }
    this.#record({ failed: true })
    if (this.#responded) {
      this.#cut() // headers are out: the only honest signal left is a cut response
      return
    }
    this.#respond(reason === 'timeout' ? 504 : 502, reason === 'timeout' ? `${error.message}\n` : `upstream unavailable: ${error.message}\n`, target.version)
    this.#drainOrNext()
  }

  #cut(): void {
    this.#phase = Phase.Closed
    this.#socket.destroy()
  }

  #record(outcome: { status: number } | { failed: true }): void {
    const target = this.#target
    if (target) this.#ctx.metrics.record(target.version, outcome, performance.now() - this.#started)
  }
}

/**
 * Resumes a paused socket. Only when paused: `resume()` on a flowing stream still queues a
 * nextTick, which at one per request is a measurable share of the proxy's CPU.
 */
function resume(socket: Socket): void {
  if (socket.isPaused()) socket.resume()
}

/** All Cookie header values of a request, joined as one header would be. */
function cookies(head: RequestHead): string | undefined {
  let joined: string | undefined
  for (let i = 0; i < head.lowerNames.length; i++) if (head.lowerNames[i] === 'cookie') joined = joined === undefined ? head.values[i] : `${joined}; ${head.values[i]}`
  return joined
}
