import type { Bus } from '../schema/events/bus.ts'
import { assertSpec, type AppSpec } from '../schema/spec.ts'
import type { Store } from '../schema/store/index.ts'
import { ACTIVE_STATUSES } from '../schema/store/models.ts'
import { RedisLeases, StoreLeases, type LeaseManager } from './leases.ts'
import { Controller } from './loop.ts'
import { EvidencePruner } from './evidence-retention.ts'
import { ControllerMetrics } from './metrics.ts'
import { answerPreflights } from './preflight.ts'
import { startNotifier, type Notifier, type NotifierSettings } from './notify/index.ts'
import { ProxyRegistry } from './proxy/index.ts'
import { ProcessTarget } from './targets/process.ts'
import type { Target } from './targets/target.ts'
import { BuiltinProvider } from './telemetry/builtin.ts'
import { ProviderRegistry } from './telemetry/registry.ts'

/** How soon a provider declared or changed through the graph is used. */
const PROVIDER_REFRESH_MS = 2000

export interface ControllerRuntimeOptions {
  store: Store
  bus: Bus
  /** Redis leases when set (several controllers); row leases in the store otherwise. */
  redisUrl?: string | null
  redisPrefix?: string
  log?: (line: string) => void
  scanIntervalMs?: number
  leaseTtlMs?: number
  /** Ticks run at once (SENTRA_CONTROLLER_CONCURRENCY); the loop's default when unset. */
  maxConcurrency?: number
  /** Ports for process-target versions (SENTRA_PROCESS_PORTS); any free port when unset. */
  processPorts?: [number, number] | null
  /** Webhook notifications (controller/notify): settings, or false to run without them. On by default. */
  notifications?: Partial<NotifierSettings> | false
  /** The metrics to record into (to serve them before the controller starts); a new set when unset. */
  metrics?: ControllerMetrics
  /**
   * Targets for the other platforms (docker, kubernetes), made by the caller from its
   * configuration; the process target is always there. The runtime closes them when it stops.
   */
  targets?: Partial<Record<Exclude<AppSpec['target']['kind'], 'process'>, Target>>
  /**
   * The Docker engine (config.dockerHost, SENTRA_DOCKER_HOST): the runtime makes the docker
   * target there with its own proxies, so the built-in telemetry sees docker traffic. An
   * explicit `targets.docker` wins; null or unset: no docker target (docs/docker.md).
   */
  dockerHost?: string | null
  /**
   * Finished rollouts lose their telemetry windows and gate results this long after they
   * finished (SENTRA_EVIDENCE_RETENTION_DAYS; controller/evidence-retention.ts). Null or
   * unset: kept forever.
   */
  evidenceRetentionMs?: number | null
}

export interface ControllerRuntime {
  readonly controller: Controller
  readonly proxies: ProxyRegistry
  readonly notifier: Notifier | null
  /** Sentra's metrics of the analysis: serve `metrics.registry` (docs/controller.md, "Metrics"). */
  readonly metrics: ControllerMetrics
  /**
   * Call first on a stop signal, before anything that waits: no tick starts from then on, and
   * process-target children exiting (the signal reaches them too) are neither a failed canary
   * nor a stable to start again. stop() does it too.
   */
  quiesce(): void
  stop(): Promise<void>
}

/**
 * Brings every application's stable version up (processes die with Sentra; after a crash
 * the last promotion may not have been actuated): desired state is what the store says.
 */
async function ensureStableVersions(store: Store, targetFor: (kind: AppSpec['target']['kind']) => Target | undefined, log?: (line: string) => void): Promise<void> {
  let after: string | null = null
  for (;;) {
    const page = await store.applications.list({ first: 100, after })
    for (const { node: app } of page.items) {
      if (!app.stableVersion) continue
      const active = await store.rollouts.list({ first: 1, application: app.name, statuses: ACTIVE_STATUSES })
      if (active.items.length > 0) continue
      const spec = assertSpec(app.spec)
      await targetFor(spec.target.kind)
        ?.ensureStable(spec, app.stableVersion)
        .catch((error: unknown) => log?.(`${app.name}: could not start stable ${app.stableVersion}: ${error instanceof Error ? error.message : String(error)}`))
    }
    if (!page.hasNextPage) return
    after = page.items.at(-1)?.cursor ?? null
  }
}

