import { createBus } from '../schema/events/index.ts'
import { openStore } from '../schema/store/index.ts'
import { ConfigError, evidenceRetentionMs, readConfig } from '../server/config.ts'
import { exitOnStartFailure, stopOnSignals } from '../server/run.ts'
import { serveMetrics } from './metrics.ts'
import { startControllerRuntime } from './runtime.ts'
import { startTracing } from './tracing.ts'
import { kubernetesTargets } from './targets/kubernetes-config.ts'

/**
 * `npm run controller`: the evaluation loop alone, against SENTRA_DATABASE_URL and
 * SENTRA_REDIS_URL. Run several: they share the rollouts through leases.
 */
try {
  const config = readConfig(process.env)
  const store = await openStore(config.databaseUrl)
  const bus = createBus(config.redisUrl ?? undefined)
  const tracing = startTracing()
  const runtime = await startControllerRuntime({ store, bus, redisUrl: config.redisUrl, leaseTtlMs: config.leaseTtlMs, maxConcurrency: config.controllerConcurrency, processPorts: config.processPorts, dockerHost: config.dockerHost, evidenceRetentionMs: evidenceRetentionMs(config), targets: await kubernetesTargets(config, (line) => console.log(line)), log: (line) => console.log(line) })
  console.log(`sentra controller ${runtime.controller.holder} running (store: ${store.db.dialect}; bus: ${bus.kind})`)
  // SENTRA_METRICS_PORT: the controller's metrics at GET /metrics, without a token, on SENTRA_HOST.
  const metricsServer = config.metricsPort === null ? null : await serveMetrics(runtime.metrics.registry, config.metricsPort, config.host)
  if (metricsServer) console.log(`controller metrics on ${metricsServer.url}`)
  stopOnSignals(async () => {
    // First, before anything waits: the signal may have reached the process target's children too.
    runtime.quiesce()
    await metricsServer?.close()
    await runtime.stop()
    await tracing?.shutdown()
    await bus.close()
    await store.close()
  })
} catch (error) {
  exitOnStartFailure(error, (e) => e instanceof ConfigError)
}
