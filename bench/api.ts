/**
 * The API benchmark (`npm run bench -- api`): the real API server on a fresh MySQL database
 * with an in-memory bus, 200 seeded rollouts of 6 steps, and autocannon on loopback against
 * POST /graphql in two scenarios, `{ __typename }` (baseline: HTTP, auth and yoga alone) and
 * a page of 50 rollouts with nested lists (page50). Prints requests/s, p50/p99 latency and
 * SQL queries per request for each, and their ratio. See docs/benchmarks.md.
 *
 * Settings: BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS (default 10),
 * SENTRA_BENCH_MYSQL_URL (server to create the database on, default mysql://root@127.0.0.1:3306).
 */
import autocannon, { type Result } from 'autocannon'
import { createBus } from '../schema/events/index.ts'
import type { Bus } from '../schema/events/bus.ts'
import { openStore, type Store } from '../schema/store/index.ts'
import { createApiServer, type ApiServer } from '../server/app.ts'
import { seedRollouts } from './seed.ts'
import { createBenchMysqlDatabase } from './mysql-database.ts'

const ROLLOUTS = 200
const STEPS_PER_ROLLOUT = 6
const PAGE_SIZE = 50
const APPLICATIONS = Array.from({ length: 10 }, (_, i) => `bench-app-${i + 1}`)

const BASELINE_QUERY = '{ __typename }'
const PAGE_QUERY = /* GraphQL */ `
  query BenchPage($first: Int!) {
    rollouts(first: $first) {
      edges {
        node {
          id
          status
          application { name }
          steps { index kind status setWeight }
          lastDecision { action reason at }
        }
      }
    }
  }
`

export interface ScenarioSummary {
  requestsPerSecond: number
  latencyP50Ms: number
  latencyP99Ms: number
  sqlQueriesPerRequest: number
  errors: number
  non2xx: number
  /** Requests completed in the measured run (warm-up excluded). */
  requests: number
  /** Requests the server received in the measured run: `requests` plus those cut off when it ended. */
  requestsReceived: number
}

export interface ApiBenchSummary {
  benchmark: 'api'
  dialect: 'mysql'
  rollouts: number
  connections: number
  durationSeconds: number
  baseline: ScenarioSummary
  page50: ScenarioSummary
  ratio: { requestsPerSecond: number | null; latencyP50: number | null }
}

interface GraphBody {
  data?: unknown
  errors?: unknown[]
}