/**
 * The outcome counters of every application with a rollout under way, at 0 before this
 * controller's first tick (ControllerMetrics.knownApplication): a controller restarted while
 * a canary fails may roll it back in its first tick. Only those: the counters' label sets are
 * capped, and idle applications would take the places of the ones that decide.
 */
async function knowActiveApplications(store: Store, metrics: ControllerMetrics): Promise<void> {
  let after: string | null = null
  for (;;) {
    const page = await store.rollouts.list({ first: 100, after, statuses: ACTIVE_STATUSES })
    for (const { node: rollout } of page.items) metrics.knownApplication(rollout.applicationName)
    if (!page.hasNextPage) return
    after = page.items.at(-1)?.cursor ?? null
  }
}

/** The controller with the targets and providers this process offers. */
export async function startControllerRuntime(options: ControllerRuntimeOptions): Promise<ControllerRuntime> {
  const { store, bus, log } = options
  const metrics = options.metrics ?? new ControllerMetrics()
  const proxies = new ProxyRegistry()
  const processTarget = new ProcessTarget({ proxies, ...(log ? { log } : {}), ...(options.processPorts ? { portRange: options.processPorts } : {}) })
  const platformTargets = { ...options.targets }
  if (options.dockerHost && platformTargets.docker === undefined) {
    // Loaded only when configured: no dockerode for a Sentra without Docker.
    const { createDockerTarget } = await import('./targets/docker.ts')
    platformTargets.docker = createDockerTarget({ proxies, host: options.dockerHost, ...(log ? { log } : {}) })
  }
  const targetFor = (kind: AppSpec['target']['kind']): Target | undefined => (kind === 'process' ? processTarget : platformTargets[kind])
  const registry = new ProviderRegistry(store.providers, new BuiltinProvider((app) => proxies.get(app)?.metrics, store.otlp))
  await registry.refresh()
  const refresher = setInterval(() => {
    registry.refresh().catch((error: unknown) => log?.(`controller: cannot reload providers: ${error instanceof Error ? error.message : String(error)}`))
  }, PROVIDER_REFRESH_MS)
  refresher.unref()
  const leases: LeaseManager = options.redisUrl
    ? new RedisLeases(options.redisUrl, options.redisPrefix ? { prefix: options.redisPrefix } : {})
    : new StoreLeases(store.leases)
  await ensureStableVersions(store, targetFor, log)
  await knowActiveApplications(store, metrics)
  const controller = new Controller({
    store,
    bus,
    leases,
    targets: targetFor,
    providers: () => registry.providers,
    metrics,
    ...(log ? { log } : {}),
    ...(options.scanIntervalMs !== undefined ? { scanIntervalMs: options.scanIntervalMs } : {}),
    ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
  })
  await controller.start()
  const stopPreflights = await answerPreflights({ store, bus, responder: controller.holder, providers: () => registry.providers, ...(log ? { log } : {}) })
  const notifier = options.notifications === false ? null : await startNotifier({ store, bus, ...(log ? { log } : {}), ...options.notifications })
  const pruner = options.evidenceRetentionMs ? new EvidencePruner({ store, leases, retentionMs: options.evidenceRetentionMs, ...(log ? { log } : {}) }) : null
  pruner?.start()
  const quiesce = (): void => {
    controller.halt()
    processTarget.quiesce()
  }
  return {
    controller,
    proxies,
    notifier,
    metrics,
    quiesce,
    stop: async () => {
      quiesce()
      clearInterval(refresher)
      await stopPreflights()
      await pruner?.stop()
      await controller.stop()
      await notifier?.stop()
      await processTarget.close()
      await Promise.all(Object.values(platformTargets).map((t) => t.close()))
      await proxies.closeAll()
      await leases.close()
    },
  }
}
