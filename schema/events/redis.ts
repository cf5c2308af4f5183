/**
 * The Redis transport (ioredis 5): one connection publishes, one subscribes (a connection in
 * subscriber mode cannot publish). Channel names are `prefix + channel` (default prefix
 * `sentra:`). Each channel has at most one Redis SUBSCRIBE however many local handlers it
 * has; the last handler to leave sends UNSUBSCRIBE.
 *
 * Every incoming message is size-checked, parsed and validated against its channel's
 * contract; anything else on the channel is dropped and counted (`stats.dropped`), never
 * handed to a handler. Outgoing payloads are validated too.
 *
 * Reconnects are ioredis's job: it retries with backoff and, with `autoResubscribe`, sends
 * SUBSCRIBE again for every channel before it reports `ready`. The bus then waits for a
 * PING round trip on the subscriber connection (Redis answers in order, so the
 * subscriptions are live again) and calls the `onReconnect` callbacks: events published
 * while the connection was down are lost, and subscribers refetch (STACK.md, trap 5).
 */
import { Redis, type RedisOptions } from 'ioredis'
import {
  BusClosedError,
  OpenIterators,
  deliver,
  logBusError,
  toError,
  type Bus,
  type BusErrorHandler,
  type BusErrorSource,
  type BusIterator,
  type BusStats,
  type IterateOptions,
  type Unsubscribe,
} from './bus.ts'
import { decodeMessage, encodePayload, isChannel, type Channel, type Payloads } from './channels.ts'

export const DEFAULT_PREFIX = 'sentra:'

export interface RedisBusOptions {
  /** Namespace for channel names (`prefix + channel`). Default `sentra:`. */
  prefix?: string
  /** Receives handler errors, dropped messages (at most one report per channel every 10 s) and connection errors. Default: stderr. */
  onError?: BusErrorHandler
  /** Client name shown by `CLIENT LIST` (`<name>-pub`, `<name>-sub`). Default `sentra-bus`. */
  connectionName?: string
  /** How long `ping()` waits before it gives up. Default 2000 ms. */
  pingTimeoutMs?: number
  /** Anything else for ioredis (merged over the bus's defaults). */
  redisOptions?: RedisOptions
}

type AnyHandler = (payload: never) => void

interface ChannelState {
  readonly handlers: Set<AnyHandler>
  /** Whether Redis has confirmed our SUBSCRIBE (and no UNSUBSCRIBE since). */
  subscribed: boolean
  /** SUBSCRIBE/UNSUBSCRIBE for this channel run one at a time, in order. */
  chain: Promise<void>
  dropsSinceReport: number
  lastDropReport: number
}

const DROP_REPORT_INTERVAL_MS = 10_000

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis'
  }
}

export class RedisBus implements Bus {
  readonly kind = 'redis' as const
  readonly prefix: string
  #where: string
  #pub: Redis
  #sub: Redis
  #channels = new Map<Channel, ChannelState>()
  #iterators = new OpenIterators()
  #reconnectCallbacks = new Set<() => void>()
  #onError: BusErrorHandler
  #pingTimeoutMs: number
  #subWasReady = false
  #lastConnectionError: string | undefined
  #closed = false
  #closing: Promise<void> | undefined
  #stats = { published: 0, received: 0, dropped: 0, handlerErrors: 0, overflowed: 0 }

