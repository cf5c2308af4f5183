import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { createApiServer, type ApiServer } from '../../server/app.ts'
import { createDashboardHandler, type DashboardHandler } from '../../web/serve.ts'
import { openTestStore } from '../support/databases.ts'

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url))
export const CHROMIUM = process.env.SENTRA_CHROMIUM ?? '/usr/bin/chromium'
/** Where the API links each trace (SENTRA_TRACE_URL_TEMPLATE); nothing listens there. */
export const TRACE_URL_TEMPLATE = 'http://127.0.0.1:9/explore?trace={{traceId}}'
/**
 * Where a test run compiles the pages: a folder of its own under web/.next-e2e (see
 * web/next.config.ts), with a tsconfig extending web/tsconfig.json beside it; both removed afterwards.
 */
function testDistDir(): { relative: string; absolute: string } {
  const relative = `.next-e2e/run-${process.pid}-${randomBytes(3).toString('hex')}`
  const absolute = join(WEB_DIR, relative)
  mkdirSync(absolute, { recursive: true })
  // Beside the folder, not in it: Next.js empties its output folder when it starts.
  const tsconfig = { extends: '../tsconfig.json', include: ['../next-env.d.ts', '../**/*.ts', '../**/*.tsx'], exclude: ['../node_modules'] }
  writeFileSync(`${absolute}.tsconfig.json`, `${JSON.stringify(tsconfig, null, 2)}\n`)
  return { relative, absolute }
}

export interface DashboardStack {
  url: string
  store: Store
  bus: Bus
  /** The API with the dashboard mounted (what the browser uses). */
  server: ApiServer
  /** The same store and bus behind an API that takes any document: the test's own queries (`gql`). */
  scripts: ApiServer
  dashboard: DashboardHandler
  tokens: { admin: string; operate: string; read: string }
  gql<T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data?: T; errors?: { message: string }[] }>
  close(): Promise<void>
}

/**
 * The API on a loopback port over a fresh SQLite store, with the dashboard mounted as in
 * embedded mode (development mode: pages compile on first request, no build step), and a
 * token of every scope. By default that API runs persisted operations only
 * (SENTRA_PERSISTED_ONLY), so every page proves it sends nothing else; the test's own
 * queries go to a second API over the same store and bus that takes any document.
 */
export async function startDashboardStack({ persistedOnly = true }: { persistedOnly?: boolean } = {}): Promise<DashboardStack> {
  const nodeEnv = process.env.NODE_ENV
  const distDir = testDistDir()
  process.env.SENTRA_WEB_DIST_DIR = distDir.relative
  const database = await openTestStore('sqlite')
  const store = createStore(database.db)
  const bus = createBus(undefined)
  const dashboard = await createDashboardHandler({ dev: true, dir: WEB_DIR, hostname: '127.0.0.1' })
  const server = createApiServer({ store, bus, dashboard, persistedOnly, traceUrlTemplate: TRACE_URL_TEMPLATE })
  const { url } = await server.listen(0, '127.0.0.1')
  const scripts = createApiServer({ store, bus })
  const scriptsUrl = (await scripts.listen(0, '127.0.0.1')).url
  const tokens = {
    admin: (await store.tokens.create('test admin', 'admin')).token,
    operate: (await store.tokens.create('test operator', 'operate')).token,
    read: (await store.tokens.create('test reader', 'read')).token,
  }
  return {
    url,
    store,
    bus,
    server,
    scripts,
    dashboard,
    tokens,
    gql: async (query, variables, token = tokens.admin) => {
      const response = await fetch(`${scriptsUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      })
      return (await response.json()) as never
    },
    close: async () => {
      await server.close()
      await scripts.close()
      await dashboard.close()
      await bus.close()
      await database.dispose()
      rmSync(distDir.absolute, { recursive: true, force: true })
      rmSync(`${distDir.absolute}.tsconfig.json`, { force: true })
      // Next.js set NODE_ENV for its own rendering; leave the worker as it was.
      if (nodeEnv === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = nodeEnv
    },
  }
}

export interface Browser {
  context: BrowserContext
  page: Page
  /** Console errors and uncaught page errors seen so far (a healthy page has none). */
  errors: string[]
  close(): Promise<void>
}

/** Debian's Chromium, headless, with a fresh profile (STACK.md, trap 12); never a downloaded browser. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'sentra-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    // The dev-mode hot-reload socket may complain while a page compiles; that is Next.js's, not ours.
    if (message.type() === 'error' && !/_next\/(webpack-)?hmr/.test(message.text())) errors.push(`console: ${message.text()} (at ${message.location().url})`)
  })
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Where screenshots go: SENTRA_SCREENSHOTS, else a fresh temporary folder. */
export function screenshotDir(): string {
  return process.env.SENTRA_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'sentra-screenshots-'))
}
