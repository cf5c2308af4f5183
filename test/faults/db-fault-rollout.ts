/**
 * What the database fault tests (mariadb-outage, mariadb-hang) share: a mariadbd of their own,
 * a real API process and a real controller on it, one application whose good canary `v3`
 * spends a long analysis at 20 %, and traffic through its proxy; plus the API calls they make
 * while the database is gone.
 */
import { randomBytes } from 'node:crypto'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { openStore, type Store } from '../../schema/store/index.ts'
import { TEST_REDIS_URL } from '../support/databases.ts'
import { startSentra, type SentraProcess } from '../support/processes.ts'
import { waitFor } from '../support/rollouts.ts'
import type { Decision, Rollout } from '../../schema/store/models.ts'
import { startPrivateMariadb, type PrivateMariadb } from './mariadb-server.ts'
import { controllerEnv, faultSpec, listenPort, recordTraffic, startController, type ControllerProcess } from './support.ts'

export interface DbFaultRollout {
  mariadb: PrivateMariadb
  store: Store
  bus: Bus
  server: SentraProcess
  controller: ControllerProcess
  /** Requests through the application's proxy, from the start. */
  traffic: ReturnType<typeof recordTraffic>
  apiUrl: string
  appPort: number
  rolloutId: string
  adminToken: string
  /** Stops everything; the database is let go on first (a stopped one would hold up every close). */
  stop(): Promise<void>
}

/**
 * Starts the setup piece by piece; what was started is stopped again should a later piece fail.
 * `leases: 'store'` runs the controller without Redis (SENTRA_REDIS_URL empty): its leases are
 * rows of the database that goes away, and its bus is in-process (it finds the rollout by
 * scanning the store).
 */
export async function startDbFaultRollout(application: string, { analyzeMin, leaseTtlMs, leases = 'redis' }: { analyzeMin: string; leaseTtlMs: number; leases?: 'redis' | 'store' }): Promise<DbFaultRollout> {
  const adminToken = `fault-admin-${randomBytes(12).toString('hex')}`
  const stops: (() => Promise<void> | void)[] = []
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step()
  }
  try {
    const mariadb = await startPrivateMariadb(await listenPort())
    stops.push(() => mariadb.dispose(), () => mariadb.resume())
    await mariadb.createDatabase('sentra')
    const databaseUrl = mariadb.url('sentra')
    const store = await openStore(databaseUrl)
    stops.push(() => store.close())
    const bus = createBus(TEST_REDIS_URL, { onError: () => {} })
    stops.push(() => bus.close())
    const appPort = await listenPort()
    const app = await store.applications.upsert(application, faultSpec(application, appPort, { interval: '1s', analyzeMin }))
    await store.applications.setStableVersion(app.id, 'v1')
    const server = startSentra('server/main.ts', { SENTRA_DATABASE_URL: databaseUrl, SENTRA_REDIS_URL: TEST_REDIS_URL, SENTRA_PORT: '0', SENTRA_HOST: '127.0.0.1', SENTRA_ADMIN_TOKEN: adminToken })
    stops.push(() => server.stop())
    const line = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\/graphql/, 90_000)
    const apiUrl = /(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(line)![1]!
    const traffic = recordTraffic(new Map([[application, appPort]]), { rate: 20 })
    stops.push(() => traffic.stop())
    const controller = await startController(controllerEnv(databaseUrl, leaseTtlMs, leases === 'store' ? { SENTRA_REDIS_URL: '' } : {}))
    stops.push(() => controller.stop())
    const rolloutId = (await beginRollout(store, bus, (await store.applications.byId(app.id))!, 'v3')).id
    return { mariadb, store, bus, server, controller, traffic, apiUrl, appPort, rolloutId, adminToken, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

export interface GraphqlAnswer {
  status: number
  retryAfter: string | null
  text: string
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] }
}

export async function graphqlAs(adminToken: string, url: string, query: string, signal: AbortSignal): Promise<GraphqlAnswer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ query }),
    signal,
  })
  const text = await response.text()
  return { status: response.status, retryAfter: response.headers.get('retry-after'), text, body: JSON.parse(text) as GraphqlAnswer['body'] }
}

export async function readyz(url: string, signal: AbortSignal): Promise<{ status: number; body: { ready: boolean; checks: Record<string, string> } }> {
  const response = await fetch(`${url}/readyz`, { signal })
  return { status: response.status, body: (await response.json()) as { ready: boolean; checks: Record<string, string> } }
}

/**
 * Waits for the analysis step with the canary's 20 % applied, and checks that the API answers
 * (ready, GraphQL shows the rollout PROGRESSING) before the database is taken away. Returns
 * the rollout and its decisions at that moment.
 */
export async function atAnalysis(setup: DbFaultRollout, application: string): Promise<{ before: Rollout | null; decisionsBefore: Decision[]; ready: number; statuses: unknown }> {
  const { store, rolloutId, apiUrl, adminToken } = setup
  const before = await waitFor(() => store.rollouts.byId(rolloutId), (r) => r?.currentStepIndex === 1 && r.canaryWeight === r.desiredWeight, {
    what: 'the analysis step',
    timeoutMs: 90_000,
  })
  const ready = (await readyz(apiUrl, AbortSignal.timeout(15_000))).status
  const query = `{ rollouts(application: "${application}", first: 5) { edges { node { status } } } }`
  const statuses = (await graphqlAs(adminToken, apiUrl, query, AbortSignal.timeout(15_000))).body.data?.rollouts
  const [decisionsBefore = []] = await store.decisions.for([rolloutId])
  return { before, decisionsBefore, ready, statuses }
}
