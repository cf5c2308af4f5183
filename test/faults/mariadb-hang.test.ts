import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest'
import { DEFAULT_STATEMENT_TIMEOUT_MS } from '../../schema/store/connect.ts'
import { waitFor } from '../support/rollouts.ts'
import { atAnalysis, graphqlAs, readyz as readyzWithin, startDbFaultRollout, type DbFaultRollout } from './db-fault-rollout.ts'
import { chainProblem, decisionLogProblems, recordTraffic } from './support.ts'

/** SENTRA_FAULT_DB_HANG_MS: how long MariaDB is SIGSTOPped. */
const HANG_MS = Number(process.env.SENTRA_FAULT_DB_HANG_MS ?? 20_000)
/**
 * Shorter than a statement timeout plus a scan: the controller keeps its Redis leases only
 * because it renews them while its scan's store read waits on the hung database (docs/ha.md,
 * "When the database hangs"); it used to renew only once that read had failed.
 */
const LEASE_TTL_MS = 3000
/** Bounds, not speed claims: a hung store must give an answer, not a wait. */
const READYZ_BOUND_MS = 8000
const GRAPHQL_BOUND_MS = DEFAULT_STATEMENT_TIMEOUT_MS + 7000

vi.setConfig({ testTimeout: 240_000 + HANG_MS, hookTimeout: 180_000 })

/** A request and how long it took to be answered (aborted well after any bound the test checks). */
async function timed<T>(run: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now()
  const value = await run(AbortSignal.timeout(60_000))
  return { value, ms: Date.now() - started }
}

const ROLLOUT_QUERY = '{ rollouts(application: "db-hang", first: 5) { edges { node { status } } } }'

/**
 * Issue #9, a database that hangs rather than goes away: the test's own mariadbd
 * (test/faults/mariadb-server.ts) is SIGSTOPped for HANG_MS during the analysis of a good
 * canary, then SIGCONTed. Unlike a kill, nothing is refused or reset: the kernel still
 * accepts connections and open ones stay up, but no statement is ever answered. A real API
 * process and a real controller run on it throughout, never restarted, with the default
 * statement and connect timeouts (schema/store/connect.ts; setup in db-fault-rollout.ts).
 *
 * While it hangs: /readyz answers 503 within seconds, GraphQL answers 503 STORE_UNAVAILABLE
 * within the statement timeout and a margin, the controller decides nothing, moves no
 * traffic and keeps its leases. Afterwards: /readyz 200, and the rollout promotes with a
 * whole decision log and an intact hash chain.
 */
describe('MariaDB hung (SIGSTOP) mid-rollout and resumed', () => {
  let setup: DbFaultRollout | null = null
  let during: ReturnType<typeof recordTraffic> | null = null
  const graphql = (url: string, query: string, signal: AbortSignal = AbortSignal.timeout(60_000)) => graphqlAs(setup!.adminToken, url, query, signal)
  const readyz = (url: string, signal: AbortSignal = AbortSignal.timeout(60_000)) => readyzWithin(url, signal)

  beforeAll(async () => {
    // An analysis (20 s at least) that the hang falls into from its start.
    setup = await startDbFaultRollout('db-hang', { analyzeMin: '20s', leaseTtlMs: LEASE_TTL_MS })
  })
  afterAll(async () => {
    during?.stop()
    // stop() lets the database carry on first: closing against a stopped server would wait on it.
    await setup?.stop()
  })

  it('answers 503 promptly, holds every decision and the traffic while the store hangs, and recovers without a restart', async () => {
    const { mariadb, store, server, controller, apiUrl, appPort, rolloutId } = setup!
    onTestFailed(() => {
      console.log(`controller:\n${controller?.output().slice(-6000)}`)
      console.log(`server:\n${server?.output().slice(-3000)}`)
    })
    // The analysis step, with the canary's 20 % applied by the proxy and recorded; the API answers.
    const { before, decisionsBefore, ready, statuses } = await atAnalysis(setup!, 'db-hang')
    expect(before?.canaryWeight).toBe(20)
    expect(ready).toBe(200)
    expect(statuses).toEqual({ edges: [{ node: { status: 'PROGRESSING' } }] })

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
