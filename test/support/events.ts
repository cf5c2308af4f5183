/** Helpers for the bus tests (schema/events) and anything else that needs a bus in a test. */
import { randomBytes } from 'node:crypto'
import type { RolloutChangedEvent } from '../../schema/events/channels.ts'

/** The Redis the tests use (a running server; suites isolate themselves with a random prefix). */
export const TEST_REDIS_URL = process.env.SENTRA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A channel prefix no other suite (or run) uses. */
export function randomPrefix(label = 'test'): string {
  return `sentra-${label}-${randomBytes(5).toString('hex')}:`
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A valid `rollout.changed` payload. */
export function rolloutChanged(seq: number, overrides: Partial<RolloutChangedEvent> = {}): RolloutChangedEvent {
  return {
    rolloutId: 'r1',
    application: 'checkout',
    seq,
    status: 'PROGRESSING',
    kind: 'weight',
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq % 60)).toISOString(),
    ...overrides,
  }
}
