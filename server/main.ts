import { createBus } from '../schema/events/index.ts'
import { openStore } from '../schema/store/index.ts'
import { applyConfigFile } from './config-file.ts'
import { ConfigError, readConfig } from './config.ts'
import { exitOnStartFailure, serveApi, stopOnSignals } from './run.ts'

/** `npm run server`: the API process alone, against SENTRA_DATABASE_URL and SENTRA_REDIS_URL. */
try {
  const config = readConfig(process.env)
  const store = await openStore(config.databaseUrl)
  const bus = createBus(config.redisUrl ?? undefined)
  if (config.configFile) console.log(`SENTRA_CONFIG: applied ${(await applyConfigFile(config.configFile, store, bus)).length} applications`)
  const api = await serveApi(config, store, bus)
  stopOnSignals(async () => {
    await api.stop()
    await bus.close()
    await store.close()
  })
} catch (error) {
  exitOnStartFailure(error, (e) => e instanceof ConfigError)
}
