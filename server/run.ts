import { createBus } from '../schema/events/index.ts'
import { openStore } from '../schema/store/index.ts'
import { createApiServer } from './app.ts'
import { bootstrapAdminToken } from './bootstrap.ts'
import type { Config } from './config.ts'

export interface RunningApi {
  url: string
  loginUrl: string
  stop(): Promise<void>
}

/** Opens the store and bus of a config, serves the API, and prints where to find it. */
export async function runApi(config: Config, { label = 'sentra server' } = {}): Promise<RunningApi> {
  const store = await openStore(config.databaseUrl)
  const bus = createBus(config.redisUrl ?? undefined)
  const admin = await bootstrapAdminToken(store, config.adminToken)
  const server = createApiServer({ store, bus, graphiql: config.graphiql, production: config.production })
  const { url } = await server.listen(config.port, config.host)
  const loginUrl = `${url}/login?token=${encodeURIComponent(admin.token)}`
  const where = config.databaseUrl.startsWith('mysql:') ? config.databaseUrl.replace(/\/\/[^@]*@/, '//***@') : config.databaseUrl
  console.log(`${label} listening on ${url}/graphql  (store: ${store.db.dialect} ${where}; bus: ${bus.kind})`)
  if (admin.generated) console.log(`sign in with the generated admin token: ${loginUrl}`)
  else console.log('admin token: the one in SENTRA_ADMIN_TOKEN')
  let stopped = false
  return {
    url,
    loginUrl,
    stop: async () => {
      if (stopped) return
      stopped = true
      await server.close()
      await bus.close()
      await store.close()
    },
  }
}

/** Stops cleanly on SIGINT/SIGTERM; a second signal exits at once. */
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
