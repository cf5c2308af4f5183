import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startLoad } from '../../controller/demo/load.ts'
import { parseGlobalId } from '../../schema/graph/ids.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'
import { launchBrowser, screenshotDir, startDashboardStack, type Browser, type DashboardStack } from './support.ts'

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the
 * API server with the dashboard mounted as in embedded mode, the controller, real canary
 * processes behind Sentra's proxy, and steady load: sign-in, the live list, a decision
 * appearing live, read-only tokens, and operator commands from the UI.
 */
// Generous: development mode compiles each page on first visit, slowly on a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 600_000 })

const ROLLOUT = `query($id: ID!) { rollout(id: $id) { id status canaryWeight decisions { action actor reason at } } }`

const ERROR_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const SLOW_TRACE = '5bf92f3577b34da6a3ce929d0e0e4737'

/** Two traces as the OTLP receiver would link them: one with a failing query two levels deep, one slow and healthy. */
function demoTraces(rolloutId: string): Parameters<DashboardStack['store']['evidence']['saveTraces']>[0] {
  const at = new Date()
  const t0 = at.getTime()
  const common = { rolloutId, stepIndex: 1, version: 'v2', application: 'shop', service: 'shop', source: 'otlp' as const, at }
  return [
    {
      ...common,
      traceId: SLOW_TRACE,
      status: 'ok',
      error: false,
      durationMs: 900,
      rootName: 'GET /slow',
      spans: [{ spanId: 'b000000000000001', parentSpanId: null, name: 'GET /slow', service: 'shop', startMs: t0, durationMs: 900, status: 'ok', kind: 'server', attributes: {} }],
    },
    {
      ...common,
      traceId: ERROR_TRACE,
      status: 'error',
      error: true,
      durationMs: 100,
      rootName: 'GET /checkout',
      spans: [
        { spanId: 'a000000000000001', parentSpanId: null, name: 'GET /checkout', service: 'shop', startMs: t0, durationMs: 100, status: 'ok', kind: 'server', attributes: { 'http.route': '/checkout' } },
        { spanId: 'a000000000000003', parentSpanId: 'a000000000000001', name: 'render', service: 'shop', startMs: t0 + 60, durationMs: 30, status: 'unset', kind: 'internal', attributes: {} },
        { spanId: 'a000000000000002', parentSpanId: 'a000000000000001', name: 'SELECT orders', service: 'db', startMs: t0 + 10, durationMs: 40, status: 'error', kind: 'client', attributes: { 'db.statement': 'SELECT * FROM orders' } },
        { spanId: 'a000000000000004', parentSpanId: 'a000000000000002', name: 'connect', service: 'db', startMs: t0 + 12, durationMs: 5, status: 'error', kind: 'client', attributes: {} },
      ],
    },
  ]
}

interface RolloutView {
  id: string
  status: string
  canaryWeight: number
  decisions: { action: string; actor: string; reason: string; at: string }[]
}

