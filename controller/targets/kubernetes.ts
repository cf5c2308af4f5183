/**
 * The Kubernetes target: rollouts of a Deployment, with traffic moved
 * - by Gateway API weights (canary with `httpRoute`): a canary Deployment `<deployment>-canary`
 *   and Service `<service>-canary`; the HTTPRoute's backendRefs to `<service>` and
 *   `<service>-canary` weighted 100-w / w;
 * - by replica ratio (canary without `httpRoute`): the one Service selects both Deployments,
 *   and the replicas are split so the canary's share of pods approximates w;
 * - blue/green: the canary gets all the replicas and a preview Service `<service>-preview`;
 *   the switch changes the selector of `<service>` from role stable to role canary.
 * Promote makes the stable Deployment run the canary's version (a rolling update; for
 * blue/green after scaleDownDelay), waits until it is ready, points traffic back at it and
 * removes the canary. Rollback points all traffic at stable and removes the canary.
 *
 * What Sentra wrote in the cluster is the only record (nothing is kept in memory between
 * calls), so every call can be repeated after a crash: each reads, compares with what it
 * wants, and writes only the difference. docs/kubernetes.md describes it for operators.
 */
import { KubeConfig, type V1Deployment } from '@kubernetes/client-node'
import type { AppSpec } from '../../schema/spec.ts'
import { KubernetesClient } from './kubernetes-client.ts'
import {
  ANNOTATION_REPLICAS,
  ANNOTATION_SCALE_DOWN_AT,
  assertVersion,
  canaryDeployment,
  LABEL_ROLE,
  modeOf,
  namesOf,
  savedReplicas,
  routeCanaryPercent,
  stablePatch,
  versionOf,
  type Mode,
  type Names,
} from './kubernetes-objects.ts'
import { deploymentState, waitForDeployment } from './kubernetes-readiness.ts'
import { ensureRoleService, ensureStableSelector, restoreReplicas, selectStable, setReplicaWeight, setRouteWeight, stableDeployment, switchService } from './kubernetes-traffic.ts'
import type { RolloutRef, Target } from './target.ts'

export interface KubernetesTargetOptions {
  /** A loaded configuration; default: KubeConfig.loadFromDefault() (KUBECONFIG, ~/.kube/config, else in-cluster). */
  kubeConfig?: KubeConfig
  /** A kubeconfig file to load instead of the default locations (SENTRA_KUBECONFIG). */
  kubeconfigPath?: string
  /** Per API request. Default 10 s. */
  requestTimeoutMs?: number
  /** The longest a Deployment may take to become ready. Default 10 min; a progress deadline fails it sooner. */
  readyTimeoutMs?: number
  /** While waiting for readiness, re-read at least this often (a watch wakes it sooner). Default 2 s. */
  pollMs?: number
  log?: (line: string) => void
  /** For tests of the blue/green scale-down delay. */
  now?: () => number
}

export function createKubernetesTarget(options: KubernetesTargetOptions = {}): KubernetesTarget {
  return new KubernetesTarget(options)
}

function loadKubeConfig({ kubeConfig, kubeconfigPath }: KubernetesTargetOptions): KubeConfig {
  if (kubeConfig !== undefined) return kubeConfig
  const loaded = new KubeConfig()
  if (kubeconfigPath !== undefined) loaded.loadFromFile(kubeconfigPath)
  else loaded.loadFromDefault()
  if (loaded.getCurrentCluster() === null) throw new Error('no Kubernetes cluster configured: set KUBECONFIG or SENTRA_KUBECONFIG, or run Sentra in a cluster')
  return loaded
}

export class KubernetesTarget implements Target {
  readonly kind = 'kubernetes'
  readonly client: KubernetesClient
  #readyTimeoutMs: number
  #pollMs: number
  #log: (line: string) => void
  #now: () => number
  #queues = new Map<string, Promise<void>>()
  /** Pending blue/green scale-downs, by application. */
  #scaleDowns = new Map<string, NodeJS.Timeout>()
  #closing = new AbortController()

