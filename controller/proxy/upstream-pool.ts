import { connect, type Socket } from 'node:net'

/** What an exchange must handle on the upstream socket it holds; the pool routes events to it. */
export interface UpstreamOwner {
  /** The pool has a socket for this owner (at once, or later when one frees up). */
  attach(upstream: UpstreamSocket): void
  onUpstreamData(chunk: Buffer): void
  /** The upstream ended or closed the connection (`error` when it failed). */
  onUpstreamClose(error: Error | null): void
  /** No byte either way for the pool's timeout. */
  onUpstreamTimeout(): void
  onUpstreamDrain(): void
}

/**
 * One TCP connection to an upstream. Its listeners are set once, for its whole life, and
 * forward to whichever exchange owns it now, so a request costs no listener churn.
 */
export class UpstreamSocket {
  readonly socket: Socket
  /** Whether it served a request before the current one (an idle close race is possible then). */
  reused = false
  /** When, idle, it is no longer handed out (performance.now() ms): the upstream's keep-alive hint, less a margin. */
  reuseUntil = Number.POSITIVE_INFINITY
  owner: UpstreamOwner | null = null
  readonly #origin: Origin
  #closed = false

  constructor(origin: Origin, timeoutMs: number) {
    this.#origin = origin
    this.socket = connect({ host: origin.host, port: origin.port })
    this.socket.setNoDelay(true)
    this.socket.setTimeout(timeoutMs)
    this.socket.on('data', (chunk: Buffer) => {
      if (this.owner) this.owner.onUpstreamData(chunk)
      else this.destroy() // an idle connection has nothing to say: unsolicited bytes, drop it
    })
    this.socket.on('drain', () => this.owner?.onUpstreamDrain())
    this.socket.on('timeout', () => {
      if (this.owner) this.owner.onUpstreamTimeout()
      else this.destroy() // idle for the whole timeout: close it rather than keep it forever
    })
    this.socket.on('error', (error) => this.#gone(error))
    this.socket.on('end', () => this.#gone(null))
    this.socket.on('close', () => this.#gone(null))
  }

  /** Closes the connection now; the owner, if any, is not told (it asked for it). */
  destroy(): void {
    this.owner = null
    if (!this.#closed) {
      this.#closed = true
      this.#origin.forget(this)
    }
    this.socket.destroy()
  }

  #gone(error: Error | null): void {
    const owner = this.owner
    this.destroy()
    owner?.onUpstreamClose(error)
  }
}

/** The connections of one upstream origin: idle ones to reuse, and owners waiting for one. */
class Origin {
  readonly host: string
  readonly port: number
  readonly all = new Set<UpstreamSocket>()
  /**
   * A stack, the most recently released on top: reused from the top, so in a lull the
   * connections at the bottom carry nothing and close on the idle timeout, and the pool
   * shrinks to what the traffic of the last `timeoutMs` needed.
   */
  readonly idle: UpstreamSocket[] = []
  readonly waiting: UpstreamOwner[] = []
  retired = false
  readonly #pool: UpstreamPool
  readonly #key: string

  constructor(pool: UpstreamPool, key: string, host: string, port: number) {
    this.#pool = pool
    this.#key = key
    this.host = host
    this.port = port
  }

  forget(socket: UpstreamSocket): void {
    this.all.delete(socket)
    const at = this.idle.indexOf(socket)
    if (at >= 0) this.idle.splice(at, 1)
    this.#pool.settle(this.#key, this)
  }
}

/** How much sooner than an upstream's announced keep-alive timeout an idle connection is given up (as undici does). */
export const KEEP_ALIVE_MARGIN_MS = 1000

export interface UpstreamPoolOptions {
  /**
   * Connections per origin, busy and idle; owners beyond it wait for one. There is no
   * separate cap on idle ones: a connection that frees up stays for the next request until
   * it has been idle for `timeoutMs` (a cap below the peak would close part of every burst's
   * connections as it ends and open them again for the next burst).
   */
  maxSockets: number
  /** Silence (no byte either way) after which an owner is told, or an idle connection closed. */
  timeoutMs: number
}

/**
 * Keep-alive TCP connections per upstream origin, so requests to a version reuse
 * connections and one slow version cannot take all of them from the other. An origin
 * that leaves the routes is retired: its idle connections close at once, busy ones when
 * their exchange is done, so requests that started there finish there.
 */
export class UpstreamPool {
  readonly #options: UpstreamPoolOptions
  readonly #origins = new Map<string, Origin>()

  constructor(options: UpstreamPoolOptions) {
    this.#options = options
  }

  /** Gives `owner` a connection to `key` (host:port) via `owner.attach`, now or once one is free. */
  acquire(key: string, host: string, port: number, owner: UpstreamOwner): void {
    let origin = this.#origins.get(key)
    if (!origin) {
      origin = new Origin(this, key, host, port)
      this.#origins.set(key, origin)
    }
    // the most recently used: the least likely to be closed by now
    for (let idle = origin.idle.pop(); idle; idle = origin.idle.pop()) {
      // past what the upstream said it keeps an idle connection: it may be closing it right now
      if (idle.reuseUntil <= performance.now()) {
        idle.destroy()
        continue
      }
      return this.#give(idle, owner)
    }
    if (origin.all.size < this.#options.maxSockets) return this.#give(this.#open(origin), owner)
    origin.waiting.push(owner)
  }

  /** Withdraws an owner still waiting for a connection (its client left). */
  cancel(key: string, owner: UpstreamOwner): void {
    const origin = this.#origins.get(key)
    const at = origin ? origin.waiting.indexOf(owner) : -1
    if (origin && at >= 0) origin.waiting.splice(at, 1)
  }

  /**
   * Hands a connection back after an exchange; `reusable` only when it ended cleanly between
   * messages. `keepAliveMs`: how long the upstream said it keeps an idle connection
   * (`Keep-Alive: timeout=`), if it said: the connection is not handed out again once idle
   * for that long less {@link KEEP_ALIVE_MARGIN_MS}. Reusing it later races the upstream's
   * close, which a request with a body cannot recover from (it cannot be sent again).
   */
  release(key: string, upstream: UpstreamSocket, reusable: boolean, keepAliveMs: number | null = null): void {
    upstream.owner = null
    const origin = this.#origins.get(key)
    const keptMs = keepAliveMs === null ? Number.POSITIVE_INFINITY : keepAliveMs - KEEP_ALIVE_MARGIN_MS
    if (!reusable || keptMs <= 0 || !origin || origin.retired || !origin.all.has(upstream)) return upstream.destroy()
    upstream.reused = true
    upstream.reuseUntil = performance.now() + keptMs
    // it may have been paused for a slow client; idle, it must see a close (resume() only when
    // paused: on a flowing stream it still queues a nextTick)
    if (upstream.socket.isPaused()) upstream.socket.resume()
    const next = origin.waiting.shift()
    if (next) return this.#give(upstream, next)
    origin.idle.push(upstream)
  }

  /** Keeps the origins in `keys`; retires every other one. */
  retainOnly(keys: ReadonlySet<string>): void {
    for (const [key, origin] of this.#origins) {
      origin.retired = !keys.has(key)
      if (origin.retired) for (const idle of [...origin.idle]) idle.destroy()
      this.settle(key, origin)
    }
  }

  /** Closes every connection, busy or idle. */
  destroy(): void {
    for (const origin of this.#origins.values()) {
      origin.retired = true
      origin.waiting.length = 0
      for (const socket of [...origin.all]) socket.destroy()
    }
    this.#origins.clear()
  }

  /** Open connections (busy + idle); for tests and diagnostics. */
  openSockets(): number {
    let total = 0
    for (const origin of this.#origins.values()) total += origin.all.size
    return total
  }

  /** Called when a connection of `origin` closed: serve a waiting owner, or drop a retired, empty origin. */
  settle(key: string, origin: Origin): void {
    if (origin.waiting.length > 0 && origin.all.size < this.#options.maxSockets) {
      const owner = origin.waiting.shift() as UpstreamOwner
      this.#give(this.#open(origin), owner)
      return
    }
    if (origin.retired && origin.all.size === 0 && origin.waiting.length === 0 && this.#origins.get(key) === origin) this.#origins.delete(key)
  }

  #open(origin: Origin): UpstreamSocket {
    const socket = new UpstreamSocket(origin, this.#options.timeoutMs)
    origin.all.add(socket)
    return socket
  }

  #give(upstream: UpstreamSocket, owner: UpstreamOwner): void {
    upstream.owner = owner
    owner.attach(upstream)
  }
}
