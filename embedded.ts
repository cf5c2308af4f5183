import { ConfigError, readConfig } from './server/config.ts'
import { runApi, stopOnSignals } from './server/run.ts'

/**
 * `npm start`: everything in one process on embedded SQLite and the in-process bus. The
 * only file that knows every process; the controller, demo and dashboard join it as their
 * issues land.
 */
try {
  const api = await runApi(readConfig(process.env, { embedded: true }), { label: 'sentra (embedded)' })
  stopOnSignals(api.stop)
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error)
  process.exit(1)
}