interface Scenario {
  name: string
  body: string
  /** Throws when a (successful) answer does not look like what the scenario should measure. */
  check(data: unknown): void
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, got "${raw}"`)
  return value
}

function log(message: string): void {
  process.stderr.write(`[bench api] ${message}\n`)
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits))
const ratio = (a: number, b: number): number | null => (b > 0 ? round(a / b, 3) : null)


/** Waits until the server has sent no SQL for a few polls (requests cut off at the end of a run finish). */
async function settle(store: Store): Promise<void> {
  let last = store.db.stats.queries
  let quiet = 0
  for (let i = 0; i < 100 && quiet < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const now = store.db.stats.queries
    quiet = now === last ? quiet + 1 : 0
    last = now
  }
}

function checkPage(data: unknown): void {
  const edges = (data as { rollouts?: { edges?: { node: { steps: unknown[]; lastDecision: unknown; application: { name: string } } }[] } })?.rollouts?.edges
  if (!edges || edges.length !== PAGE_SIZE) throw new Error(`page50: expected ${PAGE_SIZE} rollouts, got ${edges?.length ?? 'none'}`)
  for (const { node } of edges) {
    if (node.steps.length !== STEPS_PER_ROLLOUT) throw new Error(`page50: a rollout has ${node.steps.length} steps, expected ${STEPS_PER_ROLLOUT}`)
    if (node.lastDecision === null) throw new Error('page50: a rollout has no last decision')
    if (!node.application?.name) throw new Error('page50: a rollout has no application')
  }
}

export async function run(): Promise<ApiBenchSummary> {
  const durationSeconds = positiveInt('BENCH_DURATION', 10)
  const connections = positiveInt('BENCH_CONNECTIONS', 10)

  let store: Store | undefined
  let bus: Bus | undefined
  let server: ApiServer | undefined
  let dropDatabase: (() => Promise<void>) | undefined
  let current: { stop(): void } | undefined
  let cleaning: Promise<void> | undefined
  let cleaningUp = false

  /** Stops everything started so far and drops the database; safe to call twice. */
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      cleaningUp = true
      current?.stop()
      const steps: [string, (() => Promise<void>) | undefined][] = [
        // Requests already inside the server finish their SQL before the pool closes.
        ['stop the server', server && (async () => (await server!.close(), await settle(store!)))],
        ['close the bus', bus && (() => bus!.close())],
        ['close the store', store && (() => store!.close())],
        ['drop the database', dropDatabase],
      ]
      for (const [what, step] of steps) {
        if (!step) continue
        try {
          await step()
        } catch (error) {
          log(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
    })())
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping, dropping the database`)
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    const database = await createBenchMysqlDatabase()
    dropDatabase = database.drop
    log(`database ${new URL(database.url).pathname.slice(1)}`)
    store = await openStore(database.url)
    bus = createBus()
    server = createApiServer({ store, bus })
    const { url } = await server.listen(0, '127.0.0.1')
    const graphqlUrl = `${url}/graphql`
    const { token } = await store.tokens.create('bench', 'read')
    // Requests the server received, including any still in flight when autocannon stopped
    // (they still run their SQL, so they must be in the denominator too).
    let received = 0
    server.http.on('request', () => received++)

    const seeding = performance.now()
    await seedRollouts(store, ROLLOUTS, { applications: APPLICATIONS })
    log(`seeded ${ROLLOUTS} rollouts over ${APPLICATIONS.length} applications in ${Math.round(performance.now() - seeding)} ms`)

    const headers = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${token}`,
    }

    const measure = async (scenario: Scenario): Promise<ScenarioSummary> => {
      // One answer first, so the run never measures error responses.
      const response = await fetch(graphqlUrl, { method: 'POST', headers, body: scenario.body, signal: AbortSignal.timeout(30_000) })
      const text = await response.text()
      let answer: GraphBody
      try {
        answer = JSON.parse(text) as GraphBody
      } catch {
        throw new Error(`${scenario.name}: non-JSON answer (HTTP ${response.status}): ${text.slice(0, 300)}`)
      }
      if (response.status !== 200 || answer.errors) {
        throw new Error(`${scenario.name}: the query fails (HTTP ${response.status}): ${JSON.stringify(answer.errors ?? answer).slice(0, 500)}`)
      }
      scenario.check(answer.data)

      const cannon = async (options: { duration?: number; amount?: number }): Promise<Result> => {
        // One worker thread fires the requests, so the client does not share the server's event loop.
        const instance = autocannon({ url: graphqlUrl, method: 'POST', headers, body: scenario.body, connections, workers: 1, ...options })
        current = instance
        try {
          const result = await instance
          if (cleaningUp) throw new Error('stopped')
          return result
        } finally {
          current = undefined
        }
      }

      log(`${scenario.name}: warming up`)
      await cannon({ amount: connections * 20 })
      await settle(store!)
      const before = { queries: store!.db.stats.queries, received }
      log(`${scenario.name}: ${connections} connections for ${durationSeconds} s`)
      const result = await cannon({ duration: durationSeconds })
      await settle(store!)
      const queries = store!.db.stats.queries - before.queries
      const served = received - before.received
      const completed = result.requests.total
      return {
        requestsPerSecond: round(completed / result.duration, 1),
        latencyP50Ms: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        sqlQueriesPerRequest: served > 0 ? round(queries / served, 2) : 0,
        errors: result.errors,
        non2xx: result.non2xx,
        requests: completed,
        requestsReceived: served,
      }
    }

    const baseline = await measure({ name: 'baseline', body: JSON.stringify({ query: BASELINE_QUERY }), check: () => {} })
    const page50 = await measure({ name: 'page50', body: JSON.stringify({ query: PAGE_QUERY, variables: { first: PAGE_SIZE } }), check: checkPage })

    return {
      benchmark: 'api',
      dialect: 'mysql',
      rollouts: ROLLOUTS,
      connections,
      durationSeconds,
      baseline,
      page50,
      ratio: {
        requestsPerSecond: ratio(page50.requestsPerSecond, baseline.requestsPerSecond),
        latencyP50: ratio(page50.latencyP50Ms, baseline.latencyP50Ms),
      },
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cleanup()
  }
}
