import type { ExecutionResult } from 'graphql'
import { Group, type GroupCounters, type Started } from './group.ts'
import { DEFAULT_MAX_BUFFERED_BYTES, type FanoutSocket } from './socket.ts'
import { TokenLiveness } from './token-check.ts'

export interface FanoutStats extends GroupCounters {
  /** Shared executions running now. */
  readonly groups: number
  /** Subscribers they serve. */
  readonly subscribers: number
  /** Token checks that reached the store (the rest shared one in flight). */
  readonly tokenReads: number
}

export interface FanoutHubOptions {
  /** Whether a token id is still usable (store.tokens.isActive); asked before each delivery. */
  isActive: (tokenId: string) => Promise<boolean>
  /** A socket with more than this unsent is closed with WS_TOO_SLOW instead of written to. */
  maxBufferedBytes?: number
}

function isAsyncIterable(value: Started): value is AsyncIterable<ExecutionResult> {
  return typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
}

/**
 * Execute-once fan-out for graphql-ws subscriptions: subscribers whose operations have the
 * same key (server/fanout/key.ts) share one source stream and one execution per event, and
 * each result is serialized once for all of them. Without it every subscriber ran its own
 * bus subscription, token read, refetch, execution and JSON.stringify for every event.
 */
export class FanoutHub {
  /** Per key, the newest group (the only one that may still accept members). */
  readonly #joinable = new Map<string, Group>()
  readonly #live = new Set<Group>()
  readonly #liveness: TokenLiveness
  readonly #maxBufferedBytes: number
  readonly #counters: GroupCounters = { executions: 0, deliveries: 0, slowClosed: 0 }

  constructor({ isActive, maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES }: FanoutHubOptions) {
    if (!(maxBufferedBytes > 0)) throw new RangeError(`maxBufferedBytes must be positive, got ${maxBufferedBytes}`)
    this.#liveness = new TokenLiveness(isActive)
    this.#maxBufferedBytes = maxBufferedBytes
  }

  /**
   * Adds a subscriber (graphql-ws operation `id` on `socket`) to the group of `key`,
   * starting one with `start` when none accepts members (`signal` aborts when that group
   * stops: the stream must end its subscriptions then). Resolves with what graphql-ws
   * should iterate for this operation, or with the result (errors) starting gave.
   */
  async join(key: string, subscriber: { id: string; socket: FanoutSocket; tokenId: string }, start: (signal: AbortSignal) => Promise<Started> | Started): Promise<AsyncIterableIterator<ExecutionResult, undefined> | ExecutionResult> {
    let group = this.#joinable.get(key)
    if (!group?.accepting) group = this.#start(key, start)
    const member = group.add(subscriber.id, subscriber.socket, subscriber.tokenId)
    const started = await group.started
    return isAsyncIterable(started) ? member.sink : started
  }

  #start(key: string, start: (signal: AbortSignal) => Promise<Started> | Started): Group {
    const group: Group = new Group({
      liveness: this.#liveness,
      maxBufferedBytes: this.#maxBufferedBytes,
      counters: this.#counters,
      onEnd: () => {
        if (this.#joinable.get(key) === group) this.#joinable.delete(key)
        this.#live.delete(group)
      },
    })
    this.#joinable.set(key, group)
    this.#live.add(group)
    group.started = Promise.resolve().then(() => start(group.signal))
    group.started.then(
      (started) => (isAsyncIterable(started) ? group.pump(started) : group.abandon()),
      () => group.abandon(),
    )
    return group
  }

  get stats(): FanoutStats {
    let subscribers = 0
    for (const group of this.#live) subscribers += group.members.size
    return { ...this.#counters, groups: this.#live.size, subscribers, tokenReads: this.#liveness.reads }
  }
}
