import { createBus } from '../../schema/events/index.ts'
import { openStore } from '../../schema/store/index.ts'
import { ConfigError, readConfig } from '../../server/config.ts'
import { exitOnStartFailure, stopOnSignals } from '../../server/run.ts'
import { DemoConfigError, readDemoConfig } from './config.ts'
import { runDemo } from './run.ts'

/**
 * `npm run demo`: the live demo against a shared store and bus (SENTRA_DATABASE_URL,
 * SENTRA_REDIS_URL), for a stack whose controllers run elsewhere (docker-compose.yml).
 */
try {
  const config = readConfig(process.env)
  const demo = readDemoConfig(process.env)
  const store = await openStore(config.databaseUrl)
  const bus = createBus(config.redisUrl ?? undefined)
  const running = runDemo({
    store,
    bus,
    log: (line) => console.log(line),
    host: demo.host,
    rate: demo.rate,
    ...(demo.loadUrls.length > 0 ? { loadUrls: demo.loadUrls } : {}),
    ...(demo.exportTo ? { exportTo: demo.exportTo } : {}),
  })
  stopOnSignals(async () => {
    await running.stop()
    await bus.close()
    await store.close()
  })
} catch (error) {
  exitOnStartFailure(error, (e) => e instanceof ConfigError || e instanceof DemoConfigError)
}