  constructor(url: string, options: RedisBusOptions = {}) {
    const {
      prefix = DEFAULT_PREFIX,
      onError = logBusError,
      connectionName = 'sentra-bus',
      pingTimeoutMs = 2000,
      redisOptions = {},
    } = options
    this.prefix = prefix
    this.#onError = onError
    this.#pingTimeoutMs = pingTimeoutMs
    this.#where = redact(url)
    const base: RedisOptions = {
      lazyConnect: true, // connect on first use; a bus nobody uses opens nothing
      connectTimeout: 5000,
      // A command waits through a few reconnect attempts (about 3 s), then fails instead of hanging.
      maxRetriesPerRequest: 5,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      autoResubscribe: true,
      autoResendUnfulfilledCommands: true,
      ...redisOptions,
    }
    this.#pub = new Redis(url, { ...base, connectionName: `${connectionName}-pub` })
    this.#sub = new Redis(url, { ...base, connectionName: `${connectionName}-sub` })
    this.#pub.on('error', (error: Error) => this.#connectionError(error))
    this.#sub.on('error', (error: Error) => this.#connectionError(error))
    this.#pub.on('ready', () => (this.#lastConnectionError = undefined))
    this.#sub.on('ready', () => this.#subReady())
    this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#receive(channel, message))
  }