  constructor(options: KubernetesTargetOptions = {}) {
    this.client = new KubernetesClient({ kubeConfig: loadKubeConfig(options), ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}) })
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 10 * 60_000
    this.#pollMs = options.pollMs ?? 2000
    this.#log = options.log ?? (() => {})
    this.#now = options.now ?? Date.now
  }

  ensureStable(app: AppSpec, version: string): Promise<void> {
    return this.#serial(app, async (names, mode) => {
      assertVersion(app, version)
      const canary = await this.client.get('Deployment', names.namespace, names.canary)
      if (canary !== null && versionOf(canary) === version) {
        // A promotion that has not finished (a crash, or blue/green's scale-down delay).
        if (mode === 'blueGreen' && this.#scaleDownPending(app, names, canary)) return
        await this.#handover(app, names, mode, version)
        return
      }
      const stable = await this.#runStable(app, names, version, null, false)
      await ensureStableSelector(this.client, names, mode, canary !== null)
      if (mode === 'replicas' && canary === null) await restoreReplicas(this.client, names, stable)
    })
  }

  prepare(r: RolloutRef): Promise<void> {
    return this.#serial(r.application, async (names, mode) => {
      const app = r.application
      assertVersion(app, r.canaryVersion)
      let stable = await stableDeployment(this.client, names)
      if (stable.spec?.template?.metadata?.labels?.[LABEL_ROLE] !== 'stable') {
        // The stable pods must carry role=stable before any Service selects by role.
        if (r.stableVersion === null) throw new Error(`${app.name}: the stable Deployment is not labelled by Sentra yet and the rollout has no stable version`)
        stable = await this.#runStable(app, names, r.stableVersion, null, false)
        await ensureStableSelector(this.client, names, mode, false)
      }
      let canary = await this.client.get('Deployment', names.namespace, names.canary)
      const promoted = versionOf(canary)
      if (canary !== null && promoted !== null && promoted !== r.canaryVersion && canary.metadata?.annotations?.[ANNOTATION_SCALE_DOWN_AT] !== undefined) {
        // The last blue/green promotion is still in its scale-down delay: it serves all
        // traffic, so it is finished now (never removed as a leftover).
        this.#log(`${app.name}: finishing the promotion of ${promoted} before the rollout of ${r.canaryVersion}`)
        clearTimeout(this.#scaleDowns.get(app.name))
        this.#scaleDowns.delete(app.name)
        await this.#handover(app, names, mode, promoted)
        stable = await stableDeployment(this.client, names)
        canary = null
      }
      if (canary !== null && versionOf(canary) !== r.canaryVersion) {
        this.#log(`${app.name}: removing the canary of version ${versionOf(canary) ?? '?'} left from an earlier rollout`)
        await this.#removeCanary(names, mode)
        canary = null
      }
      if (canary === null) {
        const total = stable.spec?.replicas ?? 1
        if (mode === 'replicas') await this.client.modify('Deployment', names.namespace, names.stable, (d) => (d.metadata?.annotations?.[ANNOTATION_REPLICAS] !== undefined ? null : { metadata: { annotations: { [ANNOTATION_REPLICAS]: String(total) } } }))
        // A replica-ratio canary starts without pods: at 0 % no traffic may reach it.
        const created = await this.client.create('Deployment', names.namespace, canaryDeployment(app, names, stable, r.canaryVersion, mode === 'replicas' ? 0 : total, r.rolloutId))
        canary = created ?? (await this.client.get('Deployment', names.namespace, names.canary))
        if (canary === null || versionOf(canary) !== r.canaryVersion) throw new Error(`${app.name}: the canary Deployment ${names.namespace}/${names.canary} is being replaced; will retry`)
        this.#log(`${app.name}: created canary Deployment ${names.namespace}/${names.canary} for ${r.canaryVersion}`)
      }
      if (mode === 'route') await ensureRoleService(this.client, app, names, names.canaryService, 'canary')
      if (mode === 'blueGreen') await ensureRoleService(this.client, app, names, names.previewService, 'canary')
      if (mode === 'route') await setRouteWeight(this.client, names, 'keep')
      if ((canary.spec?.replicas ?? 1) > 0) await this.#waitReady(names, names.canary)
    })
  }

  setWeight(r: RolloutRef, canaryPercent: number): Promise<void> {
    if (!Number.isFinite(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
      return Promise.reject(new RangeError(`canary weight must be within 0..100 (got ${canaryPercent})`))
    }
    // Gateway API weights are integers; so is a share of pods, near enough.
    const percent = Math.round(canaryPercent)
    return this.#serial(r.application, async (names, mode) => {
      switch (mode) {
        case 'route':
          return setRouteWeight(this.client, names, percent)
        case 'replicas':
          return setReplicaWeight(this.client, r, names, percent)
        case 'blueGreen':
          return switchService(this.client, r, names, percent)
      }
    })
  }

  async observedWeight(r: RolloutRef): Promise<number | null> {
    const names = namesOf(r.application)
    const mode = modeOf(r.application)
    if (mode === 'route') {
      const route = await this.client.get('HTTPRoute', names.namespace, names.httpRoute ?? '')
      if (route === null) return null
      const percent = routeCanaryPercent(route, names)
      const hasCanary = route.spec?.rules?.some((rule) => rule.backendRefs?.some((ref) => ref.name === names.canaryService)) ?? false
      if (percent !== null && hasCanary) return percent
      return (await this.#promoted(r, names)) ? 100 : percent === null ? null : 0
    }
    if (mode === 'blueGreen') {
      const service = await this.client.get('Service', names.namespace, names.service)
      if (service === null) return null
      if (service.spec?.selector?.[LABEL_ROLE] === 'canary') {
        const canary = await this.client.get('Deployment', names.namespace, names.canary)
        if (versionOf(canary) === r.canaryVersion) return 100
      }
      return (await this.#promoted(r, names)) ? 100 : 0
    }
    const [stable, canary] = await Promise.all([this.client.get('Deployment', names.namespace, names.stable), this.client.get('Deployment', names.namespace, names.canary)])
    if (canary === null || versionOf(canary) !== r.canaryVersion) return versionOf(stable) === r.canaryVersion && canary === null ? 100 : 0
    const canaryPods = canary.status?.availableReplicas ?? 0
    const stablePods = stable?.status?.availableReplicas ?? 0
    // No pod available at all: there is no ratio to report.
    return canaryPods + stablePods === 0 ? null : Math.round((canaryPods * 100) / (canaryPods + stablePods))
  }

  async canaryFailure(r: RolloutRef): Promise<string | null> {
    const names = namesOf(r.application)
    const canary = await this.client.get('Deployment', names.namespace, names.canary)
    if (canary === null || versionOf(canary) !== r.canaryVersion) return null
    const { failure } = deploymentState(canary)
    return failure === null ? null : `canary Deployment ${names.namespace}/${names.canary} (${r.canaryVersion}) failed: ${failure}`
  }

  promote(r: RolloutRef): Promise<void> {
    return this.#serial(r.application, async (names, mode) => {
      assertVersion(r.application, r.canaryVersion)
      if (mode === 'blueGreen') {
        const delayMs = r.application.strategy.blueGreen?.scaleDownDelayMs ?? 0
        const canary = await this.client.get('Deployment', names.namespace, names.canary)
        if (delayMs > 0 && canary !== null && versionOf(canary) === r.canaryVersion) {
          await switchService(this.client, r, names, 100)
          // The old pods keep running for the delay, so switching back stays instant; the
          // due time is written on the canary, so a restarted Sentra keeps it too.
          const updated = await this.client.modify('Deployment', names.namespace, names.canary, (d) =>
            d.metadata?.annotations?.[ANNOTATION_SCALE_DOWN_AT] !== undefined ? null : { metadata: { annotations: { [ANNOTATION_SCALE_DOWN_AT]: new Date(this.#now() + delayMs).toISOString() } } },
          )
          if (updated !== null && this.#scaleDownPending(r.application, names, updated)) return
        }
      }
      await this.#handover(r.application, names, mode, r.canaryVersion)
    })
  }

  rollback(r: RolloutRef): Promise<void> {
    return this.#serial(r.application, async (names, mode) => {
      const canary = await this.client.get('Deployment', names.namespace, names.canary)
      // Another version's canary is not this rollout's to remove (prepare replaces leftovers).
      if (canary !== null && versionOf(canary) !== r.canaryVersion) return
      await this.#removeCanary(names, mode)
    })
  }

  async close(): Promise<void> {
    this.#closing.abort()
    for (const timer of this.#scaleDowns.values()) clearTimeout(timer)
    this.#scaleDowns.clear()
    await Promise.allSettled([...this.#queues.values()])
  }

  /** Runs `work` after every earlier change of the same application has settled. */
  #serial(app: AppSpec, work: (names: Names, mode: Mode) => Promise<void>): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.reject(new Error('the kubernetes target is closed'))
    let names: Names
    try {
      names = namesOf(app)
    } catch (error) {
      return Promise.reject(error)
    }
    const mode = modeOf(app)
    const previous = this.#queues.get(app.name) ?? Promise.resolve()
    const result = previous.then(() => work(names, mode))
    const settled = result.then(
      () => {},
      () => {},
    )
    this.#queues.set(app.name, settled)
    void settled.then(() => {
      if (this.#queues.get(app.name) === settled) this.#queues.delete(app.name)
    })
    return result
  }


  #waitReady(names: Names, name: string): Promise<V1Deployment> {
    return waitForDeployment(this.client, names.namespace, name, { timeoutMs: this.#readyTimeoutMs, pollMs: this.#pollMs, signal: this.#closing.signal })
  }

  /**
   * The stable Deployment runs `version` (optionally with `replicas`): patched if it does
   * not, then waited for when it changed (or always, with `alwaysWait`).
   */
  async #runStable(app: AppSpec, names: Names, version: string, replicas: number | null, alwaysWait: boolean): Promise<V1Deployment> {
    await stableDeployment(this.client, names)
    const written = await this.client.modify(
      'Deployment',
      names.namespace,
      names.stable,
      (current) => {
        const patch = stablePatch(app, current, version) as { spec?: object; metadata?: object } | null
        const scale = replicas !== null && (current.spec?.replicas !== replicas || current.metadata?.annotations?.[ANNOTATION_REPLICAS] !== undefined)
        if (patch === null && !scale) return null
        const spec = { ...patch?.spec, ...(replicas !== null ? { replicas } : {}) }
        const metadata = { ...patch?.metadata, ...(scale ? { annotations: { [ANNOTATION_REPLICAS]: null } } : {}) }
        return { metadata, spec }
      },
      'strategic',
    )
    if (written === null && !alwaysWait) return stableDeployment(this.client, names)
    return this.#waitReady(names, names.stable)
  }






  /** True when a blue/green scale-down is not due yet (a timer then finishes it). */
  #scaleDownPending(app: AppSpec, names: Names, canary: V1Deployment): boolean {
    const due = Date.parse(canary.metadata?.annotations?.[ANNOTATION_SCALE_DOWN_AT] ?? '')
    if (!Number.isFinite(due)) return false
    const left = due - this.#now()
    if (left <= 0) return false
    if (!this.#scaleDowns.has(app.name)) {
      const version = versionOf(canary)
      const timer = setTimeout(() => {
        this.#scaleDowns.delete(app.name)
        if (version === null || this.#closing.signal.aborted) return
        this.#serial(app, (n, mode) => this.#handover(app, n, mode, version)).catch((error: unknown) => this.#log(`${app.name}: scale-down after the switch failed: ${error instanceof Error ? error.message : String(error)}`))
      }, left)
      timer.unref()
      this.#scaleDowns.set(app.name, timer)
    }
    this.#log(`${app.name}: the old version keeps running until ${new Date(due).toISOString()} (scaleDownDelay)`)
    return true
  }

  /**
   * The end of a promotion: the stable Deployment runs `version` (a rolling update that
   * scales the old ReplicaSet down), traffic goes back to it, and the canary is removed.
   */
  async #handover(app: AppSpec, names: Names, mode: Mode, version: string): Promise<void> {
    const stable = await stableDeployment(this.client, names)
    const canary = await this.client.get('Deployment', names.namespace, names.canary)
    if ((canary === null || versionOf(canary) !== version) && versionOf(stable) !== version) {
      throw new Error(`nothing to promote: no canary Deployment ${names.namespace}/${names.canary} runs ${version}`)
    }
    const canaryPods = canary !== null && versionOf(canary) === version ? (canary.spec?.replicas ?? 0) : 0
    const total = mode === 'replicas' ? (savedReplicas(stable) ?? (stable.spec?.replicas ?? 0) + canaryPods) : (stable.spec?.replicas ?? 1)
    // Waited for even when nothing changed: after a crash mid-promotion the update may still be rolling.
    await this.#runStable(app, names, version, mode === 'replicas' ? Math.max(total, 1) : null, true)
    if (mode === 'route') await setRouteWeight(this.client, names, null)
    if (mode === 'blueGreen') await selectStable(this.client, names)
    await this.#deleteCanaryObjects(names, mode)
    this.#log(`${app.name}: ${version} is the stable version of Deployment ${names.namespace}/${names.stable}`)
  }


  /** All traffic to stable, then the canary scaled to zero and deleted, with its Services. */
  async #removeCanary(names: Names, mode: Mode): Promise<void> {
    if (mode === 'route') await setRouteWeight(this.client, names, null)
    if (mode === 'blueGreen') await selectStable(this.client, names)
    if (mode === 'replicas') {
      const stable = await this.client.get('Deployment', names.namespace, names.stable)
      if (stable !== null) await restoreReplicas(this.client, names, stable)
    }
    await this.client.modify('Deployment', names.namespace, names.canary, (d) => (d.spec?.replicas === 0 ? null : { spec: { replicas: 0 } }))
    await this.#deleteCanaryObjects(names, mode)
  }

  async #deleteCanaryObjects(names: Names, mode: Mode): Promise<void> {
    await this.client.delete('Deployment', names.namespace, names.canary)
    if (mode === 'route') await this.client.delete('Service', names.namespace, names.canaryService)
    if (mode === 'blueGreen') await this.client.delete('Service', names.namespace, names.previewService)
  }


  async #promoted(r: RolloutRef, names: Names): Promise<boolean> {
    const stable = await this.client.get('Deployment', names.namespace, names.stable)
    return versionOf(stable) === r.canaryVersion
  }
}
