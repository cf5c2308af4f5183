/**
 * Close code for a connection refused because its token already holds
 * SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN open sockets on this process (docs/security.md).
 */
export const WS_TOO_MANY_CONNECTIONS = 4430

/** SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN by default: far above a dashboard's tabs or a tool's workers. */
export const DEFAULT_WS_MAX_CONNECTIONS_PER_TOKEN = 100

/**
 * Open graphql-ws connections per token (by token id, so a token's cookie and its
 * connectionParams count together), so one leaked or misused token cannot hold an
 * unbounded number of sockets, each with its buffers and subscriptions. Per process:
 * two server processes allow up to twice the cap in total.
 */
export class ConnectionCap {
  readonly #max: number
  readonly #open = new Map<string, number>()

  /** `max` 0 = no cap. */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`connection cap must be a whole number >= 0, got ${max}`)
    this.#max = max
  }

  /**
   * Takes a slot for the token; false (and nothing taken) when it already holds the cap.
   * The returned release is idempotent, so a socket's close can call it unconditionally.
   */
  acquire(tokenId: string): (() => void) | null {
    const open = this.#open.get(tokenId) ?? 0
    if (this.#max > 0 && open >= this.#max) return null
    this.#open.set(tokenId, open + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.#open.get(tokenId) ?? 1) - 1
      if (left > 0) this.#open.set(tokenId, left)
      else this.#open.delete(tokenId)
    }
  }

  /** Connections the token holds now. */
  count(tokenId: string): number {
    return this.#open.get(tokenId) ?? 0
  }

  get max(): number {
    return this.#max
  }
}