  get stats(): BusStats {
    return { ...this.#stats }
  }

  async publish<C extends Channel>(channel: C, payload: Payloads[C]): Promise<void> {
    if (this.#closed) throw new BusClosedError(this.kind)
    const text = encodePayload(channel, payload)
    try {
      await this.#pub.publish(this.prefix + channel, text)
    } catch (error) {
      throw new Error(`publishing on "${channel}" through Redis at ${this.#where} failed: ${toError(error).message}`, {
        cause: error,
      })
    }
    this.#stats.published += 1
  }

  async subscribe<C extends Channel>(channel: C, handler: (payload: Payloads[C]) => void): Promise<Unsubscribe> {
    // Everything up to the first await runs synchronously: the handler is registered locally
    // before this returns, so `iterate` misses nothing that arrives once SUBSCRIBE is confirmed.
    if (this.#closed) throw new BusClosedError(this.kind)
    if (!isChannel(channel)) throw new TypeError(`unknown channel: ${String(channel)}`)
    const state = this.#state(channel)
    const entry: AnyHandler = (payload) => handler(payload)
    state.handlers.add(entry)
    try {
      await this.#sync(channel, state)
    } catch (error) {
      state.handlers.delete(entry)
      this.#sync(channel, state).catch(() => undefined)
      throw new Error(`subscribing to "${channel}" through Redis at ${this.#where} failed: ${toError(error).message}`, {
        cause: error,
      })
    }
    let active = true
    return async () => {
      if (!active) return
      active = false
      state.handlers.delete(entry)
      if (this.#closed) return
      try {
        await this.#sync(channel, state)
      } catch (error) {
        // Still subscribed in Redis with no handlers: messages are ignored, and the next
        // subscribe or unsubscribe on the channel tries again.
        this.#report(toError(error), 'connection', channel)
      }
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

  onReconnect(callback: () => void): () => void {
    const entry = (): void => callback()
    this.#reconnectCallbacks.add(entry)
    return () => void this.#reconnectCallbacks.delete(entry)
  }

  /**
   * PING on the publishing connection, and on the subscribing one once it is in use.
   * Rejects on the first connection error or after `pingTimeoutMs`, whichever comes first.
   */
  async ping(): Promise<void> {
    if (this.#closed) throw new BusClosedError(this.kind)
    await this.#ping(this.#pub, 'publish')
    if (this.#sub.status !== 'wait') await this.#ping(this.#sub, 'subscribe')
  }

  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true
      this.#closing = (async () => {
        // End the iterators first (synchronously marked done), so that subscriptions failing
        // as the connections close end them cleanly rather than with an error.
        const endings = this.#iterators.endAll()
        for (const state of this.#channels.values()) state.handlers.clear()
        this.#reconnectCallbacks.clear()
        await Promise.all([this.#shutdown(this.#pub), this.#shutdown(this.#sub)])
        await Promise.all(endings)
      })()
    }
    return this.#closing
  }

  #state(channel: Channel): ChannelState {
    let state = this.#channels.get(channel)
    if (!state) {
      state = { handlers: new Set(), subscribed: false, chain: Promise.resolve(), dropsSinceReport: 0, lastDropReport: 0 }
      this.#channels.set(channel, state)
    }
    return state
  }

  /** Brings Redis in line with the local handlers: SUBSCRIBE when there are some, UNSUBSCRIBE when none. */
  #sync(channel: Channel, state: ChannelState): Promise<void> {
    const key = this.prefix + channel
    const op = state.chain.then(async () => {
      if (this.#closed) throw new BusClosedError(this.kind)
      const wanted = state.handlers.size > 0
      if (wanted && !state.subscribed) {
        await this.#sub.subscribe(key)
        state.subscribed = true
      } else if (!wanted && state.subscribed) {
        await this.#sub.unsubscribe(key)
        state.subscribed = false
      }
    })
    state.chain = op.catch(() => undefined)
    return op
  }

  #receive(rawChannel: Buffer, message: Buffer): void {
    const key = rawChannel.toString('utf8')
    if (!key.startsWith(this.prefix)) return
    const channel = key.slice(this.prefix.length)
    if (!isChannel(channel)) return
    const state = this.#channels.get(channel)
    if (!state || state.handlers.size === 0) return
    const decoded = decodeMessage(channel, message)
    if (!decoded.ok) {
      this.#stats.dropped += 1
      state.dropsSinceReport += 1
      const now = Date.now()
      if (now - state.lastDropReport >= DROP_REPORT_INTERVAL_MS) {
        const count = state.dropsSinceReport
        state.dropsSinceReport = 0
        state.lastDropReport = now
        this.#report(new Error(`dropped ${count} bad message(s) on "${key}" (${decoded.reason}): ${decoded.error}`), 'message', channel)
      }
      return
    }
    this.#stats.received += 1
    deliver(state.handlers as Set<(payload: unknown) => void>, JSON.stringify(decoded.value), (error) => {
      this.#stats.handlerErrors += 1
      this.#report(error, 'handler', channel)
    })
  }

  #subReady(): void {
    this.#lastConnectionError = undefined
    if (!this.#subWasReady) {
      this.#subWasReady = true
      return
    }
    // A reconnect. ioredis has already written SUBSCRIBE for every channel it held
    // (autoResubscribe); Redis answers in order, so once this PING returns they are live.
    this.#sub.ping().then(
      () => {
        if (this.#closed) return
        for (const callback of [...this.#reconnectCallbacks]) {
          try {
            callback()
          } catch (error) {
            this.#report(toError(error), 'handler')
          }
        }
      },
      () => undefined, // lost again; the next 'ready' tries again
    )
  }

  #connectionError(error: Error): void {
    // ioredis emits the same error on every retry; report each distinct one once per outage.
    if (this.#closed || error.message === this.#lastConnectionError) return
    this.#lastConnectionError = error.message
    this.#report(new Error(`Redis at ${this.#where}: ${error.message}`, { cause: error }), 'connection')
  }

  #ping(connection: Redis, role: 'publish' | 'subscribe'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false
      const finish = (error?: Error): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        connection.off('error', onError)
        if (!error) return resolve()
        reject(
          new Error(`Redis at ${this.#where} is unreachable (${role} connection): ${error.message}`, { cause: error }),
        )
      }
      const onError = (error: Error): void => finish(error)
      const timer = setTimeout(() => finish(new Error(`no answer to PING within ${this.#pingTimeoutMs} ms`)), this.#pingTimeoutMs)
      connection.on('error', onError)
      connection.ping().then(
        () => finish(),
        (error: unknown) => finish(toError(error)),
      )
    })
  }

  async #shutdown(connection: Redis): Promise<void> {
    if (connection.status === 'ready') {
      // QUIT lets commands already sent finish; never wait long for it.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        connection.quit().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000))),
      ])
      clearTimeout(timer)
    }
    connection.disconnect()
  }

  #report(error: Error, source: BusErrorSource, channel?: Channel): void {
    try {
      this.#onError(error, channel ? { source, channel } : { source })
    } catch {
      // An error handler that throws must not break delivery.
    }
  }
}
