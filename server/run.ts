import type { Registry } from 'prom-client'
import type { Bus } from '../schema/events/bus.ts'
import type { Store } from '../schema/store/index.ts'
import { createApiServer, type DashboardMount } from './app.ts'
import { bootstrapAdminToken } from './bootstrap.ts'
import type { Config } from './config.ts'

export interface RunningApi {
  url: string
  loginUrl: string | null
  stop(): Promise<void>
}

/** Where the store lives, with any password hidden, for a start-up line. */
export function describeStore(store: Store, url: string): string {
  return `${store.db.dialect} ${url.replace(/\/\/[^@/]*@/, '//***@')}`
}

/** Serves the API on the config's address over an open store and bus, and prints where to find it. */
export async function serveApi(
  config: Config,
  store: Store,
  bus: Bus,
  { label = 'sentra server', dashboard, extraRegistries }: { label?: string; dashboard?: DashboardMount; extraRegistries?: readonly Registry[] } = {},
): Promise<RunningApi> {
  const admin = await bootstrapAdminToken(store, config.adminToken)
  const server = createApiServer({ store, bus, graphiql: config.graphiql, production: config.production, persistedOnly: config.persistedOnly, limits: config.limits, maxBodyBytes: config.graphqlMaxBytes, rateLimit: config.rateLimit, queryTimeoutMs: config.queryTimeoutMs, introspection: config.introspection, traceUrlTemplate: config.traceUrlTemplate, websocket: { maxConnectionsPerToken: config.wsMaxConnectionsPerToken, fanout: config.wsFanout }, otlp: { limits: { maxBytes: config.otlpMaxBytes }, log: (line) => console.error(line) }, ...(dashboard ? { dashboard } : {}), ...(extraRegistries ? { extraRegistries } : {}) })
  const { url } = await server.listen(config.port, config.host)
  const loginUrl = admin.generated ? `${url}/login?token=${encodeURIComponent(admin.token)}` : null
  console.log(`${label} listening on ${url}/graphql  (store: ${describeStore(store, config.databaseUrl)}; bus: ${bus.kind})`)
  console.log(loginUrl ? `sign in with the generated admin token: ${loginUrl}` : 'admin token: the one in SENTRA_ADMIN_TOKEN')
  return { url, loginUrl, stop: () => server.close() }
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1)
    stopping = true
    console.log(`${signal}: stopping`)
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

/** Prints a configuration error plainly (no stack) and exits 1; anything else with its stack. */
export function exitOnStartFailure(error: unknown, isConfigError: (e: unknown) => boolean): never {
  console.error(isConfigError(error) ? `configuration error: ${(error as Error).message}` : error)
  process.exit(1)
}
