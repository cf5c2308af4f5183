import { ConfigError, readConfig } from './config.ts'
import { runApi, stopOnSignals } from './run.ts'

/** `npm run server`: the API process alone, against SENTRA_DATABASE_URL and SENTRA_REDIS_URL. */
try {
  const api = await runApi(readConfig(process.env))
  stopOnSignals(api.stop)
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error)
  process.exit(1)
}
