/** Retry timing of webhook deliveries: exponential backoff with jitter, capped. */

export interface BackoffOptions {
  /** Delay before the second attempt, before jitter. Default 1000 ms. */
  baseDelayMs: number
  /** The cap, before jitter. Default 5 minutes. */
  maxDelayMs: number
  /** Uniform in [0, 1); tests pass a fixed one. */
  random?: () => number
}

/**
 * How long to wait after failed attempt number `attempt` (1 for the first): base × 2^(attempt-1)
 * capped at `maxDelayMs` (1 s, 2 s, 4 s, … by default), of which a random half is taken off
 * ("equal jitter"), so receivers that fail together are not retried in lockstep.
 */
export function retryDelayMs(attempt: number, { baseDelayMs, maxDelayMs, random = Math.random }: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30)
  const capped = Math.min(maxDelayMs, baseDelayMs * 2 ** exponent)
  return Math.round(capped / 2 + random() * (capped / 2))
}
