import { GraphQLError, type ExecutionResult } from 'graphql'
import { graphError } from '../../schema/graph/errors.ts'
import { nextFrame, serializePayload } from './frame.ts'
import { Sink } from './sink.ts'
import { closeSlow, OPEN, type FanoutSocket } from './socket.ts'
import type { TokenLiveness } from './token-check.ts'

/** One subscriber: a graphql-ws operation id on a socket, served under a token. */
export interface Member {
  readonly id: string
  readonly socket: FanoutSocket
  readonly tokenId: string
  readonly sink: Sink
}

/** What starting the shared subscription gave: a stream of results, or one result (errors) instead. */
export type Started = AsyncIterable<ExecutionResult> | ExecutionResult

export interface GroupCounters {
  /** Results produced by shared executions (one per event per group). */
  executions: number
  /** `next` messages written to sockets. */
  deliveries: number
  /** Sockets closed for being too slow. */
  slowClosed: number
}

export interface GroupOptions {
  liveness: TokenLiveness
  maxBufferedBytes: number
  counters: GroupCounters
  /** Called when the group ends (possibly more than once): the hub forgets it. */
  onEnd: () => void
}

/**
 * Subscribers with the same key sharing one source stream and one execution per event:
 * each result is serialized once and the same bytes are written to every member's socket.
 *
 * A group accepts new members only until its first result. A source stream may begin with
 * a snapshot (rolloutChanged sends the rollout as it is now); someone joining after that
 * would never get one, so later subscribers start a group of their own.
 */
export class Group {
  readonly members = new Set<Member>()
  #accepting = true
  #ended = false
  #iterator: AsyncIterator<ExecutionResult> | null = null
  /** Aborted when the group stops: ends the shared stream's bus subscriptions (shared-context.ts). */
  readonly #abort = new AbortController()
  readonly #options: GroupOptions
  /** Resolves with what starting gave; set by the hub right after construction. */
  started!: Promise<Started>

  constructor(options: GroupOptions) {
    this.#options = options
  }

  get accepting(): boolean {
    return this.#accepting && !this.#ended
  }

  add(id: string, socket: FanoutSocket, tokenId: string): Member {
    const member: Member = { id, socket, tokenId, sink: new Sink(() => this.#leave(member)) }
    this.members.add(member)
    return member
  }

  /** Runs the shared stream until it ends, fails or loses its last member. */
  async pump(stream: AsyncIterable<ExecutionResult>): Promise<void> {
    const iterator = stream[Symbol.asyncIterator]()
    this.#iterator = iterator
    if (this.#ended) {
      // Everyone left while it was starting.
      void iterator.return?.()?.catch(() => {})
      return
    }
    try {
      for (;;) {
        const step = await iterator.next()
        if (step.done || this.#ended) break
        this.#accepting = false
        this.#options.counters.executions++
        await this.#deliver(serializePayload(step.value))
      }
      for (const member of this.members) member.sink.end()
    } catch (error) {
      // A source stream error (the rollout does not exist, ...) is the same for every member:
      // each gets it as its own operation's error; the sockets stay open.
      for (const member of this.members) member.sink.fail(error)
    } finally {
      this.#finish()
    }
  }

  /** Ends a group that never got a stream (starting gave errors instead). */
  abandon(): void {
    this.#finish()
  }

  async #deliver(payload: string): Promise<void> {
    const { liveness, maxBufferedBytes, counters } = this.#options
    // Each member's token is checked before it is sent anything, as whileTokenValid did per
    // subscriber; members sharing a token (and groups receiving the same event) share a read.
    const checks = new Map<string, Promise<boolean | Error>>()
    for (const member of this.members) {
      if (!checks.has(member.tokenId)) {
        checks.set(member.tokenId, liveness.check(member.tokenId).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))
      }
    }
    const answers = new Map<string, boolean | Error>()
    await Promise.all([...checks].map(async ([tokenId, check]) => answers.set(tokenId, await check)))
    for (const member of [...this.members]) {
      // Left, or its socket closed, while the tokens were being checked.
      if (!this.members.has(member)) continue
      const answer = answers.get(member.tokenId)
      if (answer !== true) {
        this.members.delete(member)
        member.sink.fail(
          answer instanceof Error
            ? new GraphQLError('could not check the token', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })
            : graphError('UNAUTHENTICATED', 'the token is no longer valid (revoked or expired)'),
        )
        continue
      }
      const socket = member.socket
      if (socket.readyState !== OPEN) continue
      if (socket.bufferedAmount > maxBufferedBytes) {
        // Never wait for a slow reader: the others would wait with it.
        counters.slowClosed++
        closeSlow(socket, maxBufferedBytes)
        continue
      }
      socket.send(nextFrame(member.id, payload))
      counters.deliveries++
    }
    if (this.members.size === 0) this.#stop()
  }

  #leave(member: Member): void {
    if (!this.members.delete(member)) return
    if (this.members.size === 0) this.#stop()
  }

  /** No member left: end the shared source stream (and its bus subscription) now. */
  #stop(): void {
    if (this.#ended) return
    this.#ended = true
    this.#abort.abort()
    // Without an iterator yet, pump() returns it as soon as the stream arrives.
    void this.#iterator?.return?.()?.catch(() => {})
    this.#options.onEnd()
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  #finish(): void {
    this.#ended = true
    this.#abort.abort()
    this.members.clear()
    this.#options.onEnd()
  }
}
