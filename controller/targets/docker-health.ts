/** Waiting for a container to be ready: its health path answers 2xx, and its HEALTHCHECK (if the image has one) says healthy. */
import type { DockerEngine } from './docker-engine.ts'
import { probe, probeTimeout } from './health-probe.ts'

/** Characters kept of each output line quoted in a failure reason. */
const MAX_LINE = 300

export interface HealthWait {
  engine: DockerEngine
  containerId: string
  /** For messages, e.g. "shop/v2 (container sentra-shop-v2)". */
  label: string
  url: string
  timeoutMs: number
  /** True once the caller gives up (Sentra is stopping): the wait ends at once, the container stays. */
  abandoned?: () => boolean
}

/**
 * Resolves once the container is ready. Rejects with the engine's account (exit code, error,
 * last output) as soon as the container stops running, or after `timeoutMs`.
 * The engine is asked about the container every few probes, not every one: fewer API calls.
 */
export async function waitContainerHealthy({ engine, containerId, label, url, timeoutMs, abandoned = () => false }: HealthWait): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  let pause = 50
  for (let attempt = 0; ; attempt += 1) {
    if (abandoned()) throw new Error(`stopped waiting for ${label}: the docker target is closing`)
    const answer = await probe(url, probeTimeout(deadline))
    const mustInspect = answer.ok || attempt % 4 === 0
    if (mustInspect) {
      const state = await engine.inspect(containerId)
      if (state.state !== 'running' && state.state !== 'created') throw new Error(await describeStopped(engine, containerId, label, 'while starting'))
      if (state.health === 'unhealthy') throw new Error(`${label} is unhealthy by its image's HEALTHCHECK${state.healthOutput ? `: ${state.healthOutput}` : ''}`)
      if (answer.ok && (state.health === null || state.health === 'healthy')) return
      if (answer.ok) last = `HEALTHCHECK ${state.health}`
    }
    if (!answer.ok) last = answer.detail
    if (Date.now() >= deadline) throw new Error(`${label} did not become healthy at ${url} within ${timeoutMs} ms (last: ${last})`)
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(deadline - Date.now(), 0))))
    pause = Math.min(pause * 2, 500)
  }
}

/** "shop/v4 (container sentra-shop-v4) exited with code 3: <engine error> (last output: ...)". */
export async function describeStopped(engine: DockerEngine, containerId: string, label: string, when = ''): Promise<string> {
  const state = await engine.inspect(containerId)
  const how = state.oomKilled ? 'was killed for running out of memory' : state.state === 'exited' ? `exited with code ${state.exitCode}` : `is ${state.state}`
  // Cut: a program printing megabytes without a newline must not become a megabyte reason.
  const lines = (await engine.lastOutput(containerId, 5).catch(() => [] as string[])).map((line) => (line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line))
  const error = state.error ? `: ${state.error}` : ''
  const output = lines.length > 0 ? ` (last output: ${lines.join(' | ')})` : ''
  return `${label} ${how}${when ? ` ${when}` : ''}${error}${output}`
}
