/**
 * The in-process bus: the embedded default (one process, no Redis). It keeps the Redis
 * transport's semantics so that code tested here behaves the same there: payloads are
 * validated and size-checked on publish, each handler receives its own copy (a JSON round
 * trip), delivery is asynchronous and in publish order, and a throwing handler is reported
 * without affecting the publisher or the other handlers.
 */
import {
  BusClosedError,
  OpenIterators,
  deliver,
  logBusError,
  type Bus,
  type BusErrorHandler,
  type BusIterator,
  type BusStats,
  type IterateOptions,
  type Unsubscribe,
} from './bus.ts'
import { encodePayload, type Channel, type Payloads } from './channels.ts'

export interface MemoryBusOptions {
  /** Receives handler errors. Default: one line on stderr. */
  onError?: BusErrorHandler
}

type AnyHandler = (payload: never) => void

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const
  #handlers = new Map<Channel, Set<AnyHandler>>()
  #queue: { channel: Channel; text: string }[] = []
  #draining = false
  #closed = false
  #iterators = new OpenIterators()
  #onError: BusErrorHandler
  #stats = { published: 0, received: 0, dropped: 0, handlerErrors: 0, overflowed: 0 }

  constructor({ onError = logBusError }: MemoryBusOptions = {}) {
    this.#onError = onError
  }

  get stats(): BusStats {
    return { ...this.#stats }
  }

  async publish<C extends Channel>(channel: C, payload: Payloads[C]): Promise<void> {
    if (this.#closed) throw new BusClosedError(this.kind)
    const text = encodePayload(channel, payload)
    this.#stats.published += 1
    this.#queue.push({ channel, text })
    if (!this.#draining) {
      this.#draining = true
      queueMicrotask(() => this.#drain())
    }
  }

  async subscribe<C extends Channel>(channel: C, handler: (payload: Payloads[C]) => void): Promise<Unsubscribe> {
    // Registers synchronously (before the first await), so `iterate` is live when it returns.
    if (this.#closed) throw new BusClosedError(this.kind)
    let handlers = this.#handlers.get(channel)
    if (!handlers) this.#handlers.set(channel, (handlers = new Set()))
    // Wrap so that the same function subscribed twice counts twice and unsubscribes once.
    const entry: AnyHandler = (payload) => handler(payload)
    handlers.add(entry)
    return async () => {
      handlers.delete(entry)
    }
  }

  iterate<C extends Channel>(channel: C, options: IterateOptions<Payloads[C]> = {}): BusIterator<Payloads[C]> {
    if (this.#closed) throw new BusClosedError(this.kind)
    return this.#iterators.create<Payloads[C]>(
      (push) => this.subscribe(channel, push),
      options,
      () => void (this.#stats.overflowed += 1),
    )
  }

  onReconnect(_callback: () => void): () => void {
    return () => undefined // an in-process bus never loses its connection
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new BusClosedError(this.kind)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all(this.#iterators.endAll())
    this.#handlers.clear()
    this.#queue = []
  }

  #drain(): void {
    // Delivers in publish order; a handler that publishes only appends to the queue, so
    // every subscriber sees every channel's events in the same order.
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift()) {
        const handlers = this.#handlers.get(item.channel)
        if (!handlers || handlers.size === 0) continue
        this.#stats.received += 1
        const channel = item.channel
        deliver(handlers as Set<(payload: unknown) => void>, item.text, (error) => {
          this.#stats.handlerErrors += 1
          this.#report(error, channel)
        })
      }
    } finally {
      this.#draining = false
    }
  }

  #report(error: Error, channel: Channel): void {
    try {
      this.#onError(error, { source: 'handler', channel })
    } catch {
      // An error handler that throws must not break delivery either.
    }
  }
}
