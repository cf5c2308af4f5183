import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { setTimeout as wait } from 'node:timers/promises'
import { join } from 'node:path'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { assertSpec } from '../../schema/spec.ts'
import type { Store } from '../../schema/store/index.ts'
import { ACTIVE_STATUSES, type Rollout } from '../../schema/store/models.ts'
import { startLoad } from './load.ts'
import { DEMO_APPLICATION, DEMO_LISTEN_PORT, demoSpec, demoVersionIsBad, type DemoTelemetry } from './spec.ts'

export interface DemoOptions {
  store: Store
  bus: Bus
  log: (line: string) => void
  port?: number
  /** Quiet time between two rollouts, so a person can look at the result. */
  pauseMs?: number
  /** Requests per second the load generator sends through the proxy (default 100: the more traffic, the sooner the evidence). */
  rate?: number
  /**
   * Sentra's API URL: the demo versions export spans and logs to its OTLP receiver, with a
   * token of their own (operate scope, made at each start, the previous one revoked).
   */
  otlpUrl?: string
  /** An OTLP endpoint that needs no token (an OpenTelemetry Collector), instead of `otlpUrl`. */
  exportTo?: string
  /** The proxy's listen host (default loopback; the compose stack listens on every interface). */
  host?: string
  /** Where the load goes (default the proxy on loopback); several URLs share `rate`. */
  loadUrls?: readonly string[]
  /** The application already applied by {@link prepareDemo} (else the demo applies it when it starts). */
  prepared?: PreparedDemo
}

/** The demo application as applied at this start, and the token file its exporters read. */
export interface PreparedDemo {
  telemetry: (DemoTelemetry & { dispose(): Promise<void> }) | null
}

export const DEMO_TELEMETRY_TOKEN_NAME = 'demo telemetry (generated at start)'

/**
 * A fresh token for the demo's exporters, in a file only this user can read: the spec (which
 * every reader of the graph sees) carries the file's path, never the token.
 */
