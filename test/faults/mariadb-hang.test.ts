import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { DEFAULT_QUERY_TIMEOUT_MS } from '../../schema/store/connect.ts'
import { openStore, type Store } from '../../schema/store/index.ts'
import { TEST_REDIS_URL } from '../support/databases.ts'
import { startSentra, type SentraProcess } from '../support/processes.ts'
import { waitFor } from '../support/rollouts.ts'
import { startPrivateMariadb, type PrivateMariadb } from './mariadb-server.ts'
import { chainProblem, controllerEnv, decisionLogProblems, faultSpec, listenPort, recordTraffic, startController, type ControllerProcess } from './support.ts'

/** SENTRA_FAULT_DB_HANG_MS: how long MariaDB is SIGSTOPped. */
const HANG_MS = Number(process.env.SENTRA_FAULT_DB_HANG_MS ?? 20_000)
/**
 * The default lease TTL: a controller's scan waits on the hung store for up to a statement
 * or connect timeout (5 s each by default) before it renews its Redis leases, so a TTL
 * shorter than that would lapse during any hang (docs/ha.md, "When the database hangs").
 */
const LEASE_TTL_MS = 15_000
/** Bounds, not speed claims: a hung store must give an answer, not a wait. */
const READYZ_BOUND_MS = 8000
const GRAPHQL_BOUND_MS = DEFAULT_QUERY_TIMEOUT_MS + 7000
const ADMIN_TOKEN = `fault-admin-${randomBytes(12).toString('hex')}`

vi.setConfig({ testTimeout: 240_000 + HANG_MS, hookTimeout: 180_000 })

/** A request and how long it took to be answered (aborted well after any bound the test checks). */
async function timed<T>(run: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now()
  const value = await run(AbortSignal.timeout(60_000))
  return { value, ms: Date.now() - started }
}

async function graphql(url: string, query: string, signal: AbortSignal = AbortSignal.timeout(60_000)) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query }),
    signal,
  })
  const text = await response.text()
  return { status: response.status, retryAfter: response.headers.get('retry-after'), text, body: JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] } }
}

async function readyz(url: string, signal: AbortSignal = AbortSignal.timeout(60_000)): Promise<{ status: number; body: { ready: boolean; checks: Record<string, string> } }> {
  const response = await fetch(`${url}/readyz`, { signal })
  return { status: response.status, body: (await response.json()) as { ready: boolean; checks: Record<string, string> } }
}

const ROLLOUT_QUERY = '{ rollouts(application: "db-hang", first: 5) { edges { node { status } } } }'

/**
 * Issue #9, a database that hangs rather than goes away: the test's own mariadbd
 * (test/faults/mariadb-server.ts) is SIGSTOPped for HANG_MS during the analysis of a good
 * canary, then SIGCONTed. Unlike a kill, nothing is refused or reset: the kernel still
 * accepts connections and open ones stay up, but no statement is ever answered. A real API
 * process and a real controller run on it throughout, never restarted, with the default
 * statement and connect timeouts (schema/store/connect.ts).
 *
 * While it hangs: /readyz answers 503 within seconds, GraphQL answers 503 STORE_UNAVAILABLE
 * within the statement timeout and a margin, the controller decides nothing, moves no
 * traffic and keeps its leases. Afterwards: /readyz 200, and the rollout promotes with a
 * whole decision log and an intact hash chain.
 */
