/**
 * The bus every process uses to tell the others that something changed. Two transports
 * implement it: `memory.ts` (one process, the embedded default) and `redis.ts` (any number
 * of server and controller processes). Pick one with `createBus` from `index.ts`.
 *
 * Delivery is at-most-once (STACK.md, trap 5): events carry enough to refetch, never state
 * that exists only on the bus, and subscribers refetch on `onReconnect`.
 */
import type { Channel, Payloads } from './channels.ts'

/** Stops a subscription. Idempotent. */
export type Unsubscribe = () => Promise<void>

/** Counters for /metrics. */
export interface BusStats {
  /** Messages published by this bus. */
  readonly published: number
  /** Valid messages received (once per message, however many local handlers it reaches). */
  readonly received: number
  /** Incoming messages dropped: not JSON, the wrong shape, or over the size limit. */
  readonly dropped: number
  /** Handlers that threw (or rejected); other handlers and the publisher are unaffected. */
  readonly handlerErrors: number
  /** Events a slow `iterate` consumer lost because its buffer was full (oldest first). */
  readonly overflowed: number
}

/** Where a reported problem came from. */
export type BusErrorSource = 'handler' | 'message' | 'connection'

/** Receives problems the bus absorbed so that they never reach publishers or other handlers. */
export type BusErrorHandler = (error: Error, info: { source: BusErrorSource; channel?: Channel }) => void

/** Options of `Bus.iterate`. */
export interface IterateOptions<T> {
  /** Ends the iterator (cleanly, `done: true`) when aborted. */
  signal?: AbortSignal
  /** Only events for which this returns true are queued. If it throws, the iterator ends with that error. */
  filter?: (payload: T) => boolean
  /** Most events held for a slow consumer; when full, the oldest is dropped and counted. Default 1024. */
  bufferLimit?: number
}

/** What `Bus.iterate` returns: an async iterator plus readiness and a drop counter. */
export interface BusIterator<T> extends AsyncIterableIterator<T, undefined, unknown> {
  /**
   * Resolves once the subscription is active: every event published after that is delivered
   * (until the buffer overflows). In memory it is active as soon as `iterate` returns; over
   * Redis await this before relying on delivery. Rejects if subscribing failed (and then
   * `next()` rejects with the same error).
   */
  readonly ready: Promise<void>
  /** Events dropped because the buffer was full. */
  readonly dropped: number
  /** Ends the iterator and its subscription; a waiting `next()` resolves `done`. Resolves once unsubscribed. */
  return(): Promise<IteratorResult<T, undefined>>
  /** Like `return()`, then rejects with `error`. */
  throw(error?: unknown): Promise<IteratorResult<T, undefined>>
}

/**
 * A typed publish/subscribe bus.
 *
 * @example
 * ```ts
 * const bus = createBus(process.env.SENTRA_REDIS_URL)
 * const stop = await bus.subscribe('rollout.command', (cmd) => controller.wake(cmd.rolloutId))
 * await bus.publish('rollout.changed', { rolloutId, application, seq, status, kind: 'state', at: new Date().toISOString() })
 * for await (const event of bus.iterate('rollout.changed', { signal, filter: (e) => e.rolloutId === id })) { ... }
 * ```
 */
export interface Bus {
  readonly kind: 'memory' | 'redis'
  /** Validates and sends the payload. Throws `InvalidPayloadError` (and sends nothing) when it breaks the contract. */
  publish<C extends Channel>(channel: C, payload: Payloads[C]): Promise<void>
  /**
   * Calls `handler` with a private copy of every payload on the channel. Resolves once the
   * subscription is active (an event published after that is delivered); returns the
   * function that ends it. A throwing handler is reported, never propagated.
   */
  subscribe<C extends Channel>(channel: C, handler: (payload: Payloads[C]) => void): Promise<Unsubscribe>
  /**
   * The channel as an async iterator, for GraphQL subscriptions. Ends cleanly on `return()`
   * or when `signal` aborts; its buffer is bounded (oldest dropped and counted).
   */
  iterate<C extends Channel>(channel: C, options?: IterateOptions<Payloads[C]>): BusIterator<Payloads[C]>
  /**
   * Calls `callback` after the transport lost its connection and got it back (subscriptions
   * are active again). Events published in between are lost: refetch state. Never called
   * by the in-memory bus. Returns the function that removes the callback.
   */
  onReconnect(callback: () => void): () => void
  /** Resolves when the transport is reachable; rejects quickly with a clear error otherwise. */
  ping(): Promise<void>
  /** Ends every subscription and iterator and releases connections. Idempotent. */
  close(): Promise<void>
  readonly stats: BusStats
}

/** Default `bufferLimit` of `iterate`. */
export const DEFAULT_BUFFER_LIMIT = 1024

/** Thrown by operations on a closed bus. */
export class BusClosedError extends Error {
  override readonly name = 'BusClosedError'
  constructor(kind: Bus['kind']) {
    super(`the ${kind} bus is closed`)
  }
}

/** Coerces anything thrown into an Error. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}

/** The default error handler: one line on stderr. */
export const logBusError: BusErrorHandler = (error, { source, channel }) => {
  console.error(`[sentra bus] ${source}${channel ? ` ${channel}` : ''}: ${error.message}`)
}

/**
 * Calls every handler with its own copy of the payload (so no handler can change what
 * another one, or the publisher, sees). A handler that throws or returns a rejected promise
 * is reported through `onError`; the others still run.
 */
