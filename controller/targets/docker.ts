/**
 * The docker target: every version of an application runs as a container on a Docker engine
 * on this machine, with host networking, listening on a loopback port Sentra chooses (given to
 * the container as PORT). Traffic reaches the versions through the application's weighted
 * proxy (controller/proxy/), exactly as for the process target, so the built-in telemetry
 * judges docker rollouts too. See docs/docker.md.
 *
 * The engine is the record of what runs: containers carry the labels of docker-names.ts, and
 * before creating anything the target looks for a container of that application and version.
 * So a restarted Sentra adopts the containers it left (close() leaves them running on
 * purpose) and no call, repeated after a crash, makes a second container of one version.
 */
import { parseListen, type AppSpec } from '../../schema/spec.ts'
import { ProxyListenError, type ProxyRegistry, type WeightedProxy } from '../proxy/index.ts'
import type { Upstream } from '../proxy/types.ts'
import { DockerEngine } from './docker-engine.ts'
import { DEFAULT_DOCKER_SOCKET, parseDockerHost, type DockerHost } from './docker-host.ts'
import { describeStopped, waitContainerHealthy } from './docker-health.ts'
import { containerEnv, containerLabels, containerName, dockerSpec, imageFor, type ContainerRole, type ManagedContainer } from './docker-names.ts'
import { freePort } from './process-port.ts'
import { checkCanaryPercent, proxyWeight, relinquishProxy, setProxyWeight } from './proxy-weights.ts'
import type { RolloutRef, Target } from './target.ts'

export interface DockerTargetOptions {
  proxies: ProxyRegistry
  /** The engine: `unix:///path`, a socket path, `tcp://127.0.0.1:port`, or a parsed host. Default /var/run/docker.sock. */
  host?: string | DockerHost
  /** How long a new container may take to answer its healthPath with 2xx. Default 60 s. */
  healthTimeoutMs?: number
  /** Seconds between SIGTERM and SIGKILL when a container is stopped. Default 10. */
  stopGraceSeconds?: number
  /** After a canary promotion, how long the old stable keeps running (in-flight requests drain). Blue/green uses its scaleDownDelay. Default 5 s. */
  retireDelayMs?: number
  /** Pull an image the engine does not have (as `docker run` does). Default true. */
  pull?: boolean
  /** Lifecycle events (created, adopted, removed), one line each. */
  log?: (line: string) => void
}

/** One container the target routes or is about to (for diagnostics and tests). */
export interface RunningContainer {
  id: string
  name: string
  application: string
  version: string
  port: number
  upstream: Upstream
  /** Set when the engine said the container stopped running or is gone. */
  stopped: boolean
}

export class DockerTarget implements Target {
  readonly kind = 'docker'
  #engine: DockerEngine
  #proxies: ProxyRegistry
  #healthTimeoutMs: number
  #stopGraceSeconds: number
  #retireDelayMs: number
  #pull: boolean
  #log: (line: string) => void
  /** Keyed by application and version: the containers this process routes (or is starting). */
  #containers = new Map<string, RunningContainer>()
  /** Ids of containers Sentra is removing: their exit is no failure. */
  #removing = new Set<string>()
  /** Applications whose proxy this target opened (closed by close()). */
  #applications = new Set<string>()
  /** Per-application chain: changes to one application never interleave. */
  #queues = new Map<string, Promise<void>>()
  /** A promoted application's old stable, removed when the timer fires (or at close). */
  #retirements = new Map<string, NodeJS.Timeout>()
  #closing: Promise<void> | null = null

