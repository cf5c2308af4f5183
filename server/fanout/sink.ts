import type { ExecutionResult } from 'graphql'

/**
 * What graphql-ws iterates for one subscriber of a shared execution. It yields nothing:
 * the hub writes that subscriber's `next` messages straight to its socket from the shared
 * payload. It only tells graphql-ws how the operation ends: done (graphql-ws sends
 * `complete`) or failed (graphql-ws sends `error` with that error). graphql-ws calls
 * `return()` when the client completes the operation or the socket closes; `onLeave`
 * then takes the subscriber out of its group.
 */
export class Sink implements AsyncIterableIterator<ExecutionResult, undefined> {
  #state: 'open' | 'done' | 'failed' = 'open'
  #error: unknown = null
  #waiting: { resolve: (step: IteratorResult<ExecutionResult, undefined>) => void; reject: (error: unknown) => void } | null = null
  readonly #onLeave: () => void

  constructor(onLeave: () => void) {
    this.#onLeave = onLeave
  }

  get open(): boolean {
    return this.#state === 'open'
  }

  /** The operation ended normally. */
  end(): void {
    if (this.#state !== 'open') return
    this.#state = 'done'
    this.#waiting?.resolve({ done: true, value: undefined })
    this.#waiting = null
  }

  /** The operation ended with an error (sent to this subscriber only). */
  fail(error: unknown): void {
    if (this.#state !== 'open') return
    this.#state = 'failed'
    this.#error = error
    this.#waiting?.reject(error)
    this.#waiting = null
  }

  next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    if (this.#state === 'done') return Promise.resolve({ done: true, value: undefined })
    if (this.#state === 'failed') {
      // Rejects once, as a generator that threw; done afterwards.
      this.#state = 'done'
      return Promise.reject(this.#error)
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.#leave()
    return Promise.resolve({ done: true, value: undefined })
  }

  throw(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.#leave()
    return Promise.resolve({ done: true, value: undefined })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  #leave(): void {
    const wasOpen = this.#state === 'open'
    this.end()
    if (wasOpen) this.#onLeave()
  }
}
