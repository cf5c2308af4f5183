/**
 * The process target: every version of an application runs as a local child process on a
 * loopback port, behind the application's weighted proxy (controller/proxy/), which serves
 * the spec's `listen` address.
 *
 * The proxy's routes are the single record of what should run: after every change, each
 * process of the application that is neither the stable nor the canary route is stopped.
 * That one rule makes promote, rollback and replacing the stable idempotent, and cleans up
 * after a rollout that was abandoned half way.
 */
import { resolve } from 'node:path'
import { parseListen, type AppSpec, type ProcessTargetSpec } from '../../schema/spec.ts'
import type { ProxyRegistry, WeightedProxy } from '../proxy/index.ts'
import type { Upstream } from '../proxy/types.ts'
import { VersionProcess } from './process-child.ts'
import { freePort, reservePortInRange } from './process-port.ts'
import { checkCanaryPercent, proxyWeight, relinquishProxy, setProxyWeight } from './proxy-weights.ts'
import { type RolloutRef, type Target, TargetStoppingError } from './target.ts'

export interface ProcessTargetOptions {
  proxies: ProxyRegistry
  /** Inclusive port range for version processes; default: a free port from the OS. */
  portRange?: [number, number]
  /** How long a new process may take to answer its healthPath with 2xx. Default 30 s. */
  healthTimeoutMs?: number
  /** Between SIGTERM and SIGKILL when stopping a process. Default 5 s. */
  stopGraceMs?: number
  /** Receives every line the children print (prefixed `[app/version]`) and lifecycle events. */
  log?: (line: string) => void
  /** Base directory for the spec's relative `cwd` (and so for relative commands). Default process.cwd(). */
  cwd?: string
}

/** One process the target runs (for diagnostics and tests). */
export interface RunningProcess {
  application: string
  version: string
  pid: number | undefined
  port: number
  /** null while running; a process that exited stays listed until it is rolled back or replaced. */
  exit: string | null
}

/** Variables a child inherits from Sentra; everything else comes from the spec. */
const INHERITED_ENV = /^(PATH|HOME|NODE_.*)$/

export class ProcessTarget implements Target {
  readonly kind = 'process'
  #proxies: ProxyRegistry
  #portRange: [number, number] | undefined
  #healthTimeoutMs: number
  #stopGraceMs: number
  #log: (line: string) => void
  #cwd: string
  /** Keyed by application and version. */
  #processes = new Map<string, VersionProcess>()
  /** Applications whose proxy this target opened (closed by close()). */
  #applications = new Set<string>()
  /** Per-application chain: changes to one application never interleave. */
  #queues = new Map<string, Promise<void>>()
  /** Ports of portRange held by a process (or one being started). */
  #reservedPorts = new Set<number>()
  #closing: Promise<void> | null = null
  /** Set by quiesce(): Sentra is stopping; no process starts, and exits are expected. */
  #quiescing = false
  #exitHookInstalled = false