  constructor({ proxies, host = DEFAULT_DOCKER_SOCKET, healthTimeoutMs = 60_000, stopGraceSeconds = 10, retireDelayMs = 5_000, pull = true, log = () => {} }: DockerTargetOptions) {
    if (!Number.isInteger(stopGraceSeconds) || stopGraceSeconds < 0 || stopGraceSeconds > 600) throw new RangeError(`stopGraceSeconds must be a whole number 0..600 (got ${stopGraceSeconds})`)
    this.#engine = new DockerEngine(typeof host === 'string' ? parseDockerHost(host) : host)
    this.#proxies = proxies
    this.#healthTimeoutMs = healthTimeoutMs
    this.#stopGraceSeconds = stopGraceSeconds
    this.#retireDelayMs = retireDelayMs
    this.#pull = pull
    this.#log = log
  }

  /** HTTP requests made to the Docker engine so far. */
  get engineCalls(): number {
    return this.#engine.calls
  }

  /** Where the engine listens, e.g. unix:///var/run/docker.sock. */
  get engineAddress(): string {
    return this.#engine.where
  }

  ensureStable(app: AppSpec, version: string): Promise<void> {
    return this.#serial(app.name, async () => {
      const proxy = await this.#proxy(app)
      const running = await this.#run(app, version, 'stable')
      const before = proxy.routes()
      if (before.canary?.version === version) {
        // The canary of a rollout became the stable (a promotion): the old stable drains first, as in promote().
        proxy.setRoutes({ stable: running.upstream, canary: null, weight: 0 })
        if (before.stable !== null && before.stable.version !== version) this.#retireLater(app.name, this.#retireDelay(app))
        return
      }
      // Only the stable route changes: a rollout going on keeps its canary and weight.
      if (!sameUpstream(before.stable, running.upstream)) proxy.setRoutes({ stable: running.upstream })
      // The stable this process routed before, if replaced, is not needed any more. Nothing
      // else is removed here: after a restart a rollout's canary is not routed yet, and the
      // controller's next call (prepare) adopts it.
      const replaced = before.stable?.version
      if (replaced !== undefined && replaced !== version) await this.#removeVersions(app.name, [replaced], proxy)
    })
  }

  prepare(r: RolloutRef): Promise<void> {
    return this.#serial(r.application.name, async () => {
      const proxy = await this.#proxy(r.application)
      const running = await this.#run(r.application, r.canaryVersion, 'canary')
      if (sameUpstream(proxy.routes().canary, running.upstream)) return
      // A new canary starts with no traffic; a second prepare keeps the weight already set.
      proxy.setRoutes({ canary: running.upstream, weight: 0 })
      // Whatever else of the application is left unrouted (a canary whose rollback a crash
      // interrupted, an old stable whose removal a restart cancelled) goes now.
      await this.#sweep(r.application.name, proxy, [r.stableVersion, r.canaryVersion])
    })
  }

  setWeight(r: RolloutRef, canaryPercent: number): Promise<void> {
    const invalid = checkCanaryPercent(canaryPercent)
    if (invalid) return Promise.reject(invalid)
    return this.#serial(r.application.name, async () => setProxyWeight(this.#proxies.get(r.application.name), r, canaryPercent))
  }

  async observedWeight(r: RolloutRef): Promise<number | null> {
    return proxyWeight(this.#proxies.get(r.application.name), r)
  }

  /**
   * One engine call (a labelled list) per tick. An unreachable engine rejects: the controller
   * then decides nothing this tick and tries again (no decision on missing data), instead of
   * taking the outage for a broken canary.
   */
  async canaryFailure(r: RolloutRef): Promise<string | null> {
    const name = r.application.name
    const listed = await this.#engine.containersOf(name)
    this.#notice(name, listed)
    const known = this.#containers.get(key(name, r.canaryVersion))
    const canary = listed.find((c) => c.version === r.canaryVersion && !this.#removing.has(c.id))
    if (canary === undefined) {
      const routed = this.#proxies.get(name)?.routes().canary?.version === r.canaryVersion
      return known !== undefined && routed ? `canary container ${known.name} is gone: it was removed outside Sentra` : null
    }
    if (['running', 'created', 'restarting', 'paused'].includes(canary.state)) return null
    return `canary ${await describeStopped(this.#engine, canary.id, `container ${canary.name} (${r.canaryVersion})`)}`
  }

  promote(r: RolloutRef): Promise<void> {
    return this.#serial(r.application.name, async () => {
      const proxy = await this.#proxy(r.application)
      const running = await this.#run(r.application, r.canaryVersion, 'canary')
      const routes = proxy.routes()
      if (!sameUpstream(routes.stable, running.upstream) || routes.canary !== null || routes.weight !== 0) {
        proxy.setRoutes({ stable: running.upstream, canary: null, weight: 0 })
      }
      // The old stable gets no new requests; it is removed after a delay (in-flight requests
      // finish; blue/green keeps it for its scale-down delay so switching back stays instant).
      const delay = this.#retireDelay(r.application)
      if (delay <= 0) await this.#sweep(r.application.name, proxy, [])
      else this.#retireLater(r.application.name, delay)
    })
  }

  rollback(r: RolloutRef): Promise<void> {
    return this.#serial(r.application.name, async () => {
      const name = r.application.name
      const proxy = this.#proxies.get(name)
      if (proxy !== undefined) {
        const routes = proxy.routes()
        if (routes.canary !== null || routes.weight !== 0) proxy.setRoutes({ canary: null, weight: 0 })
      }
      // All traffic to stable: after a restart in the middle of a rollback nothing routes it yet.
      let routedProxy = proxy
      if (r.stableVersion !== null && proxy?.routes().stable?.version !== r.stableVersion) {
        try {
          routedProxy = await this.#proxy(r.application)
          const stable = await this.#run(r.application, r.stableVersion, 'stable')
          routedProxy.setRoutes({ stable: stable.upstream, canary: null, weight: 0 })
        } catch (error) {
          // Another process serves the address (a controller that still routes the canary):
          // this holder must hand the rollout back, not call it rolled back (docs/ha.md).
          if (error instanceof ProxyListenError) throw error
          this.#log(`${name}: rolling back, could not bring the stable ${r.stableVersion} up: ${message(error)}`)
        }
      }
      if (routedProxy !== undefined) {
        await this.#sweep(name, routedProxy, [r.stableVersion])
        return
      }
      // Nothing routed at all: only the canary's container, if any, has to go.
      await this.#removeVersions(name, [r.canaryVersion], undefined)
    })
  }

  /** See Target.relinquish: this process's proxy sends nothing more to the canary. */
  relinquish(r: RolloutRef): Promise<void> {
    return relinquishProxy(this.#proxies, r, (work) => this.#serial(r.application.name, work))
  }

  /**
   * Sentra is stopping. Containers keep running: the next Sentra adopts them (the point of
   * labelling them), and the application keeps serving on its containers' ports meanwhile.
   * Only an old stable waiting for its scale-down delay is removed now, since no timer will.
   * The application's proxy closes.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const retiring = [...this.#retirements.entries()]
      for (const [, timer] of retiring) clearTimeout(timer)
      this.#retirements.clear()
      await Promise.allSettled([...this.#queues.values()])
      for (const [application] of retiring) {
        const proxy = this.#proxies.get(application)
        if (proxy !== undefined) await this.#sweep(application, proxy, []).catch((error: unknown) => this.#log(`${application}: scale-down at close failed: ${message(error)}`))
      }
      await Promise.all([...this.#applications].map((application) => this.#proxies.close(application)))
      this.#applications.clear()
    })()
    return this.#closing
  }

  /** The containers this target routes or is starting, optionally of one application. */
  running(application?: string): RunningContainer[] {
    return [...this.#containers.values()].filter((c) => application === undefined || c.application === application).map((c) => ({ ...c }))
  }

  /** Runs `work` after every earlier change of the same application has settled. */
  #serial(application: string, work: () => Promise<void>): Promise<void> {
    if (this.#closing !== null) return Promise.reject(new Error('the docker target is closed'))
    const previous = this.#queues.get(application) ?? Promise.resolve()
    const result = previous.then(work)
    const settled = result.then(
      () => {},
      () => {},
    )
    this.#queues.set(application, settled)
    void settled.then(() => {
      if (this.#queues.get(application) === settled) this.#queues.delete(application)
    })
    return result
  }

  async #proxy(app: AppSpec): Promise<WeightedProxy> {
    const spec = dockerSpec(app)
    const listen = parseListen(spec.listen)
    if (listen === undefined) throw new Error(`${app.name}: target.listen "${spec.listen}" is not host:port`)
    const proxy = await this.#proxies.ensure(app.name, listen)
    this.#applications.add(app.name)
    return proxy
  }

  /**
   * The running, healthy container of this version: the one this process knows, else one the
   * engine has with its labels (adopted: left by an earlier Sentra), else a new one. A canary
   * that stopped is not started again (Sentra restarts nothing silently; canaryFailure reports
   * it until the rollback). A stable that stopped is replaced, since ensureStable asks for it.
   */
  async #run(app: AppSpec, version: string, role: ContainerRole): Promise<RunningContainer> {
    const id = key(app.name, version)
    const known = this.#containers.get(id)
    if (known !== undefined && !known.stopped) return known
    if (known !== undefined) this.#containers.delete(id)
    const spec = dockerSpec(app)
    // Checked before any engine call: a version that makes no valid image changes nothing.
    const image = imageFor(spec, version)
    const label = `${app.name}/${version}`
    const found = (await this.#engine.containersOf(app.name)).filter((c) => c.version === version && !this.#removing.has(c.id))
    const [keep, ...extra] = found.sort(byPreference)
    // Never two of one version (only a hand-made copy could be a second one).
    for (const duplicate of extra) await this.#remove(duplicate.id, `${label}: removing duplicate container ${duplicate.name}`)
    if (keep !== undefined) {
      const alive = ['running', 'created', 'restarting', 'paused'].includes(keep.state)
      let replaceWhy = `is ${keep.state} (${keep.status})${keep.port > 0 ? '' : ' without a port label'}`
      if (alive && keep.port > 0) {
        this.#log(`${label}: adopting ${keep.state} container ${keep.name} on port ${keep.port}`)
        try {
          if (keep.state === 'created') await this.#engine.start(keep.id)
          return await this.#ready(app, version, keep.id, keep.name, keep.port)
        } catch (error) {
          // A canary that will not come up is the rollout's evidence (its rollback removes it);
          // a stable is asked for, so a fresh container replaces it.
          if (role === 'canary' || this.#closing !== null) throw error
          replaceWhy = `could not be adopted (${message(error)})`
        }
      } else if (!alive && role === 'canary') {
        throw new Error(`${await describeStopped(this.#engine, keep.id, `container ${keep.name}`)}; roll back before trying it again`)
      }
      await this.#remove(keep.id, `${label}: container ${keep.name} ${replaceWhy}; replacing it`)
    }
    if (this.#closing !== null) throw new Error('the docker target is closed')
    const port = await freePort()
    const name = containerName(app.name, version)
    const containerId = await this.#engine.create({ name, image, env: containerEnv(spec, version, port), labels: containerLabels(app.name, version, role, port) }, this.#pull)
    this.#log(`${label}: created ${role} container ${name} (${containerId.slice(0, 12)}) from ${image} on port ${port}`)
    try {
      await this.#engine.start(containerId)
      return await this.#ready(app, version, containerId, name, port)
    } catch (error) {
      // A failed start leaves nothing behind; the rejection (with the engine's account) is the report.
      await this.#remove(containerId, `${label}: removing container ${name}, which did not start`).catch(() => {})
      throw error
    }
  }

  /** Waits for the container's health, then records it as this version's container. */
  async #ready(app: AppSpec, version: string, containerId: string, name: string, port: number): Promise<RunningContainer> {
    const upstream: Upstream = { version, url: `http://127.0.0.1:${port}` }
    await waitContainerHealthy({
      engine: this.#engine,
      containerId,
      label: `${app.name}/${version} (container ${name})`,
      url: `${upstream.url}${dockerSpec(app).healthPath}`,
      timeoutMs: this.#healthTimeoutMs,
      abandoned: () => this.#closing !== null,
    })
    const running: RunningContainer = { id: containerId, name, application: app.name, version, port, upstream, stopped: false }
    this.#containers.set(key(app.name, version), running)
    return running
  }

  /** What the engine listed tells which known containers stopped or vanished (the stable is then replaced by the next ensureStable). */
  #notice(application: string, listed: ManagedContainer[]): void {
    for (const running of this.#containers.values()) {
      if (running.application !== application || running.stopped) continue
      const seen = listed.find((c) => c.id === running.id)
      if (seen === undefined || seen.state === 'exited' || seen.state === 'dead') {
        running.stopped = true
        this.#log(`${application}/${running.version}: container ${running.name} ${seen === undefined ? 'is gone' : `stopped (${seen.status})`}`)
      }
    }
  }

  /** Removes every container of the application that is neither routed nor in `keep`. */
  async #sweep(application: string, proxy: WeightedProxy, keep: (string | null)[]): Promise<void> {
    const routes = proxy.routes()
    const kept = new Set([...keep, routes.stable?.version, routes.canary?.version].filter((v): v is string => typeof v === 'string'))
    for (const container of await this.#engine.containersOf(application)) {
      if (kept.has(container.version) || this.#removing.has(container.id)) continue
      await this.#remove(container.id, `${application}/${container.version}: removing unrouted container ${container.name}`)
    }
  }

  /** Removes the containers of these versions, unless a route still points at them. */
  async #removeVersions(application: string, versions: string[], proxy: WeightedProxy | undefined): Promise<void> {
    const routes = proxy?.routes()
    const routed = new Set([routes?.stable?.version, routes?.canary?.version])
    const drop = versions.filter((v) => !routed.has(v))
    if (drop.length === 0) return
    for (const container of await this.#engine.containersOf(application)) {
      if (drop.includes(container.version) && !this.#removing.has(container.id)) await this.#remove(container.id, `${application}/${container.version}: removing container ${container.name}`)
    }
  }

  async #remove(containerId: string, why: string): Promise<void> {
    this.#log(why)
    this.#removing.add(containerId)
    try {
      for (const [id, running] of this.#containers) if (running.id === containerId) this.#containers.delete(id)
      await this.#engine.remove(containerId, this.#stopGraceSeconds)
    } finally {
      this.#removing.delete(containerId)
    }
  }

  /** How long an old stable keeps running after a promotion: blue/green's scaleDownDelay, else retireDelayMs. */
  #retireDelay(app: AppSpec): number {
    return app.strategy.blueGreen?.scaleDownDelayMs ?? this.#retireDelayMs
  }

  #retireLater(application: string, delayMs: number): void {
    clearTimeout(this.#retirements.get(application))
    const timer = setTimeout(() => {
      this.#retirements.delete(application)
      this.#serial(application, async () => {
        const proxy = this.#proxies.get(application)
        if (proxy !== undefined) await this.#sweep(application, proxy, [])
      }).catch((error: unknown) => this.#log(`${application}: scale-down failed: ${message(error)}`))
    }, delayMs)
    timer.unref()
    this.#retirements.set(application, timer)
  }
}

/** The docker target on the engine at `host` (default /var/run/docker.sock), sharing Sentra's proxies. */
export function createDockerTarget(options: DockerTargetOptions): DockerTarget {
  return new DockerTarget(options)
}

/** Running first, then the newest: the container worth keeping when several claim one version. */
function byPreference(a: ManagedContainer, b: ManagedContainer): number {
  return Number(b.state === 'running') - Number(a.state === 'running')
}

function key(application: string, version: string): string {
  return `${application}\u0000${version}`
}

function sameUpstream(a: Upstream | null | undefined, b: Upstream): boolean {
  return a != null && a.version === b.version && a.url === b.url
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
