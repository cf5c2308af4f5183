import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

/** A free TCP port on loopback (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export const DEMO_SERVICE = fileURLToPath(new URL('../../services/demo.mjs', import.meta.url))

/** A quick canary of services/demo.mjs (even versions bad, odd good) for end-to-end tests. */
export function quickSpec(name: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    target: { kind: 'process', listen: `127.0.0.1:${port}`, command: [process.execPath, DEMO_SERVICE], env: { APP_VERSION: '{{version}}', PORT: '{{port}}' } },
    strategy: { canary: { steps: [{ setWeight: 20 }, { analyze: { min: '3s', max: '60s' } }, { setWeight: 60 }, { analyze: { min: '3s', max: '60s' } }] } },
    gates: [
      { name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.03 } },
      { name: 'latency', signal: 'latencyP95', judge: { kind: 'relative', maxRatio: 2 } },
    ],
    interval: '1s',
    inconclusiveLimit: 30,
    ...extra,
  }
}

/** Polls `read` until `done` holds for its value, or fails with the last value seen. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, { timeoutMs = 60_000, everyMs = 200, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  while (Date.now() < deadline) {
    last = await read()
    if (done(last)) return last
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 500)}`)
}

/** Which versions answer through the proxy, over `count` sequential requests. */
export async function versionsServed(port: number, count = 20): Promise<Record<string, number>> {
  const seen: Record<string, number> = {}
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/probe`)
    await response.arrayBuffer()
    const version = response.headers.get('x-sentra-version') ?? 'none'
    seen[version] = (seen[version] ?? 0) + 1
  }
  return seen
}
