/**
 * Whether a token is still usable, checked before every delivery (a revoked or expired
 * token must not keep receiving events) but at most once at a time per token: every
 * subscriber of every shared execution asks at the same moment when an event arrives, and
 * they all get the answer of the one read in flight. Nothing is cached past that read, so
 * a revocation is seen by the next event, as before.
 */
export class TokenLiveness {
  readonly #isActive: (tokenId: string) => Promise<boolean>
  readonly #inFlight = new Map<string, Promise<boolean>>()
  /** Reads actually made (for tests and the benchmark: far fewer than deliveries). */
  reads = 0

  constructor(isActive: (tokenId: string) => Promise<boolean>) {
    this.#isActive = isActive
  }

  check(tokenId: string): Promise<boolean> {
    const pending = this.#inFlight.get(tokenId)
    if (pending) return pending
    this.reads++
    // A failed read (database down) rejects for every waiter; the caller ends those
    // subscriptions with an error rather than serve a token nobody could check.
    const read = this.#isActive(tokenId).finally(() => this.#inFlight.delete(tokenId))
    this.#inFlight.set(tokenId, read)
    return read
  }
}
