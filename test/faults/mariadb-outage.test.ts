import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest'
import { waitFor } from '../support/rollouts.ts'
import { atAnalysis, graphqlAs, readyz as readyzWithin, startDbFaultRollout, type DbFaultRollout } from './db-fault-rollout.ts'
import { chainProblem, decisionLogProblems, recordTraffic } from './support.ts'

/** SENTRA_FAULT_DB_OUTAGE_MS: how long MariaDB is down (the issue asks for 30 s). */
const OUTAGE_MS = Number(process.env.SENTRA_FAULT_DB_OUTAGE_MS ?? 30_000)
const LEASE_TTL_MS = 3000
/** How long an answer of the API may take while the store is down: a bound, not a speed claim. */
const ANSWER_BOUND_MS = 15_000

vi.setConfig({ testTimeout: 300_000 + OUTAGE_MS, hookTimeout: 180_000 })

const ROLLOUT_QUERY = '{ rollouts(application: "db-outage", first: 5) { edges { node { status } } } }'

/**
 * Issue #9, item 2: MariaDB stopped for 30 s mid-rollout and started again. A mariadbd of
 * the test's own (test/faults/mariadb-server.ts), killed with SIGKILL (every connection
 * drops, as in a crash) during the analysis of a good canary, then started again on the
 * same datadir and port. A real API process (`npm run server`) and a real controller run
 * on it throughout, and are never restarted (test/faults/db-fault-rollout.ts).
 *
 * While it is down: /readyz answers 503 naming the store, GraphQL answers 503
 * STORE_UNAVAILABLE within a bound (no stack, no hang), the controller decides nothing and
 * moves no traffic (every actuation needs the store's fencing check, and the canary's share
 * of the requests stays the stored weight). Afterwards: /readyz 200 and GraphQL answers
 * again, the rollout promotes with a whole decision log and an intact hash chain.
 */
