/**
 * The part of kube-controller-manager the stand-in needs: a Deployment controller that
 * writes `status` as the real one reports a rollout (pkg/controller/deployment, sync.go and
 * progress.go), without pods. After each change of the spec (a new generation) it waits
 * `readyDelayMs`, then reports the new ReplicaSet's pods:
 * - ready: observedGeneration = generation, replicas = updatedReplicas = readyReplicas =
 *   availableReplicas = spec.replicas, conditions Available=True (MinimumReplicasAvailable)
 *   and Progressing=True (NewReplicaSetAvailable);
 * - a failing version (an image tag or `sentra.dev/version` label the test marked): the new
 *   pods never become available (the old ones stay), Progressing=True (ReplicaSetUpdated),
 *   and after the progress deadline Progressing=False, reason ProgressDeadlineExceeded.
 * Until then `observedGeneration` lags `generation`, as when the controller has not synced.
 */
import { createHash } from 'node:crypto'
import type { Resource } from './kubernetes-resources.ts'
import { metadataOf, type ObjectStore, type StoredEvent } from './kubernetes-store.ts'
import { isObject, type Json, type JsonObject } from './kubernetes-validate.ts'

export interface DeploymentControllerOptions {
  /** From a spec change to the new pods being ready (or failing to). */
  readyDelayMs: number
  /** From the pods failing to ProgressDeadlineExceeded; default the spec's progressDeadlineSeconds. */
  progressDeadlineMs?: number
}

/** Go's `rand.SafeEncodeString` alphabet, used for pod-template-hash. */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789'

function templateHash(template: Json | undefined): string {
  const digest = createHash('sha256').update(JSON.stringify(template ?? null)).digest()
  return [...digest.subarray(0, 10)].map((byte) => SAFE[byte % SAFE.length]).join('')
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

/** Image tags (`repo:tag` → tag) and the sentra.dev/version label of a pod template. */
export function templateVersions(spec: JsonObject): string[] {
  const template = isObject(spec.template) ? spec.template : {}
  const labels = isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {}
  const podSpec = isObject(template.spec) ? template.spec : {}
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : []
  const tags = containers.flatMap((c) => {
    const image = isObject(c) && typeof c.image === 'string' ? c.image : ''
    const match = /:([^:/@]+)$/.exec(image.split('@')[0] ?? '')
    return match ? [match[1]!] : []
  })
  return [...tags, ...(typeof labels['sentra.dev/version'] === 'string' ? [labels['sentra.dev/version']] : [])]
}

export class DeploymentController {
  #timers = new Map<string, NodeJS.Timeout>()
  #seen = new Map<string, string>()
  readonly failing = new Set<string>()

  constructor(
    private readonly store: ObjectStore,
    private readonly deployments: Resource,
    private readonly options: DeploymentControllerOptions,
  ) {}

  /** Called for every stored change. */
  observe(event: StoredEvent): void {
    if (event.resource !== this.deployments) return
    const metadata = metadataOf(event.object)
    const key = `${String(metadata.namespace)}/${String(metadata.name)}`
    if (event.type === 'DELETED') {
      this.#cancel(key)
      this.#seen.delete(key)
      return
    }
    const spec = isObject(event.object.spec) ? event.object.spec : {}
    const fingerprint = `${String(metadata.uid)}:${String(metadata.generation)}`
    if (this.#seen.get(key) === fingerprint) return
    this.#seen.set(key, fingerprint)
    const failing = templateVersions(spec).some((version) => this.failing.has(version))
    this.#schedule(key, this.options.readyDelayMs, () => this.#settle(String(metadata.namespace), String(metadata.name), fingerprint, failing))
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }

  #schedule(key: string, delay: number, run: () => void): void {
    this.#cancel(key)
    const timer = setTimeout(() => {
      this.#timers.delete(key)
      run()
    }, delay)
    timer.unref()
    this.#timers.set(key, timer)
  }

  #cancel(key: string): void {
    const timer = this.#timers.get(key)
    if (timer !== undefined) clearTimeout(timer)
    this.#timers.delete(key)
  }

  #current(namespace: string, name: string, fingerprint: string): JsonObject | null {
    const object = this.store.get(this.deployments, namespace, name)
    if (object === undefined) return null
    const metadata = metadataOf(object)
    return `${String(metadata.uid)}:${String(metadata.generation)}` === fingerprint ? object : null
  }

  #settle(namespace: string, name: string, fingerprint: string, failing: boolean): void {
    const object = this.#current(namespace, name, fingerprint)
    if (object === null) return
    const metadata = metadataOf(object)
    const spec = isObject(object.spec) ? object.spec : {}
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1
    const replicaSet = `${name}-${templateHash(spec.template)}`
    const before = isObject(object.status) ? object.status : {}
    const previouslyAvailable = typeof before.availableReplicas === 'number' ? before.availableReplicas : 0
    const generation = metadata.generation ?? 1
    if (!failing || replicas === 0) {
      object.status = withoutZeros({
        observedGeneration: generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', before),
          condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${replicaSet}" has successfully progressed.`, before),
        ],
      })
      this.store.replace(this.deployments, namespace, object, this.store.get(this.deployments, namespace, name) ?? object)
      return
    }
    // The new pods never become ready; the old ReplicaSet's pods (if any) keep serving.
    const oldAvailable = Math.min(previouslyAvailable, replicas)
    object.status = withoutZeros({
      observedGeneration: generation,
      replicas: replicas + oldAvailable,
      updatedReplicas: replicas,
      readyReplicas: oldAvailable,
      availableReplicas: oldAvailable,
      unavailableReplicas: replicas,
      conditions: [
        condition('Available', oldAvailable > 0 ? 'True' : 'False', oldAvailable > 0 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', oldAvailable > 0 ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.', before),
        condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${replicaSet}" is progressing.`, before),
      ],
    })
    this.store.replace(this.deployments, namespace, object, this.store.get(this.deployments, namespace, name) ?? object)
    const deadlineMs = this.options.progressDeadlineMs ?? (typeof spec.progressDeadlineSeconds === 'number' ? spec.progressDeadlineSeconds : 600) * 1000
    this.#schedule(`${namespace}/${name}`, deadlineMs, () => {
      const stuck = this.#current(namespace, name, fingerprint)
      if (stuck === null || !isObject(stuck.status)) return
      const conditions = Array.isArray(stuck.status.conditions) ? stuck.status.conditions.filter((c) => isObject(c) && c.type !== 'Progressing') : []
      stuck.status.conditions = [...conditions, condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${replicaSet}" has timed out progressing.`, {})]
      this.store.replace(this.deployments, namespace, stuck, this.store.get(this.deployments, namespace, name) ?? stuck)
    })
  }
}

/** The API server omits zero counts (`omitempty`). */
function withoutZeros(status: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(status).filter(([, value]) => value !== 0))
}

function condition(type: string, status: string, reason: string, message: string, before: JsonObject): JsonObject {
  const previous = Array.isArray(before.conditions) ? before.conditions.find((c) => isObject(c) && c.type === type) : undefined
  const keepTransition = isObject(previous) && previous.status === status && typeof previous.lastTransitionTime === 'string'
  return { type, status, lastUpdateTime: now(), lastTransitionTime: keepTransition ? (previous.lastTransitionTime as string) : now(), reason, message }
}
