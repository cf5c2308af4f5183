/**
 * The dashboard benchmark (`npm run bench -- dashboard`): the embedded stack (the API with
 * the dashboard mounted, production build, SQLite, in-memory bus) and Debian's Chromium,
 * headless, through playwright-core. It measures
 *
 * - `firstLoad`: the JavaScript a fresh browser downloads to show a rollout page (every
 *   script response: bytes on the wire and decoded), and how long until the rollout is shown;
 * - `decisionToPaint`: for BENCH_DECISIONS decisions (default 50), the time from the decision
 *   being published on the bus to the animation frame in which the page shows it. Both
 *   clocks are this machine's wall clock (`performance.timeOrigin + performance.now()` in
 *   Node and in the page), so they compare directly.
 *
 * It uses the production build in web/.next, and runs `next build web` first when there is
 * none (or with BENCH_REBUILD=1). The API runs persisted operations only, as the dashboard
 * is meant to be deployed. See docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { chromium, type BrowserContext, type Response } from 'playwright-core'
import { plannedSteps } from '../schema/rollout-steps.ts'
import { assertSpec } from '../schema/spec.ts'
import { createBus } from '../schema/events/index.ts'
import type { Bus } from '../schema/events/bus.ts'
import { openStore, type Store } from '../schema/store/index.ts'
import { createApiServer, type ApiServer } from '../server/app.ts'
import { SESSION_COOKIE } from '../server/auth.ts'
import { demoSpec } from '../test/support/api.ts'
import { createDashboardHandler, hasProductionBuild, type DashboardHandler } from '../web/serve.ts'

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url))
const CHROMIUM = process.env.SENTRA_CHROMIUM ?? '/usr/bin/chromium'
/** STACK.md, trap 12 (headless and a fresh profile are given by launchPersistentContext below). */
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const DECISIONS = positiveInt(process.env.BENCH_DECISIONS, 50)
/** Between decisions: each is measured alone, not as part of a burst. */
const GAP_MS = 150
const PAINT_TIMEOUT_MS = 10_000

function positiveInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > 10_000) throw new Error(`BENCH_DECISIONS: "${raw}" must be a whole number from 1 to 10000`)
  return value
}

function log(message: string): void {
  process.stderr.write(`[dashboard] ${message}\n`)
}

const now = () => performance.timeOrigin + performance.now()
const round = (value: number, digits = 1) => Number(value.toFixed(digits))

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index]!
}

export interface DashboardBenchSummary {
  benchmark: 'dashboard'
  build: { mode: 'production'; builtAt: string }
  firstLoad: {
    scripts: number
    scriptBytesTransferred: number
    scriptBytesDecoded: number
    /** From navigation to the rollout being on screen (its data loaded), in ms. */
    rolloutShownMs: number
  }
  decisionToPaint: {
    decisions: number
    meanMs: number
    p50Ms: number
    p95Ms: number
    p99Ms: number
    minMs: number
    maxMs: number
  }
}