  constructor({ proxies, portRange, healthTimeoutMs = 30_000, stopGraceMs = 5_000, log = () => {}, cwd = process.cwd() }: ProcessTargetOptions) {
    if (portRange !== undefined) {
      const [low, high] = portRange
      if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high) {
        throw new RangeError(`portRange must be two ports low <= high in 1..65535 (got ${low}-${high})`)
      }
    }
    this.#proxies = proxies
    this.#portRange = portRange
    this.#healthTimeoutMs = healthTimeoutMs
    this.#stopGraceMs = stopGraceMs
    this.#log = log
    this.#cwd = cwd
  }

  ensureStable(app: AppSpec, version: string): Promise<void> {
    return this.#serial(app.name, async () => {
      const proxy = await this.#proxy(app)
      const running = await this.#run(app, version, 'stable')
      const routes = proxy.routes()
      if (routes.canary?.version === version) {
        // The canary of a rollout became the stable (e.g. after a restart mid-promotion).
        proxy.setRoutes({ stable: running.upstream, canary: null, weight: 0 })
      } else if (!sameUpstream(routes.stable, running.upstream)) {
        // Only the stable route changes: a rollout going on keeps its canary and weight.
        proxy.setRoutes({ stable: running.upstream })
      }
      await this.#collect(app.name, proxy)
    })
  }

  prepare(r: RolloutRef): Promise<void> {
    return this.#serial(r.application.name, async () => {
      const proxy = await this.#proxy(r.application)
      const running = await this.#run(r.application, r.canaryVersion, 'canary')
      // A second prepare keeps the weight already set; a new canary starts with no traffic.
      if (!sameUpstream(proxy.routes().canary, running.upstream)) proxy.setRoutes({ canary: running.upstream, weight: 0 })
      await this.#collect(r.application.name, proxy)
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

  async canaryFailure(r: RolloutRef): Promise<string | null> {
    const running = this.#processes.get(key(r.application.name, r.canaryVersion))
    if (running === undefined || running.exit === null || running.stopRequested) return null
    const last = running.lastOutput(1)[0]
    return `canary process ${r.canaryVersion} ${running.describeExit()}${last !== undefined ? ` (last output: ${last})` : ''}`
  }

  promote(r: RolloutRef): Promise<void> {
    return this.#serial(r.application.name, async () => {
      const proxy = await this.#proxy(r.application)
      const running = await this.#run(r.application, r.canaryVersion, 'canary')
      const routes = proxy.routes()
      if (!sameUpstream(routes.stable, running.upstream) || routes.canary !== null || routes.weight !== 0) {
        proxy.setRoutes({ stable: running.upstream, canary: null, weight: 0 })
      }
      // The old stable is no longer routed: stopped here (SIGTERM, then SIGKILL). Blue/green
      // keeps it running for its scale-down delay, so switching back stays instant meanwhile.
      const delay = r.application.strategy.blueGreen?.scaleDownDelayMs ?? 0
      if (delay <= 0) {
        await this.#collect(r.application.name, proxy)
        return
      }
      const name = r.application.name
      const timer = setTimeout(() => {
        this.#serial(name, () => this.#collect(name, proxy)).catch((error: unknown) => this.#log(`${name}: scale-down failed: ${String(error)}`))
      }, delay)
      timer.unref()
    })
  }

  rollback(r: RolloutRef): Promise<void> {
    return this.#serial(r.application.name, async () => {
      const name = r.application.name
      // The canary leaves the routes first, so it gets no more traffic whatever follows.
      const current = this.#proxies.get(name)
      const routes = current?.routes()
      if (current !== undefined && (routes?.canary !== null || routes.weight !== 0)) current.setRoutes({ canary: null, weight: 0 })
      if (r.stableVersion === null) {
        // An initial deploy has no stable to return to: only its process has to go.
        const canary = this.#processes.get(key(name, r.canaryVersion))
        this.#processes.delete(key(name, r.canaryVersion))
        await canary?.stop(this.#stopGraceMs)
        if (current !== undefined) await this.#collect(name, current)
        return
      }
      // A rollback is done only when this process serves the application with all traffic on
      // stable. A holder that cannot bind the address (another controller still serves it,
      // canary included) gets ProxyListenError and hands the rollout back instead of calling
      // it rolled back while the other proxy still routes to the canary (docs/ha.md).
      const proxy = await this.#proxy(r.application)
      const stable = await this.#run(r.application, r.stableVersion, 'stable')
      const after = proxy.routes()
      if (!sameUpstream(after.stable, stable.upstream) || after.canary !== null || after.weight !== 0) {
        proxy.setRoutes({ stable: stable.upstream, canary: null, weight: 0 })
      }
      await this.#collect(name, proxy)
    })
  }

  /**
   * This controller no longer holds the rollout (its lease was lost or fenced): its proxy
   * stops sending traffic to the canary at once. The holder that takes over sets the weight
   * the store wants; until then the canary gets nothing from here, which is always safe.
   */
  relinquish(r: RolloutRef): Promise<void> {
    return relinquishProxy(this.#proxies, r, (work) => this.#serial(r.application.name, work))
  }

  /**
   * Sentra is about to stop: every child's exit from now on is expected (the stop signal
   * reaches them too), so none reads as a failed canary or a stable to start again, and
   * no process is started any more. close() stops them.
   */
  quiesce(): void {
    this.#quiescing = true
    for (const running of this.#processes.values()) running.expectExit()
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Stopping first makes a change waiting for a child's health fail at once instead of
      // after healthTimeoutMs; #run starts nothing once closing, so one sweep after is enough.
      await this.#stopAll()
      await Promise.allSettled([...this.#queues.values()])
      await this.#stopAll()
      if (this.#exitHookInstalled) process.off('exit', this.#killAllNow)
      await Promise.all([...this.#applications].map((application) => this.#proxies.close(application)))
      this.#applications.clear()
    })()
    return this.#closing
  }

  async #stopAll(): Promise<void> {
    const all = [...this.#processes.values()]
    this.#processes.clear()
    await Promise.all(all.map((running) => running.stop(this.#stopGraceMs)))
  }

  /** The processes this target runs now, optionally of one application. */
  running(application?: string): RunningProcess[] {
    return [...this.#processes.values()]
      .filter((p) => application === undefined || p.application === application)
      .map((p) => ({ application: p.application, version: p.version, pid: p.pid, port: p.port, exit: p.exit === null ? null : p.describeExit() }))
  }

  /** Runs `work` after every earlier change of the same application has settled. */
  #serial(application: string, work: () => Promise<void>): Promise<void> {
    if (this.#closing !== null) return Promise.reject(new Error('the process target is closed'))
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
    const spec = processSpec(app)
    const listen = parseListen(spec.listen)
    if (listen === undefined) throw new Error(`${app.name}: target.listen "${spec.listen}" is not host:port`)
    const proxy = await this.#proxies.ensure(app.name, listen)
    this.#applications.add(app.name)
    return proxy
  }

  /**
   * The running, healthy process of this version: the one already started, or a new one.
   * A canary that died is not started again (Sentra restarts nothing silently; canaryFailure
   * reports it until rollback). A stable that died is, since ensureStable asks for it.
   */
  async #run(app: AppSpec, version: string, role: 'stable' | 'canary'): Promise<VersionProcess> {
    const id = key(app.name, version)
    const existing = this.#processes.get(id)
    if (existing !== undefined && existing.exit === null) return existing
    if (this.#quiescing) throw new TargetStoppingError(`${app.name}: Sentra is stopping, so ${version} is not started`)
    if (existing !== undefined && role === 'canary') {
      throw new Error(`canary process ${version} ${existing.describeExit()}; roll back before trying it again`)
    }
    if (existing !== undefined) {
      this.#log(`${existing.label}: stable process ${existing.describeExit()}; starting it again`)
      this.#processes.delete(id)
    }
    const spec = processSpec(app)
    const port = await this.#port()
    if (this.#closing !== null) {
      this.#reservedPorts.delete(port)
      throw new Error('the process target is closed')
    }
    const fill = (text: string): string => text.replace(/\{\{(version|port)\}\}/g, (_, name: string) => (name === 'version' ? version : String(port)))
    let started: VersionProcess
    try {
      started = new VersionProcess({
        application: app.name,
        version,
        port,
        argv: spec.command.map(fill),
        env: childEnv(Object.fromEntries(Object.entries(spec.env).map(([name, value]) => [name, fill(value)]))),
        cwd: spec.cwd === undefined ? this.#cwd : resolve(this.#cwd, fill(spec.cwd)),
        log: this.#log,
      })
    } catch (error) {
      this.#reservedPorts.delete(port)
      throw error
    }
    void started.whenExited().then(() => this.#reservedPorts.delete(port))
    this.#installExitHook()
    this.#processes.set(id, started)
    this.#log(`${started.label}: started ${role} process ${started.pid ?? '(none)'} on port ${port}`)
    try {
      await started.waitHealthy(spec.healthPath, this.#healthTimeoutMs)
    } catch (error) {
      // A failed start leaves nothing behind; the rejection is the report.
      if (this.#processes.get(id) === started) this.#processes.delete(id)
      await started.stop(this.#stopGraceMs)
      throw error
    }
    return started
  }

  async #port(): Promise<number> {
    return this.#portRange === undefined ? freePort() : reservePortInRange(this.#portRange, this.#reservedPorts)
  }

  /** Stops every process of the application that neither route points at. */
  async #collect(application: string, proxy: WeightedProxy): Promise<void> {
    const routes = proxy.routes()
    const routed = new Set([routes.stable?.url, routes.canary?.url])
    const unrouted: VersionProcess[] = []
    for (const [id, running] of this.#processes) {
      if (running.application !== application || routed.has(running.upstream.url)) continue
      this.#processes.delete(id)
      unrouted.push(running)
    }
    await Promise.all(unrouted.map((running) => running.stop(this.#stopGraceMs)))
  }

  /**
   * If Sentra exits without close() (an uncaught error, process.exit), 'exit' handlers still
   * run synchronously: SIGKILL every child then. A SIGKILL of Sentra runs no handler at all;
   * for that case each child's stdin pipe closes (see process-child.ts).
   */
  #killAllNow = (): void => {
    for (const running of this.#processes.values()) running.killNow()
  }

  #installExitHook(): void {
    if (this.#exitHookInstalled) return
    this.#exitHookInstalled = true
    process.on('exit', this.#killAllNow)
  }
}

function key(application: string, version: string): string {
  return `${application}\u0000${version}`
}

function sameUpstream(a: Upstream | null | undefined, b: Upstream): boolean {
  return a != null && a.version === b.version && a.url === b.url
}

function processSpec(app: AppSpec): ProcessTargetSpec {
  if (app.target.kind !== 'process') throw new Error(`${app.name}: the process target cannot run a target of kind ${app.target.kind}`)
  return app.target
}

/** PATH, HOME and NODE_* from Sentra, the spec's env, and SENTRA_PARENT_PID (so a child can
 * tell it was started by Sentra and exit with it, as services/demo.mjs does). */
function childEnv(fromSpec: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && INHERITED_ENV.test(name)) env[name] = value
  }
  return { ...env, ...fromSpec, SENTRA_PARENT_PID: String(process.pid) }
}
