import { request } from 'node:http'

/**
 * The least a health probe waits for an answer, even past the end of the wait it belongs to.
 * Cut to what was left of the wait (down to a millisecond), the last probe reported "no
 * answer within 1 ms" for a version that had been answering 503 all along, and that was the
 * reason given for not starting it.
 */
export const MIN_PROBE_MS = 250
/** The most one probe waits: a hung version is asked again rather than waited for. */
export const MAX_PROBE_MS = 2000

/** How long the next probe of a wait that ends at `deadline` may take. */
export function probeTimeout(deadline: number, now = Date.now()): number {
  return Math.min(Math.max(deadline - now, MIN_PROBE_MS), MAX_PROBE_MS)
}

/** One GET; `agent: false` so no keep-alive socket outlives the check. */
export function probe(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      resolve({ ok: status >= 200 && status < 300, detail: `HTTP ${status}` })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: error.code ?? error.message }))
    req.end()
  })
}
