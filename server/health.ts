import type { Bus } from '../schema/events/bus.ts'
import type { Store } from '../schema/store/index.ts'
import { POOL_TIMEOUT_CODE } from '../schema/store/mysql-timeouts.ts'

const CHECK_TIMEOUT_MS = 2000

async function within(label: string, check: Promise<void>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${label}: no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS)
  })
  try {
    return await Promise.race([check.then(() => null), timeout])
  } catch (error) {
    return `${label}: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    clearTimeout(timer)
  }
}

/** Ready means the store answers and, with Redis, so does Redis; otherwise the reasons. */
export async function checkReadiness(store: Store, bus: Bus): Promise<{ ready: boolean; checks: Record<string, string> }> {
  // The ping has a deadline of its own, not only the race below: on a hung database (issue #9)
  // a ping that merely lost the race would keep its pooled connection waiting for good, and
  // an orchestrator's probes would use up the pool. Timed out, the connection is dropped.
  const [storeProblem, busProblem] = await Promise.all([within('store', store.db.ping(CHECK_TIMEOUT_MS)), within(`bus (${bus.kind})`, bus.ping())])
  const checks = { store: storeProblem ?? 'ok', bus: busProblem ?? 'ok' }
  return { ready: storeProblem === null && busProblem === null, checks }
}

/** Node's and mysql2's codes for a database that cannot be reached (not a bad statement). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', POOL_TIMEOUT_CODE])

/**
 * Whether an error means the store is down or unreachable (MariaDB stopped, a connection
 * cut), rather than a fault of the request or of our code. mysql2 also marks every error
 * that leaves a connection unusable `fatal`. The API answers these with 503 and a plain
 * message (docs/ha.md, "When the database is down") that asks the client to retry.
 */
export function isStoreUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const { code, fatal } = current as Error & { code?: unknown; fatal?: unknown }
    if (fatal === true || (typeof code === 'string' && UNREACHABLE_CODES.has(code))) return true
  }
  return false
}

export const STORE_UNAVAILABLE_MESSAGE = 'the store (database) is not reachable right now; retry shortly'
/** Seconds a client is told to wait before retrying a request refused for an unreachable store. */
export const STORE_RETRY_AFTER_SECONDS = 5
