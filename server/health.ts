import type { Bus } from '../schema/events/bus.ts'
import type { Store } from '../schema/store/index.ts'

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
  const [storeProblem, busProblem] = await Promise.all([within('store', store.db.ping()), within(`bus (${bus.kind})`, bus.ping())])
  const checks = { store: storeProblem ?? 'ok', bus: busProblem ?? 'ok' }
  return { ready: storeProblem === null && busProblem === null, checks }
}
