/**
 * HTTP plumbing shared by the Loki and Tempo stand-ins (test/standins/loki.ts, tempo.ts):
 * a loopback server on a free port, Go-style form parsing (URL query plus an
 * `application/x-www-form-urlencoded` POST body, as `http.Request.ParseForm` does), plain-text
 * errors, a request log, tenant checks and switchable fault modes.
 *
 * Only the plumbing lives here; each stand-in owns its routes, shapes and messages.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * A fault the tests switch on. It applies to every API path (not `/ready`, not `/api/echo`)
 * until cleared, or for `times` requests.
 * - `slow`: wait `ms`, then answer normally (a client with a shorter timeout gives up first);
 * - `status`: answer `status` with a plain-text `body` (default: a generic message);
 * - `malformed`: 200 `application/json` whose body is not JSON;
 * - `huge`: 200 `application/json`, a valid JSON document of about `bytes` bytes, streamed;
 * - `wrongShape`: 200 `application/json`, valid JSON of the wrong shape (`body`, default `{"status":"success"}`).
 */
export type StandinFault =
  | { kind: 'slow'; ms: number }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'malformed' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'wrongShape'; body?: unknown }

export interface FaultOptions {
  /** Only for requests whose path starts with one of these (default: every API path). */
  paths?: readonly string[]
  /** Only for the next `times` matching requests (default: until cleared). */
  times?: number
}

/** One request the stand-in received, for assertions (templates rendered, headers sent). */
export interface RecordedRequest {
  method: string
  path: string
  /** Form values (URL query and form body merged), repeated keys kept. */
  params: URLSearchParams
  headers: IncomingMessage['headers']
}

/** What a route sees. */
export interface RouteRequest extends RecordedRequest {
  req: IncomingMessage
  /** The raw request body (empty for GET). */
  body: Buffer
}

export type RouteResult =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType?: string | null }

export interface StandinServerOptions {
  /** Paths never affected by faults or tenant checks (health endpoints). */
  unguardedPaths: readonly string[]
  /** `Content-Type` of JSON answers (Loki: `application/json; charset=UTF-8`, Tempo: `application/json`). */
  jsonContentType: string
  /** `Content-Type` of error answers; null sends none (as Tempo's handlers do). */
  errorContentType: string | null
  route(request: RouteRequest): RouteResult | Promise<RouteResult>
}

/** A plain-text answer. */
export function text(status: number, body: string, contentType?: string | null): RouteResult {
  return contentType === undefined ? { status, text: body } : { status, text: body, contentType }
}

/** A JSON answer. */
export function json(status: number, body: unknown): RouteResult {
  return { status, json: body }
}

const MAX_FORM_BYTES = 1 << 20

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_FORM_BYTES) throw new Error('http: request body too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** The loopback server under a stand-in. */
export class StandinServer {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  readonly #options: StandinServerOptions
  #fault: StandinFault | null = null
  #faultOptions: FaultOptions = {}
  #url = ''
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[] = []
  /** When set, API requests without this `X-Scope-OrgID` header get 401 `no org id`. */
  tenant: string | null = null

  constructor(options: StandinServerOptions) {
    this.#options = options
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          res.end(error instanceof Error ? error.message : String(error))
        } else res.destroy()
      })
    })
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return this.#url
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(0, '127.0.0.1', () => resolve())
    })
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this.#url
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
      for (const socket of this.#sockets) socket.destroy()
    })
  }

  setFault(fault: StandinFault | null, options: FaultOptions = {}): void {
    this.#fault = fault
    this.#faultOptions = { ...options }
  }

  #takeFault(path: string): StandinFault | null {
    const fault = this.#fault
    if (fault === null) return null
    const { paths, times } = this.#faultOptions
    if (paths !== undefined && !paths.some((p) => path.startsWith(p))) return null
    if (times !== undefined) {
      if (times <= 1) this.#fault = null
      else this.#faultOptions.times = times - 1
    }
    return fault
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin')
    const path = url.pathname
    // Go's ParseForm: for POST/PUT/PATCH with a form body, body values come first, then the URL's.
    const params = new URLSearchParams()
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    const body = await readBody(req)
    if ((req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') && type === 'application/x-www-form-urlencoded') {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v)
    }
    for (const [k, v] of url.searchParams) params.append(k, v)
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, params, headers: req.headers }
    this.requests.push(recorded)

    const guarded = !this.#options.unguardedPaths.includes(path)
    if (guarded) {
      const fault = this.#takeFault(path)
      if (fault !== null && (await this.#applyFault(fault, req, res))) return
      if (this.tenant !== null && req.headers['x-scope-orgid'] !== this.tenant) {
        // dskit's auth middleware answers this for a missing (or, here, a foreign) tenant.
        this.#send(res, text(401, 'no org id\n', 'text/plain; charset=utf-8'))
        return
      }
    }
    const result = await this.#options.route({ ...recorded, req, body })
    if (!res.destroyed) this.#send(res, result)
  }

  /** True when the fault answered the request (false: carry on normally, e.g. after a delay). */
  async #applyFault(fault: StandinFault, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    switch (fault.kind) {
      case 'slow':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, fault.ms)
          res.once('close', () => {
            clearTimeout(timer)
            resolve()
          })
        })
        return res.destroyed || res.writableEnded
      case 'status':
        this.#send(res, text(fault.status, fault.body ?? 'internal error'))
        return true
      case 'malformed':
        res.writeHead(200, { 'content-type': this.#options.jsonContentType })
        res.end('{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.1"]')
        return true
      case 'wrongShape':
        this.#send(res, json(200, fault.body ?? { status: 'success' }))
        return true
      case 'huge':
        await this.#streamHuge(fault.bytes, req, res)
        return true
    }
  }

  /** A valid JSON document of about `bytes` bytes, written in chunks with backpressure. */
  async #streamHuge(bytes: number, _req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': this.#options.jsonContentType })
    const chunk = 'x'.repeat(64 * 1024)
    let sent = 0
    const write = (s: string): Promise<void> =>
      new Promise((resolve) => {
        if (res.destroyed) return resolve()
        if (res.write(s)) resolve()
        else {
          const done = (): void => {
            res.off('drain', done)
            res.off('close', done)
            resolve()
          }
          res.once('drain', done)
          res.once('close', done)
        }
      })
    await write('{"status":"success","padding":"')
    while (sent < bytes && !res.destroyed) {
      await write(chunk)
      sent += chunk.length
    }
    if (!res.destroyed) res.end('"}')
  }

  #send(res: ServerResponse, result: RouteResult): void {
    if ('json' in result) {
      const body = JSON.stringify(result.json)
      res.writeHead(result.status, { 'content-type': this.#options.jsonContentType, ...(result.headers ?? {}) })
      res.end(body)
      return
    }
    const contentType = result.contentType === undefined ? this.#options.errorContentType : result.contentType
    const headers: Record<string, string> = {}
    if (contentType !== null) {
      headers['content-type'] = contentType
      if (contentType.startsWith('text/plain')) headers['x-content-type-options'] = 'nosniff'
    }
    res.writeHead(result.status, headers)
    res.end(result.text)
  }
}