export function deliver<T>(
  handlers: Iterable<(payload: T) => void>,
  text: string,
  report: (error: Error) => void,
): void {
  for (const handler of [...handlers]) {
    try {
      const result: unknown = handler(JSON.parse(text) as T)
      if (isPromiseLike(result)) result.then(undefined, (error: unknown) => report(toError(error)))
    } catch (error) {
      report(toError(error))
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

/** Registers a push callback; resolves to the function that stops it (the shape of `Bus.subscribe`). */
export type Register<T> = (push: (payload: T) => void) => Promise<Unsubscribe>

interface Waiter<T> {
  resolve: (result: IteratorResult<T, undefined>) => void
  reject: (error: unknown) => void
}

/**
 * The async iterator both transports hand out from `iterate`. Events pushed while nobody is
 * waiting are buffered up to `bufferLimit` (then the oldest is dropped and counted). Ends
 * on `return()`, `throw()`, abort of `signal`, or a failed subscription (reported once
 * through `next()`). `register` is called synchronously, so a transport that registers its
 * handler synchronously loses nothing published after `iterate` returns.
 */
export class SubscriptionIterator<T> implements BusIterator<T> {
  readonly ready: Promise<void>
  #buffer: T[] = []
  #head = 0
  #waiters: Waiter<T>[] = []
  #done = false
  #failure: { error: unknown } | undefined
  #dropped = 0
  #limit: number
  #filter: ((payload: T) => boolean) | undefined
  #signal: AbortSignal | undefined
  #onAbort = (): void => void this.#finish()
  #onOverflow: (() => void) | undefined
  #onEnd: (() => void) | undefined
  #unsubscribe: Promise<Unsubscribe | undefined>
  #finished: Promise<void> | undefined

  constructor(
    register: Register<T>,
    options: IterateOptions<T> & { onOverflow?: () => void; onEnd?: () => void } = {},
  ) {
    const limit = options.bufferLimit ?? DEFAULT_BUFFER_LIMIT
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bufferLimit must be an integer >= 1, got ${limit}`)
    this.#limit = limit
    this.#filter = options.filter
    this.#onOverflow = options.onOverflow
    this.#onEnd = options.onEnd
    this.#signal = options.signal

    if (this.#signal?.aborted) {
      this.#done = true
      this.#unsubscribe = Promise.resolve(undefined)
      this.ready = Promise.resolve()
      return
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true })

    let registered: Promise<Unsubscribe>
    try {
      registered = register((payload) => this.#push(payload))
    } catch (error) {
      registered = Promise.reject(error)
    }
    this.ready = registered.then(() => undefined)
    this.ready.catch(() => undefined) // the failure is reported through next(); never unhandled
    this.#unsubscribe = registered.then(
      (unsubscribe) => {
        if (this.#done) return unsubscribe().then(() => undefined, () => undefined)
        return unsubscribe
      },
      (error: unknown) => {
        this.#fail(error)
        return undefined
      },
    )
  }

  /** Events dropped because the buffer was full. */
  get dropped(): number {
    return this.#dropped
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#head < this.#buffer.length) return Promise.resolve({ done: false, value: this.#shift() })
    if (this.#failure) {
      const { error } = this.#failure
      this.#failure = undefined
      return Promise.reject(error)
    }
    if (this.#done) return Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    await this.#finish()
    return { done: true, value: undefined }
  }

  async throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    await this.#finish()
    throw error
  }

  #push(payload: T): void {
    if (this.#done) return
    if (this.#filter) {
      let keep: boolean
      try {
        keep = this.#filter(payload)
      } catch (error) {
        this.#fail(error)
        return
      }
      if (!keep) return
    }
    const waiter = this.#waiters.shift()
    if (waiter) {
      waiter.resolve({ done: false, value: payload })
      return
    }
    if (this.#buffer.length - this.#head >= this.#limit) {
      this.#shift()
      this.#dropped += 1
      this.#onOverflow?.()
    }
    this.#buffer.push(payload)
  }

  #shift(): T {
    const value = this.#buffer[this.#head] as T
    this.#buffer[this.#head] = undefined as T // let it be collected
    this.#head += 1
    if (this.#head === this.#buffer.length) {
      this.#buffer = []
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head)
      this.#head = 0
    }
    return value
  }

  /** Ends with an error: a waiting `next()` rejects with it, or the next call does. */
  #fail(error: unknown): void {
    if (this.#done) return
    const waiter = this.#waiters.shift()
    if (waiter) waiter.reject(error)
    else this.#failure = { error }
    void this.#finish()
  }

  #finish(): Promise<void> {
    if (!this.#finished) {
      this.#done = true
      this.#buffer = []
      this.#head = 0
      for (const waiter of this.#waiters.splice(0)) waiter.resolve({ done: true, value: undefined })
      this.#signal?.removeEventListener('abort', this.#onAbort)
      this.#onEnd?.()
      this.#finished = this.#unsubscribe.then(async (unsubscribe) => {
        try {
          await unsubscribe?.()
        } catch {
          // The transport reports its own failures; ending the iterator must not throw.
        }
      })
    }
    return this.#finished
  }
}

/** The iterators a bus has handed out and not yet seen end, so that `close()` can end them. */
export class OpenIterators {
  #open = new Set<{ return(): Promise<unknown> }>()

  /** A `SubscriptionIterator` that stays in this set until it ends. */
  create<T>(register: Register<T>, options: IterateOptions<T>, onOverflow: () => void): BusIterator<T> {
    let created: SubscriptionIterator<T> | undefined
    const onEnd = (): void => {
      if (created) this.#open.delete(created)
    }
    created = new SubscriptionIterator<T>(register, { ...options, onOverflow, onEnd })
    if (!options.signal?.aborted) this.#open.add(created)
    return created
  }

  /** Ends them all: each is marked done at once; the promises settle once they have unsubscribed. */
  endAll(): Promise<void>[] {
    return [...this.#open].map(async (iterator) => void (await iterator.return()))
  }
}
