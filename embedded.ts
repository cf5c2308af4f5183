import { fileURLToPath } from 'node:url'
import { ControllerMetrics } from './controller/metrics.ts'
import { startControllerRuntime } from './controller/runtime.ts'
import { startTracing } from './controller/tracing.ts'
import { kubernetesTargets } from './controller/targets/kubernetes-config.ts'
import { prepareDemo, runDemo } from './controller/demo/run.ts'
import { createBus } from './schema/events/index.ts'
import { openStore } from './schema/store/index.ts'
import { applyConfigFile } from './server/config-file.ts'
import { ConfigError, evidenceRetentionMs, readConfig } from './server/config.ts'
import { exitOnStartFailure, serveApi, stopOnSignals } from './server/run.ts'
import { createDashboardHandler, hasProductionBuild } from './web/serve.ts'

/**
 * `npm start`: everything in one process on embedded SQLite and the in-process bus: the
 * API and the dashboard on one port, the controller with its proxy and process target, and
 * (SENTRA_DEMO=1, the default here) the live demo. The only file that knows every part.
 * `readConfig` comes first: preparing Next sets NODE_ENV.
 */
try {
  const config = readConfig(process.env, { embedded: true })
  const store = await openStore(config.databaseUrl)
  const bus = createBus(config.redisUrl ?? undefined)
  const log = (line: string) => console.log(line)
  if (config.configFile) console.log(`SENTRA_CONFIG: applied ${(await applyConfigFile(config.configFile, store, bus)).length} applications`)
  const webDir = fileURLToPath(new URL('./web/', import.meta.url))
  const dev = !config.production && !hasProductionBuild(webDir)
  if (dev) log('dashboard: development mode (no build in web/.next; `npm run build:web` makes one)')
  const dashboard = await createDashboardHandler({ dev, dir: webDir, hostname: config.host, port: config.port })
  // The API starts first (the controller's start may take a while), so the controller's metrics exist before it.
  const metrics = new ControllerMetrics()
  const api = await serveApi(config, store, bus, { label: 'sentra (embedded)', dashboard, extraRegistries: [metrics.registry] })
  const tracing = startTracing(process.env, 'sentra')
  // The demo versions export their spans and logs to this server's OTLP receiver (docs/otlp.md).
  // Applied before the controller starts: it brings the stable version up from the stored spec.
  const demoOptions = { store, bus, log, otlpUrl: api.url }
  const prepared = config.demo ? await prepareDemo(demoOptions) : undefined
  const controller = await startControllerRuntime({ store, bus, redisUrl: config.redisUrl, leaseTtlMs: config.leaseTtlMs, maxConcurrency: config.controllerConcurrency, processPorts: config.processPorts, dockerHost: config.dockerHost, evidenceRetentionMs: evidenceRetentionMs(config), targets: await kubernetesTargets(config, log), log, metrics })
  const demo = prepared ? runDemo({ ...demoOptions, prepared }) : null
  stopOnSignals(async () => {
    // First, before anything waits: the signal reached the demo's processes too (our process group).
    controller.quiesce()
    await demo?.stop()
    await controller.stop()
    await tracing?.shutdown()
    await api.stop()
    await dashboard.close()
    await bus.close()
    await store.close()
  })
} catch (error) {
  exitOnStartFailure(error, (e) => e instanceof ConfigError)
}
