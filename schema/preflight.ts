import { randomUUID } from 'node:crypto'
import type { Bus } from './events/bus.ts'
import type { PreflightIssue } from './events/channels.ts'
import type { AppSpec } from './spec.ts'

/** How long the API waits for a controller's dry run before starting the rollout anyway. */
export const PREFLIGHT_TIMEOUT_MS = 8000

/**
 * Asks a controller (any one; the first answer wins) to try every provider gate of the
 * application: the provider answers and each query parses. Resolves to the issues found,
 * or null when no controller answered in time (the rollout may start: its gates are
 * INCONCLUSIVE until the providers answer, never a pass). Applications with only
 * built-in signals need no dry run and resolve to [] at once.
 */
export async function preflight(bus: Bus, spec: AppSpec, version: string, timeoutMs = PREFLIGHT_TIMEOUT_MS): Promise<PreflightIssue[] | null> {
  if (!spec.gates.some((gate) => gate.provider !== undefined)) return []
  const requestId = randomUUID()
  let settle: (issues: PreflightIssue[] | null) => void = () => undefined
  const answered = new Promise<PreflightIssue[] | null>((resolve) => (settle = resolve))
  const unsubscribe = await bus.subscribe('preflight.reply', (reply) => {
    if (reply.requestId === requestId) settle(reply.issues)
  })
  const timer = setTimeout(() => settle(null), timeoutMs)
  try {
    await bus.publish('preflight.request', { requestId, application: spec.name, version, at: new Date().toISOString() })
    return await answered
  } finally {
    clearTimeout(timer)
    await unsubscribe()
  }
}