describe.each(['redis', 'store'] as const)('MariaDB stopped mid-rollout and started again (%s leases)', (leases) => {
  let setup: DbFaultRollout | null = null
  /** Requests sent while the store is down (stopped in afterAll too, should the test fail first). */
  let during: ReturnType<typeof recordTraffic> | null = null
  const graphql = (url: string, query: string) => graphqlAs(setup!.adminToken, url, query, AbortSignal.timeout(ANSWER_BOUND_MS))
  const readyz = (url: string) => readyzWithin(url, AbortSignal.timeout(ANSWER_BOUND_MS))

  beforeAll(async () => {
    // A long analysis (30 s at least) that the outage falls into.
    setup = await startDbFaultRollout('db-outage', { analyzeMin: '30s', leaseTtlMs: LEASE_TTL_MS, leases })
  })
  afterAll(async () => {
    during?.stop()
    await setup?.stop()
  })

  it('holds every decision and the traffic while the store is down, answers 503, and recovers without a restart', async () => {
    const { mariadb, store, server, controller, apiUrl, appPort, rolloutId } = setup!
    onTestFailed(() => {
      console.log(`controller:\n${controller?.output().slice(-6000)}`)
      console.log(`server:\n${server?.output().slice(-3000)}`)
    })
    // The analysis step, with the canary's 20 % applied by the proxy and recorded; the API answers.
    const { before, decisionsBefore, ready, statuses } = await atAnalysis(setup!, 'db-outage')
    expect(before?.canaryWeight).toBe(20)
    expect(ready).toBe(200)
    expect(statuses).toEqual({ edges: [{ node: { status: 'PROGRESSING' } }] })

    await mariadb.kill()
    const stoppedAt = Date.now()
    // What the proxy routes while nobody can read or write the store.
    during = recordTraffic(new Map([['db-outage', appPort]]), { rate: 20 })

    // /readyz: 503 at once, naming the store; liveness stays 200 (the process is fine).
    const notReady = await readyz(apiUrl)
    expect(notReady.status).toBe(503)
    expect(notReady.body.ready).toBe(false)
    expect(notReady.body.checks.store).not.toBe('ok')
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200)

    // GraphQL: a clear 503 within the bound, not a stack trace and not a hang.
    const refused = await graphql(apiUrl, ROLLOUT_QUERY)
    expect(refused.status).toBe(503)
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('STORE_UNAVAILABLE')
    expect(refused.body.errors?.[0]?.message).toMatch(/store/i)
    expect(refused.text).not.toMatch(/\n\s+at |ECONNREFUSED|mysql/i)

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())))
    // Both processes rode it out (no crash on a lost connection), and still answer the same.
    expect(server!.child.exitCode).toBeNull()
    expect(controller!.child.exitCode).toBeNull()
    expect((await readyz(apiUrl)).status).toBe(503)
    during.stop()

    // The proxy kept the stored weight: the canary's share of what was answered is ~20 %, not
    // 0 (a rollback) or 60 (an advance) or 100 (a promotion). Binomial spread at ~500
    // requests is ~2 points; the margin is 10.
    const canary = during.seen('db-outage', 'v3')?.count ?? 0
    const stable = during.seen('db-outage', 'v1')?.count ?? 0
    expect(canary + stable).toBeGreaterThan(50)
    expect(Math.abs((100 * canary) / (canary + stable) - before!.canaryWeight)).toBeLessThan(10)

    await mariadb.start()
    const restartedAt = Date.now()

    // Recovery without restarting anything: readiness, GraphQL, and the rollout carries on.
    await waitFor(() => readyz(apiUrl), (r) => r.status === 200, { what: '/readyz 200 after the restart', timeoutMs: 30_000, everyMs: 500 })
    const readyAfterMs = Date.now() - restartedAt
    const again = await graphql(apiUrl, ROLLOUT_QUERY)
    expect(again.status).toBe(200)
    expect(again.body.errors).toBeUndefined()

    const done = await waitFor(() => store.rollouts.byId(rolloutId), (r) => r !== null && !['PENDING', 'PROGRESSING'].includes(r.status), { what: 'the rollout to finish', timeoutMs: 150_000 })
    expect(done?.status).toBe('SUCCEEDED')
    const [decisions = []] = await store.decisions.for([rolloutId])
    expect(decisionLogProblems(decisions, false)).toEqual([])
    expect(await chainProblem(store, rolloutId, decisions.length)).toBeNull()
    // What was recorded before the outage is still there, unchanged, at the head of the log.
    expect(decisions.slice(0, decisionsBefore.length).map((d) => [d.seq, d.action])).toEqual(decisionsBefore.map((d) => [d.seq, d.action]))
    // Nothing decided while the store was down (a decision taken then and written later
    // would rest on a state nobody could read).
    const quiet = decisions.filter((d) => d.at.getTime() > stoppedAt && d.at.getTime() < restartedAt)
    expect(quiet.map((d) => `${d.action} at +${d.at.getTime() - stoppedAt} ms`)).toEqual([])
    // The controller kept its lease through the outage: it never lost the rollout, so it never
    // took traffic off the canary (a change nobody decided) to win it back. With Redis leases
    // it renewed them meanwhile (for 60 s without the store, controller/loop.ts
    // HOLD_WITHOUT_STORE_MS; a longer outage lets them lapse on purpose). With store leases
    // nothing could renew or take them: they expired untaken, and are still its own when the
    // store is back (LeaseRepository.renew).
    if (leases === 'store' || OUTAGE_MS < 50_000) expect(controller!.output()).not.toMatch(/lost the lease on rollout|lost rollout \S+ to a newer holder/)
    // The same processes throughout.
    expect(server!.child.exitCode).toBeNull()
    expect(controller!.child.exitCode).toBeNull()
    // It noticed, said so, and carried on.
    const complaints = controller!.output().split('\n').filter((line) => /tick of rollout \S+ failed|cannot list active rollouts|could not reconcile|actuation failed/.test(line))
    expect(complaints.length).toBeGreaterThan(0)
    const firstAfter = decisions.find((d) => d.at.getTime() >= restartedAt)
    console.log(
      `MariaDB down ${restartedAt - stoppedAt} ms (${leases} leases): GraphQL answered ${refused.status} ${refused.body.errors?.[0]?.extensions?.code}; ` +
        `canary share during the outage ${((100 * canary) / (canary + stable)).toFixed(1)} % of ${canary + stable} requests (stored weight ${before!.canaryWeight} %); ` +
        `/readyz 200 ${readyAfterMs} ms after the restart; first decision after it (${firstAfter?.action}) at +${(firstAfter?.at.getTime() ?? NaN) - restartedAt} ms; ` +
        `${complaints.length} controller lines about the store, e.g. ${JSON.stringify(complaints[0])}`,
    )
  })
})