describe('MariaDB hung (SIGSTOP) mid-rollout and resumed', () => {
  let mariadb: PrivateMariadb
  let store: Store
  let bus: Bus
  let server: SentraProcess | null = null
  let controller: ControllerProcess | null = null
  let traffic: ReturnType<typeof recordTraffic> | null = null
  let during: ReturnType<typeof recordTraffic> | null = null
  let apiUrl = ''
  let appPort = 0
  let rolloutId = ''

  beforeAll(async () => {
    mariadb = await startPrivateMariadb(await listenPort())
    await mariadb.createDatabase('sentra')
    const databaseUrl = mariadb.url('sentra')
    store = await openStore(databaseUrl)
    bus = createBus(TEST_REDIS_URL, { onError: () => {} })
    appPort = await listenPort()
    // An analysis (20 s at least) that the hang falls into from its start.
    const app = await store.applications.upsert('db-hang', faultSpec('db-hang', appPort, { interval: '1s', analyzeMin: '20s' }))
    await store.applications.setStableVersion(app.id, 'v1')
    server = startSentra('server/main.ts', { SENTRA_DATABASE_URL: databaseUrl, SENTRA_REDIS_URL: TEST_REDIS_URL, SENTRA_PORT: '0', SENTRA_HOST: '127.0.0.1', SENTRA_ADMIN_TOKEN: ADMIN_TOKEN })
    const line = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\/graphql/, 90_000)
    apiUrl = /(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(line)![1]!
    traffic = recordTraffic(new Map([['db-hang', appPort]]), { rate: 20 })
    controller = await startController(controllerEnv(databaseUrl, LEASE_TTL_MS))
    rolloutId = (await beginRollout(store, bus, (await store.applications.byId(app.id))!, 'v3')).id
  })
  afterAll(async () => {
    // Always let it carry on first: processes and pools closing against a stopped server
    // would wait on it.
    mariadb?.resume()
    traffic?.stop()
    during?.stop()
    await controller?.stop()
    await server?.stop()
    await bus?.close()
    await store?.close()
    await mariadb?.dispose()
  })

  it('answers 503 promptly, holds every decision and the traffic while the store hangs, and recovers without a restart', async () => {
    onTestFailed(() => {
      console.log(`controller:\n${controller?.output().slice(-6000)}`)
      console.log(`server:\n${server?.output().slice(-3000)}`)
    })
    const before = await waitFor(() => store.rollouts.byId(rolloutId), (r) => r?.currentStepIndex === 1 && r.canaryWeight === r.desiredWeight, {
      what: 'the analysis step',
      timeoutMs: 90_000,
    })
    expect(before?.canaryWeight).toBe(20)
    expect((await readyz(apiUrl)).status).toBe(200)
    expect((await graphql(apiUrl, ROLLOUT_QUERY)).body.data?.rollouts).toEqual({ edges: [{ node: { status: 'PROGRESSING' } }] })
    const [decisionsBefore = []] = await store.decisions.for([rolloutId])

    mariadb.pause()
    const stoppedAt = Date.now()
    during = recordTraffic(new Map([['db-hang', appPort]]), { rate: 20 })

    // GraphQL first, while the API's pool still holds its idle connection from before the
    // hang: the token check's statement goes out on it and gets no answer. It times out and
    // the request is answered 503 STORE_UNAVAILABLE, not QUERY_TIMEOUT and not a hang
    // (before statement timeouts it waited for as long as the database did).
    const refused = await timed((signal) => graphql(apiUrl, ROLLOUT_QUERY, signal))
    expect(refused.value.status).toBe(503)
    expect(refused.value.retryAfter).not.toBeNull()
    expect(refused.value.body.errors?.[0]?.extensions?.code).toBe('STORE_UNAVAILABLE')
    expect(refused.value.text).not.toMatch(/\n\s+at |PROTOCOL_|ETIMEDOUT|mysql/i)
    expect(refused.ms).toBeLessThan(GRAPHQL_BOUND_MS)

    // /readyz: 503 naming the store, answered within seconds (its ping has its own 2 s
    // deadline; here it has to open a connection, which the hung server never greets), not
    // left waiting. Liveness stays 200.
    const notReady = await timed((signal) => readyz(apiUrl, signal))
    expect(notReady.value.status).toBe(503)
    expect(notReady.value.body.checks.store).not.toBe('ok')
    expect(notReady.ms).toBeLessThan(READYZ_BOUND_MS)
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200)

    // Once more, later in the hang (the connections the first answers dropped are gone,
    // new ones cannot be opened): still prompt.
    const again = await timed((signal) => readyz(apiUrl, signal))
    expect(again.value.status).toBe(503)
    expect(again.ms).toBeLessThan(READYZ_BOUND_MS)

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + HANG_MS - Date.now())))
    expect(server!.child.exitCode).toBeNull()
    expect(controller!.child.exitCode).toBeNull()
    during.stop()

    // The proxy kept the stored weight (no actuation): ~20 % canary, not 0, 60 or 100.
    const canary = during.seen('db-hang', 'v3')?.count ?? 0
    const stable = during.seen('db-hang', 'v1')?.count ?? 0
    expect(canary + stable).toBeGreaterThan(50)
    expect(Math.abs((100 * canary) / (canary + stable) - before!.canaryWeight)).toBeLessThan(10)

    mariadb.resume()
    const resumedAt = Date.now()

    await waitFor(() => readyz(apiUrl), (r) => r.status === 200, { what: '/readyz 200 after SIGCONT', timeoutMs: 30_000, everyMs: 500 })
    const readyAfterMs = Date.now() - resumedAt
    const answered = await graphql(apiUrl, ROLLOUT_QUERY)
    expect(answered.status).toBe(200)
    expect(answered.body.errors).toBeUndefined()

    const done = await waitFor(() => store.rollouts.byId(rolloutId), (r) => r !== null && !['PENDING', 'PROGRESSING'].includes(r.status), { what: 'the rollout to finish', timeoutMs: 150_000 })
    expect(done?.status).toBe('SUCCEEDED')
    const [decisions = []] = await store.decisions.for([rolloutId])
    expect(decisionLogProblems(decisions, false)).toEqual([])
    expect(await chainProblem(store, rolloutId, decisions.length)).toBeNull()
    expect(decisions.slice(0, decisionsBefore.length).map((d) => [d.seq, d.action])).toEqual(decisionsBefore.map((d) => [d.seq, d.action]))
    const quiet = decisions.filter((d) => d.at.getTime() > stoppedAt && d.at.getTime() < resumedAt)
    expect(quiet.map((d) => `${d.action} at +${d.at.getTime() - stoppedAt} ms`)).toEqual([])
    // The scan's store read fails after a timeout, not never, so the leases were renewed
    // throughout and the canary was never taken off to win the rollout back.
    expect(controller!.output()).not.toMatch(/lost the lease on rollout|lost rollout \S+ to a newer holder/)
    expect(server!.child.exitCode).toBeNull()
    expect(controller!.child.exitCode).toBeNull()
    const complaints = controller!.output().split('\n').filter((line) => /tick of rollout \S+ failed|cannot list active rollouts|could not reconcile|actuation failed/.test(line))
    expect(complaints.length).toBeGreaterThan(0)
    const firstAfter = decisions.find((d) => d.at.getTime() >= resumedAt)
    console.log(
      JSON.stringify({
        hangMs: resumedAt - stoppedAt,
        readyzDuringHang: { status: notReady.value.status, ms: notReady.ms, check: notReady.value.body.checks.store, again: again.ms },
        graphqlDuringHang: { status: refused.value.status, code: refused.value.body.errors?.[0]?.extensions?.code, ms: refused.ms },
        canarySharePercent: Number(((100 * canary) / (canary + stable)).toFixed(1)),
        requestsDuringHang: canary + stable,
        readyzOkAfterResumeMs: readyAfterMs,
        firstDecisionAfterResume: firstAfter ? { action: firstAfter.action, ms: firstAfter.at.getTime() - resumedAt } : null,
        controllerComplaints: complaints.length,
        example: complaints[0],
      }),
    )
  })
})
