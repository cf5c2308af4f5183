/** Helpers shared by the process target's tests (real child processes on loopback ports). */
import { fileURLToPath } from 'node:url'
import { assertSpec, type AppSpec } from '../../schema/spec.ts'
import { freePort } from './process-port.ts'
import type { RolloutRef } from './target.ts'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const DEMO = fileURLToPath(new URL('../../services/demo.mjs', import.meta.url))

/** The demo application behind a proxy on a free loopback port; no errors and no extra latency unless `env` says so. */
export async function demoApp(options: { name?: string; command?: string[]; env?: Record<string, string> } = {}): Promise<AppSpec> {
  const port = await freePort()
  return assertSpec({
    name: options.name ?? 'demo',
    target: {
      kind: 'process',
      listen: `127.0.0.1:${port}`,
      command: options.command ?? [process.execPath, 'services/demo.mjs'],
      env: { APP_VERSION: '{{version}}', PORT: '{{port}}', DEMO_ERROR_RATE: '0', DEMO_EXTRA_LATENCY_MS: '0', ...options.env },
      healthPath: '/healthz',
    },
    strategy: { canary: { steps: [{ setWeight: 50 }] } },
  })
}

/** The same application with another command (same name and proxy address). */
export function withCommand(app: AppSpec, command: string[]): AppSpec {
  if (app.target.kind !== 'process') throw new Error('not a process target')
  return { ...app, target: { ...app.target, command } }
}

export function rollout(application: AppSpec, stableVersion: string | null, canaryVersion: string): RolloutRef {
  return { rolloutId: `r-${canaryVersion}`, application, stableVersion, canaryVersion }
}

export function proxyUrl(app: AppSpec): string {
  if (app.target.kind !== 'process') throw new Error('not a process target')
  return `http://${app.target.listen}`
}

/** `count` GETs (a few at a time) through `url`; the x-sentra-version of each answer. */
export async function versionsServed(url: string, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>()
  const batch = 8
  for (let sent = 0; sent < count; sent += batch) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(batch, count - sent) }, async () => {
        const res = await fetch(`${url}/hello`)
        await res.arrayBuffer()
        return `${res.headers.get('x-sentra-version') ?? 'none'}:${res.status}`
      }),
    )
    for (const answer of answers) seen.set(answer, (seen.get(answer) ?? 0) + 1)
  }
  return seen
}

/** True while a process with this pid exists (signal 0 only checks). */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Polls `check` until it holds or `timeoutMs` passes; generous bounds for a slow machine. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