function ensureBuild(): string {
  if (process.env.BENCH_REBUILD === '1' || !hasProductionBuild(WEB_DIR)) {
    log('building the dashboard (next build web)…')
    const nextBin = fileURLToPath(new URL('../node_modules/next/dist/bin/next', import.meta.url))
    const built = spawnSync(process.execPath, [nextBin, 'build', WEB_DIR], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', SENTRA_WEB_DIST_DIR: '' } })
    if (built.status !== 0) throw new Error(`next build failed (exit ${built.status})`)
  }
  return statSync(join(WEB_DIR, '.next', 'BUILD_ID')).mtime.toISOString()
}

/** A PENDING rollout of the demo spec, moved to PROGRESSING: what the page shows while decisions arrive. */
async function seedRollout(store: Store): Promise<{ id: string; application: string }> {
  const app = await store.applications.upsert('bench-shop', assertSpec(demoSpec('bench-shop')))
  const rollout = await store.rollouts.create({ application: app, toVersion: 'v2', steps: plannedSteps(assertSpec(app.spec)) })
  await store.rollouts.update(rollout.id, { status: 'PROGRESSING', startedAt: new Date() })
  return { id: rollout.id, application: app.name }
}

/** Writes decision `n` as the controller does (seq bump and decision in one transaction) and publishes it; returns when it was published. */
async function publishDecision(store: Store, bus: Bus, rollout: { id: string; application: string }, n: number): Promise<number> {
  const written = await store.transaction(async (tx) => {
    const current = await tx.rollouts.byId(rollout.id)
    if (!current) throw new Error('the bench rollout disappeared')
    const updated = await tx.rollouts.update(rollout.id, { status: 'PROGRESSING' }, { expectSeq: current.seq })
    await tx.decisions.append({
      rolloutId: rollout.id,
      seq: updated.seq,
      action: 'PAUSE',
      actor: 'controller',
      reason: `bench decision ${n}`,
      stepIndex: 0,
      fromWeight: 0,
      toWeight: 0,
      evidence: { gates: [] },
    })
    return updated
  })
  const publishedAt = now()
  await bus.publish('rollout.changed', { rolloutId: rollout.id, application: rollout.application, seq: written.seq, status: written.status, kind: 'decision', at: new Date().toISOString() })
  return publishedAt
}

/**
 * Runs in the page: records, per "bench decision N" timeline item, the wall-clock time of the
 * first animation frame after the DOM change that added it (the frame that paints it).
 */
const OBSERVE_TIMELINE = `(() => {
  const painted = (window.__benchPainted = {})
  const seen = new Set()
  const scan = () => {
    const found = []
    for (const item of document.querySelectorAll('.timeline-item')) {
      const match = /bench decision (\\d+)/.exec(item.textContent || '')
      if (match && !seen.has(match[1])) {
        seen.add(match[1])
        found.push(match[1])
      }
    }
    if (found.length > 0) requestAnimationFrame(() => {
      const at = performance.timeOrigin + performance.now()
      for (const n of found) painted[n] = at
    })
  }
  scan()
  new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, characterData: true })
})()`

async function measureFirstLoad(context: BrowserContext, url: string): Promise<DashboardBenchSummary['firstLoad']> {
  const page = context.pages()[0] ?? (await context.newPage())
  const scripts: Response[] = []
  page.on('response', (response) => {
    if (response.request().resourceType() === 'script') scripts.push(response)
  })
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
  const started = now()
  await page.goto(url)
  try {
    await page.locator('article[data-rollout-id] .timeline-item').first().waitFor({ timeout: 60_000 })
  } catch (error) {
    const shown = (await page.locator('body').innerText().catch(() => '')).slice(0, 500)
    throw new Error(`the rollout page did not show the rollout (at ${page.url()}): ${shown.replace(/\s+/g, ' ')}; page errors: ${problems.join(' | ') || 'none'}`, { cause: error })
  }
  const rolloutShownMs = now() - started
  await page.waitForLoadState('networkidle')
  let transferred = 0
  let decoded = 0
  for (const response of scripts) {
    const sizes = await response.request().sizes()
    transferred += sizes.responseBodySize
    decoded += (await response.body()).length
  }
  return { scripts: scripts.length, scriptBytesTransferred: transferred, scriptBytesDecoded: decoded, rolloutShownMs: round(rolloutShownMs) }
}

export async function run(): Promise<DashboardBenchSummary> {
  const builtAt = ensureBuild()
  const workDir = mkdtempSync(join(tmpdir(), 'sentra-bench-dashboard-'))
  let store: Store | null = null
  let bus: Bus | null = null
  let dashboard: DashboardHandler | null = null
  let server: ApiServer | null = null
  let context: BrowserContext | null = null
  const nodeEnv = process.env.NODE_ENV
  try {
    store = await openStore(join(workDir, 'sentra.db'))
    bus = createBus(undefined)
    dashboard = await createDashboardHandler({ dev: false, dir: WEB_DIR, hostname: '127.0.0.1' })
    server = createApiServer({ store, bus, dashboard, production: true, persistedOnly: true })
    const { url } = await server.listen(0, '127.0.0.1')
    const token = (await store.tokens.create('bench reader', 'read')).token
    const rollout = await seedRollout(store)
    // The first decision is there before the page opens, so "shown" means the data arrived.
    await publishDecision(store, bus, rollout, 0)
    log(`stack on ${url}; launching ${CHROMIUM}`)

    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 800 },
    })
    // Signed in by cookie, so the first page the browser loads is the rollout page itself.
    await context.addCookies([{ name: SESSION_COOKIE, value: encodeURIComponent(token), url, httpOnly: true, sameSite: 'Strict' }])
    // Pages address rollouts by their graph (Relay) id.
    const firstLoad = await measureFirstLoad(context, `${url}/rollouts/${encodeURIComponent(encodeGlobalID('Rollout', rollout.id))}`)
    log(`first load: ${firstLoad.scripts} scripts, ${firstLoad.scriptBytesTransferred} bytes transferred`)

    const page = context.pages()[0]!
    await page.evaluate(OBSERVE_TIMELINE)
    const latencies: number[] = []
    for (let n = 1; n <= DECISIONS; n++) {
      const publishedAt = await publishDecision(store, bus, rollout, n)
      const handle = await page.waitForFunction((key) => (window as unknown as { __benchPainted: Record<string, number> }).__benchPainted[key], String(n), { timeout: PAINT_TIMEOUT_MS })
      const paintedAt = (await handle.jsonValue()) as number
      latencies.push(paintedAt - publishedAt)
      await new Promise((resolve) => setTimeout(resolve, GAP_MS))
    }
    const sorted = latencies.slice().sort((a, b) => a - b)
    log(`decision to paint: median ${round(percentile(sorted, 50))} ms over ${latencies.length}`)
    return {
      benchmark: 'dashboard',
      build: { mode: 'production', builtAt },
      firstLoad,
      decisionToPaint: {
        decisions: latencies.length,
        meanMs: round(latencies.reduce((sum, v) => sum + v, 0) / latencies.length),
        p50Ms: round(percentile(sorted, 50)),
        p95Ms: round(percentile(sorted, 95)),
        p99Ms: round(percentile(sorted, 99)),
        minMs: round(sorted[0]!),
        maxMs: round(sorted.at(-1)!),
      },
    }
  } finally {
    await context?.close().catch(() => undefined)
    await server?.close().catch(() => undefined)
    await dashboard?.close().catch(() => undefined)
    await bus?.close().catch(() => undefined)
    await store?.db.close().catch(() => undefined)
    rmSync(workDir, { recursive: true, force: true })
    // Next.js set NODE_ENV for its own rendering.
    if (nodeEnv === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = nodeEnv
  }
}