describe('the dashboard in Chromium', () => {
  let stack: DashboardStack
  let runtime: ControllerRuntime
  let browser: Browser
  let load: ReturnType<typeof startLoad> | null = null
  const shots = screenshotDir()
  const ids: Record<string, string> = {}

  const href = (id: string) => `${stack.url}/rollouts/${encodeURIComponent(id)}`
  async function start(version: string): Promise<string> {
    const started = await stack.gql<{ startRollout: { id: string } }>(
      `mutation($v: String!) { startRollout(application: "shop", version: $v) { id } }`,
      { v: version },
      stack.tokens.operate,
    )
    expect(started.errors).toBeUndefined()
    return started.data!.startRollout.id
  }
  async function view(id: string): Promise<RolloutView> {
    return (await stack.gql<{ rollout: RolloutView }>(ROLLOUT, { id })).data!.rollout
  }
  /**
   * Drops the session with no dashboard page open: a page left open would go on fetching
   * (the traces panel refetches as the rollout changes) and log the API's 401s.
   */
  async function signOutHere(page: Browser['page']): Promise<void> {
    await page.goto('about:blank')
    await browser.context.clearCookies()
  }
  async function shot(name: string): Promise<void> {
    const path = join(shots, `${name}.png`)
    await browser.page.evaluate('window.scrollTo(0, 0)')
    await browser.page.screenshot({ path, fullPage: true })
    console.log(`screenshot: ${path}`)
  }

  beforeAll(async () => {
    stack = await startDashboardStack()
    const port = await freePort()
    runtime = await startControllerRuntime({ store: stack.store, bus: stack.bus, scanIntervalMs: 200, notifications: false })
    // A timed pause first, so a page opened at the start sees every later change arrive live.
    const spec = quickSpec('shop', port, {
      strategy: {
        canary: {
          steps: [{ pause: { duration: '4s' } }, { setWeight: 20 }, { analyze: { min: '2s', max: '60s' } }, { setWeight: 50 }, { analyze: { min: '2m', max: '5m' } }],
        },
      },
    })
    const applied = await stack.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec })
    expect(applied.errors).toBeUndefined()
    const v1 = await start('v1')
    await waitFor(() => view(v1), (r) => r.status === 'SUCCEEDED', { what: 'v1 deployed' })
    load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: 40 })
    // Development mode compiles each route on its first request: do it now, not while a test measures.
    const cookie = `sentra_session=${encodeURIComponent(stack.tokens.admin)}`
    for (const path of ['/login', '/', `/rollouts/${encodeURIComponent(v1)}`, '/applications']) {
      const response = await fetch(`${stack.url}${path}`, { headers: { cookie } })
      expect(response.status, path).toBe(200)
    }
    browser = await launchBrowser()
    // And the browser's side of the pages (client chunks).
    await browser.page.goto(`${stack.url}/login?token=${encodeURIComponent(stack.tokens.admin)}`)
    await browser.page.goto(href(v1))
    await browser.page.locator('.timeline-item').first().waitFor({ timeout: 60_000 })
    // Off the page before the cookie goes: a live page would refetch without it, and the
    // browser logs that 401 as a console error, which the tests' error checks then count.
    await signOutHere(browser.page)
  })

  afterAll(async () => {
    load?.stop()
    await browser?.close()
    await runtime?.stop()
    await stack?.close()
  })

  it('refuses a signed-out browser and a wrong token', async () => {
    const { page } = browser
    await page.goto(`${stack.url}/`)
    expect(new URL(page.url()).pathname).toBe('/login')
    await page.goto(`${stack.url}/login?token=not-a-real-token-at-all`)
    expect(page.url()).toMatch(/\/login\?error=invalid$/)
    await expect.poll(() => page.getByTestId('login-message').textContent()).toMatch(/not valid/)
    // The form refuses it the same way.
    await page.getByLabel('API token').fill('still-not-a-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/error=invalid/)
    expect(await page.context().cookies()).toEqual([])
    await shot('login-refused')
  })

  it('signs in with the login URL, shows the list live, and a decision appears live on the rollout page', async () => {
    const { page } = browser
    // The API runs persisted operations only (see startDashboardStack): the pages send hashes, never documents.
    const sent: { query?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } }[] = []
    const record = (request: { url(): string; method(): string; postDataJSON(): unknown }) => {
      if (new URL(request.url()).pathname === '/graphql' && request.method() === 'POST') sent.push(request.postDataJSON() as (typeof sent)[number])
    }
    page.on('request', record)
    await page.goto(`${stack.url}/login?token=${encodeURIComponent(stack.tokens.admin)}`)
    expect(new URL(page.url()).pathname).toBe('/')
    await expect.poll(() => page.getByTestId('viewer').textContent()).toMatch(/test admin/)
    await expect.poll(() => page.locator('.rollout-row').count()).toBe(1)

    // A new rollout appears in the open list without a reload.
    ids.v2 = await start('v2')
    const row = page.locator(`.rollout-row[data-rollout-id="${ids.v2}"]`)
    await row.waitFor({ timeout: 5000 })
    await row.getByRole('link').click()
    await page.waitForURL(href(ids.v2))
    const article = page.locator(`article[data-rollout-id="${ids.v2}"]`)
    await article.waitFor()
    expect(await page.locator('.timeline-item[data-action="ROLLBACK"]').count()).toBe(0)

    // The weight moves and the bad version is rolled back, all while the page stays open.
    await page.getByTestId('canary-weight').first().filter({ hasText: /^20 %/ }).waitFor({ timeout: 15_000 })
    await page.locator('.timeline-item[data-action="ROLLBACK"]').waitFor({ timeout: 30_000 })
    const shownAt = Date.now()
    const rollback = (await view(ids.v2)).decisions.find((d) => d.action === 'ROLLBACK')!
    expect(rollback.actor).toBe('controller')
    const delay = shownAt - Date.parse(rollback.at)
    console.log(`rollback decision shown ${delay} ms after it was made`)
    expect(delay).toBeLessThan(2000)
    await expect.poll(() => article.getAttribute('data-status'), { timeout: 10_000 }).toBe('ROLLED_BACK')
    // Its reason, and the evidence on demand.
    const item = page.locator('.timeline-item[data-action="ROLLBACK"]')
    expect(await item.textContent()).toContain(rollback.reason)
    await item.locator('summary').first().click()
    await item.locator('.evidence-gates').waitFor()
    expect(await item.locator('.evidence-gates').textContent()).toMatch(/Fail/)
    await shot('rollout-rolled-back')
    expect(browser.errors).toEqual([])
    page.off('request', record)
    expect(sent.length).toBeGreaterThan(0)
    for (const body of sent) {
      expect(body.query).toBeUndefined()
      expect(body.extensions?.persistedQuery?.sha256Hash).toMatch(/^[0-9a-f]{64}$/)
    }
  })

  it('shows a read-only token everything but no controls', async () => {
    const { page } = browser
    await signOutHere(page)
    await page.goto(`${stack.url}/login`)
    await page.getByLabel('API token').fill(stack.tokens.read)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${stack.url}/`)
    ids.v3 = await start('v3')
    await page.goto(href(ids.v3))
    await page.locator(`article[data-rollout-id="${ids.v3}"]`).waitFor()
    await expect.poll(() => page.getByTestId('viewer').textContent()).toMatch(/test reader/)
    await page.locator('.ladder').waitFor()
    // No trace has been linked to this rollout: the panel says so rather than staying blank.
    await page.getByTestId('linked-traces').getByTestId('traces-empty').waitFor()
    expect(await page.getByTestId('traces-empty').textContent()).toMatch(/No linked traces yet/)
    expect(await page.getByRole('group', { name: 'Rollout commands' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: /Pause|Roll back|Abort|Promote/ }).count()).toBe(0)
    await shot('rollout-read-only')
  })

  it('lets an operator pause, resume and promote from the UI, and the status changes live', async () => {
    const { page } = browser
    await signOutHere(page)
    await page.goto(`${stack.url}/login?token=${encodeURIComponent(stack.tokens.operate)}`)
    await page.goto(href(ids.v3!))
    const article = page.locator(`article[data-rollout-id="${ids.v3}"]`)
    await article.waitFor()
    await expect.poll(() => article.getAttribute('data-status'), { timeout: 10_000 }).toBe('PROGRESSING')

    // Pause, with a reason; confirmation first.
    const pause = page.getByRole('button', { name: 'Pause', exact: true })
    expect(await page.getByRole('button', { name: 'Resume', exact: true }).isDisabled()).toBe(true)
    await pause.click()
    await page.getByLabel(/Reason/).fill('checking the latency graph')
    await page.getByRole('button', { name: 'Confirm: Pause' }).click()
    await expect.poll(() => article.getAttribute('data-status'), { timeout: 5000 }).toBe('PAUSED')
    const paused = page.locator('.timeline-item[data-action="PAUSE"]').first()
    await paused.waitFor()
    expect(await paused.textContent()).toMatch(/test operator.*checking the latency graph/)
    expect(await pause.isDisabled()).toBe(true)
    await shot('rollout-paused')

    await page.getByRole('button', { name: 'Resume', exact: true }).click()
    await page.getByRole('button', { name: 'Confirm: Resume' }).click()
    await expect.poll(() => article.getAttribute('data-status'), { timeout: 5000 }).toBe('PROGRESSING')

    // The steps go on by themselves: the weight reaches 50 % without a reload.
    await page.getByTestId('canary-weight').first().filter({ hasText: /^50 %/ }).waitFor({ timeout: 30_000 })

    await page.getByRole('button', { name: 'Promote fully', exact: true }).click()
    await page.getByRole('button', { name: 'Confirm: Promote fully' }).click()
    await expect.poll(() => article.getAttribute('data-status'), { timeout: 5000 }).toBe('SUCCEEDED')
    const promoted = page.locator('.timeline-item[data-action="PROMOTE"]').first()
    await promoted.waitFor()
    expect(await promoted.textContent()).toMatch(/test operator/)
    expect((await view(ids.v3!)).decisions.map((d) => [d.action, d.actor]).filter(([, actor]) => actor === 'test operator')).toEqual([
      ['PAUSE', 'test operator'],
      ['RESUME', 'test operator'],
      ['PROMOTE', 'test operator'],
    ])
    await page.getByTestId('controls-finished').waitFor()
    await shot('rollout-promoted')
    expect(browser.errors).toEqual([])
  })

  it('lists linked traces, errors first, and opens a span waterfall usable from the keyboard', async () => {
    const { page } = browser
    await signOutHere(page)
    await page.goto(`${stack.url}/login?token=${encodeURIComponent(stack.tokens.read)}`)
    const id = ids.v2!
    await stack.store.evidence.saveTraces(demoTraces(parseGlobalId(id, 'Rollout')))
    await page.goto(href(id))
    const panel = page.getByTestId('linked-traces')
    await panel.locator('.trace-item').first().waitFor()
    // Errors first, then the slowest; the first one is open.
    expect(await panel.locator('.trace-item').evaluateAll((items) => items.map((i) => [i.getAttribute('data-trace-id'), i.getAttribute('data-error')]))).toEqual([
      [ERROR_TRACE, 'true'],
      [SLOW_TRACE, 'false'],
    ])
    const waterfall = panel.locator(`.waterfall[data-trace-id="${ERROR_TRACE}"]`)
    await waterfall.waitFor()
    expect(await waterfall.locator('li.span').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-span-id'), r.getAttribute('data-depth'), r.classList.contains('span-error')]))).toEqual([
      ['a000000000000001', '0', false],
      ['a000000000000002', '1', true],
      ['a000000000000004', '2', true],
      ['a000000000000003', '1', false],
    ])
    expect(await waterfall.getByTestId('trace-link').getAttribute('href')).toBe(`http://127.0.0.1:9/explore?trace=${ERROR_TRACE}`)
    // Bars to scale: the 40 ms query of a 100 ms trace is 40 % wide and starts at 10 %.
    const bar = await waterfall.locator('li[data-span-id="a000000000000002"] .span-bar').getAttribute('style')
    expect(bar).toMatch(/left: 10%; width: 40%/)
    // Keyboard: arrows move between spans, Enter shows a span's attributes.
    await waterfall.getByRole('button', { name: /^GET \/checkout/ }).focus()
    await page.keyboard.press('ArrowDown')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/^SELECT orders, db, 40 ms, starts at 10 ms, error$/)
    await page.keyboard.press('Enter')
    await waterfall.locator('.span-details').waitFor()
    expect(await waterfall.locator('.span-details').textContent()).toContain('db.statement')
    await shot('rollout-traces')

    // Errors only, and back.
    await panel.getByLabel('Errors only').check()
    await expect.poll(() => panel.locator('.trace-item').count()).toBe(1)
    await panel.getByLabel('Errors only').uncheck()
    await expect.poll(() => panel.locator('.trace-item').count()).toBe(2)
    expect(browser.errors).toEqual([])
  })

  it('says when live updates are lost, reconnects by itself, and catches up on what it missed', async () => {
    const { page, context } = browser
    await page.goto(`${stack.url}/`)
    await page.locator('.rollout-row').first().waitFor()
    expect(await page.getByTestId('disconnected').count()).toBe(0)
    await context.setOffline(true)
    try {
      // A dead connection is noticed by its missing pong (a ping every 5 s, 3 s to answer).
      await page.getByTestId('disconnected').waitFor({ timeout: 20_000 })
      await shot('list-disconnected')
      // Published while the browser cannot hear it.
      ids.v4 = await start('v4')
    } finally {
      await context.setOffline(false)
    }
    await page.getByTestId('disconnected').waitFor({ state: 'detached', timeout: 20_000 })
    await page.locator(`.rollout-row[data-rollout-id="${ids.v4}"]`).waitFor({ timeout: 5000 })
  })

  it('signs out: the cookie is gone and the pages send the browser to sign in', async () => {
    const { page, context } = browser
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/\/login\?status=signed-out$/)
    expect((await context.cookies()).filter((c) => c.name === 'sentra_session')).toEqual([])
    await page.goto(`${stack.url}/applications`)
    expect(new URL(page.url()).pathname).toBe('/login')
  })
})