async function telemetryToken(store: Store, endpoint: string): Promise<DemoTelemetry & { dispose(): Promise<void> }> {
  for (let old = await store.tokens.byName(DEMO_TELEMETRY_TOKEN_NAME); old && old.revokedAt === null; old = await store.tokens.byName(DEMO_TELEMETRY_TOKEN_NAME)) {
    await store.tokens.revoke(old.id)
  }
  const { token } = await store.tokens.create(DEMO_TELEMETRY_TOKEN_NAME, 'operate')
  const dir = await mkdtemp(join(tmpdir(), 'sentra-demo-'))
  const tokenFile = join(dir, 'otlp-token')
  await writeFile(tokenFile, token, { mode: 0o600 })
  return { endpoint, tokenFile, dispose: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * Applies the demo application with this start's exporter token (the previous one revoked,
 * its file gone with the previous process). Embedded mode calls it before the controller
 * starts: the controller brings the stable version up from the stored spec at once, and a spec
 * still naming the previous start's token file left that version exporting without a token,
 * refused by the OTLP receiver until the next rollout.
 */
export async function prepareDemo({ store, bus, log, port = DEMO_LISTEN_PORT, otlpUrl, exportTo, host }: Pick<DemoOptions, 'store' | 'bus' | 'log' | 'port' | 'otlpUrl' | 'exportTo' | 'host'>): Promise<PreparedDemo> {
  const telemetry = otlpUrl ? await telemetryToken(store, otlpUrl) : null
  try {
    if (otlpUrl) log(`demo: the demo versions export spans and logs to ${otlpUrl}/v1/traces and /v1/logs`)
    const exporting: DemoTelemetry | null = telemetry ?? (exportTo ? { endpoint: exportTo } : null)
    if (exportTo && !telemetry) log(`demo: the demo versions export spans and logs to ${exportTo}`)
    const spec = assertSpec(demoSpec({ port, ...(host ? { host } : {}), ...(exporting ? { telemetry: exporting } : {}) }))
    const app = await store.applications.upsert(spec.name, spec)
    await bus.publish('application.changed', { applicationId: app.id, name: app.name, at: new Date().toISOString() })
    return { telemetry }
  } catch (error) {
    await telemetry?.dispose()
    throw error
  }
}

function versionNumber(version: string | null): number {
  return Number(/^v(\d+)$/.exec(version ?? '')?.[1] ?? 0)
}

/**
 * The live demo: applies the `demo` application, deploys v1, sends steady traffic through
 * Sentra's proxy, then keeps rolling out new versions: v2 (bad: must be rolled back), v3
 * (good: must be promoted), v4, v5, ... so the dashboard always has something moving.
 */
export function runDemo(options: DemoOptions): { stop(): Promise<void> } {
  const { store, bus, log, port = DEMO_LISTEN_PORT, pauseMs = 10_000, rate = 100, loadUrls } = options
  let loads: ReturnType<typeof startLoad>[] = []
  let telemetry = options.prepared?.telemetry ?? null
  const stopping = new AbortController()
  const { signal } = stopping
  // Cut short by stop(): the pause between rollouts is 10 s, and stopping Sentra waits for the demo.
  const sleep = (ms: number): Promise<void> => wait(ms, undefined, { signal }).catch(() => undefined)

  async function finished(rolloutId: string): Promise<Rollout | null> {
    while (!signal.aborted) {
      const rollout = await store.rollouts.byId(rolloutId)
      if (!rollout || !ACTIVE_STATUSES.includes(rollout.status)) return rollout
      await sleep(500)
    }
    return null
  }

  async function roll(version: string): Promise<void> {
    const app = await store.applications.byName(DEMO_APPLICATION)
    if (!app) return
    const active = (await store.rollouts.list({ first: 1, application: DEMO_APPLICATION, statuses: ACTIVE_STATUSES })).items[0]?.node
    const rollout = active ?? (await beginRollout(store, bus, app, version))
    if (!active) {
      const kind = app.stableVersion === null ? 'first deploy' : demoVersionIsBad(version) ? 'a bad release: more errors and slower' : 'a good release'
      log(`demo: rolling out ${version} (${kind})`)
    }
    const done = await finished(rollout.id)
    if (done) log(`demo: ${done.toVersion} ${done.status.toLowerCase().replace('_', ' ')}`)
  }

  async function main(): Promise<void> {
    if (!options.prepared) telemetry = (await prepareDemo(options)).telemetry
    const app = await store.applications.byName(DEMO_APPLICATION)
    if (!app) return
    if (!app.stableVersion) await roll('v1')
    if (signal.aborted) return
    const urls = loadUrls && loadUrls.length > 0 ? loadUrls : [`http://127.0.0.1:${port}/`]
    const allowedHosts = urls.map((url) => new URL(url).hostname)
    loads = urls.map((url) => startLoad({ url, rate: rate / urls.length, allowedHosts }))
    log(`demo: sending ~${rate} requests/s to ${urls.join(', ')} through Sentra's proxy`)
    while (!signal.aborted) {
      await sleep(pauseMs)
      if (signal.aborted) break
      const current = await store.applications.byName(DEMO_APPLICATION)
      const latest = Math.max(versionNumber(current?.stableVersion ?? null), ...(await recentVersions()))
      await roll(`v${latest + 1}`)
    }
  }

  async function recentVersions(): Promise<number[]> {
    const page = await store.rollouts.list({ first: 20, application: DEMO_APPLICATION })
    return page.items.map((item) => versionNumber(item.node.toVersion))
  }

  const running = main().catch((error: unknown) => {
    if (!signal.aborted) log(`demo: stopped by an error: ${error instanceof Error ? error.message : String(error)}`)
  })

  return {
    stop: async () => {
      stopping.abort()
      for (const load of loads) load.stop()
      await running
      await telemetry?.dispose()
    },
  }
}
