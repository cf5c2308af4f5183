/**
 * The Kubernetes API calls the Kubernetes target makes, over @kubernetes/client-node:
 * Deployments (apps/v1), Services (v1) and HTTPRoutes (gateway.networking.k8s.io/v1, via
 * CustomObjectsApi). It adds what the target relies on:
 * - every request has a timeout (an unreachable or hung API server becomes an error, never
 *   a tick that waits for ever);
 * - errors become {@link KubernetesApiError}s naming the call, with the API server's Status
 *   message and reason (404 and 409 are told apart by `code`/`reason`);
 * - writes are JSON merge patches with field manager `sentra`; a patch that carries
 *   `metadata.resourceVersion` is a precondition, so a concurrent change answers 409
 *   (optimistic concurrency, see {@link KubernetesClient.modify});
 * - every call is counted (`calls`), for the benchmark of API calls per step.
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Deployment,
  type V1Service,
} from '@kubernetes/client-node'
import type { HttpRoute } from './kubernetes-objects.ts'

export const FIELD_MANAGER = 'sentra'

export type ResourceKind = 'Deployment' | 'Service' | 'HTTPRoute'
export type PatchKind = 'merge' | 'strategic'

export interface KindToObject {
  Deployment: V1Deployment
  Service: V1Service
  HTTPRoute: HttpRoute
}

/** A failed API call: `code` is the HTTP status (0 when no answer came). */
export class KubernetesApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason: string | null,
  ) {
    super(message)
    this.name = 'KubernetesApiError'
  }
}

export interface KubernetesClientOptions {
  kubeConfig: KubeConfig
  /** Per request. Default 10 s. */
  requestTimeoutMs?: number
}

const HTTP_ROUTE = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const

/** How many times a read-modify-write is retried on 409 Conflict before giving up. */
const CONFLICT_RETRIES = 5

export class KubernetesClient {
  readonly kubeConfig: KubeConfig
  #apps: AppsV1Api
  #core: CoreV1Api
  #custom: CustomObjectsApi
  #timeoutMs: number
  /** API calls made, by verb (watch: readiness waits, see kubernetes-readiness.ts). */
  readonly calls = { get: 0, create: 0, patch: 0, delete: 0, watch: 0 }

  constructor({ kubeConfig, requestTimeoutMs = 10_000 }: KubernetesClientOptions) {
    this.kubeConfig = kubeConfig
    this.#apps = kubeConfig.makeApiClient(AppsV1Api)
    this.#core = kubeConfig.makeApiClient(CoreV1Api)
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi)
    this.#timeoutMs = requestTimeoutMs
  }

  get totalCalls(): number {
    return this.calls.get + this.calls.create + this.calls.patch + this.calls.delete + this.calls.watch
  }

  /** The object, or null when it does not exist (404). */
  async get<K extends ResourceKind>(kind: K, namespace: string, name: string): Promise<KindToObject[K] | null> {
    this.calls.get++
    try {
      return (await this.#call(`read ${kind} ${namespace}/${name}`, (options) => {
        switch (kind) {
          case 'Deployment':
            return this.#apps.readNamespacedDeployment({ name, namespace }, options)
          case 'Service':
            return this.#core.readNamespacedService({ name, namespace }, options)
          default:
            return this.#custom.getNamespacedCustomObject({ ...HTTP_ROUTE, namespace, name }, options)
        }
      })) as KindToObject[K]
    } catch (error) {
      if (error instanceof KubernetesApiError && error.code === 404) return null
      throw error
    }
  }

  /** Creates the object; null when one of that name exists already (409 AlreadyExists). */
  async create<K extends ResourceKind>(kind: K, namespace: string, body: KindToObject[K]): Promise<KindToObject[K] | null> {
    this.calls.create++
    const name = body.metadata?.name ?? '?'
    try {
      return (await this.#call(`create ${kind} ${namespace}/${name}`, (options) => {
        switch (kind) {
          case 'Deployment':
            return this.#apps.createNamespacedDeployment({ namespace, body: body as V1Deployment, fieldManager: FIELD_MANAGER }, options)
          case 'Service':
            return this.#core.createNamespacedService({ namespace, body: body as V1Service, fieldManager: FIELD_MANAGER }, options)
          default:
            return this.#custom.createNamespacedCustomObject({ ...HTTP_ROUTE, namespace, body, fieldManager: FIELD_MANAGER }, options)
        }
      })) as KindToObject[K]
    } catch (error) {
      if (error instanceof KubernetesApiError && error.code === 409 && error.reason === 'AlreadyExists') return null
      throw error
    }
  }

  /**
   * A JSON merge patch (RFC 7386), or a strategic merge patch for built-in kinds (lists such
   * as containers and env merge by name, so fields this client does not model survive).
   * Include `metadata.resourceVersion` to make it conditional.
   */
  async patch<K extends ResourceKind>(kind: K, namespace: string, name: string, patch: object, strategy: PatchKind = 'merge'): Promise<KindToObject[K]> {
    this.calls.patch++
    return (await this.#call(
      `patch ${kind} ${namespace}/${name}`,
      (options) => {
        switch (kind) {
          case 'Deployment':
            return this.#apps.patchNamespacedDeployment({ name, namespace, body: patch, fieldManager: FIELD_MANAGER }, options)
          case 'Service':
            return this.#core.patchNamespacedService({ name, namespace, body: patch, fieldManager: FIELD_MANAGER }, options)
          default:
            return this.#custom.patchNamespacedCustomObject({ ...HTTP_ROUTE, namespace, name, body: patch, fieldManager: FIELD_MANAGER }, options)
        }
      },
      strategy === 'strategic' && kind !== 'HTTPRoute' ? PatchStrategy.StrategicMergePatch : PatchStrategy.MergePatch,
    )) as KindToObject[K]
  }

  /** Deletes the object; false when it was not there. */
  async delete(kind: ResourceKind, namespace: string, name: string): Promise<boolean> {
    this.calls.delete++
    try {
      await this.#call(`delete ${kind} ${namespace}/${name}`, (options) => {
        switch (kind) {
          case 'Deployment':
            return this.#apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background' }, options)
          case 'Service':
            return this.#core.deleteNamespacedService({ name, namespace }, options)
          default:
            return this.#custom.deleteNamespacedCustomObject({ ...HTTP_ROUTE, namespace, name }, options)
        }
      })
      return true
    } catch (error) {
      if (error instanceof KubernetesApiError && error.code === 404) return false
      throw error
    }
  }

  /**
   * Read-modify-write with optimistic concurrency: `change` gets the current object and
   * returns the merge patch to make (null: nothing to do); the patch is sent with the
   * object's resourceVersion, and a 409 Conflict reads again and retries. Returns the
   * object as written (or as read when nothing changed); null when it does not exist.
   */
  async modify<K extends ResourceKind>(kind: K, namespace: string, name: string, change: (current: KindToObject[K]) => object | null, strategy: PatchKind = 'merge'): Promise<KindToObject[K] | null> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(kind, namespace, name)
      if (current === null) return null
      const patch = change(current)
      if (patch === null) return current
      const resourceVersion = current.metadata?.resourceVersion
      const conditional = { ...patch, metadata: { ...(patch as { metadata?: object }).metadata, resourceVersion } }
      try {
        return await this.patch(kind, namespace, name, conditional, strategy)
      } catch (error) {
        const conflicted = error instanceof KubernetesApiError && error.code === 409
        if (!conflicted || attempt >= CONFLICT_RETRIES) throw error
      }
    }
  }

  async #call<T>(what: string, run: (options: ConfigurationOptions<ObservableMiddleware>) => Promise<T>, contentType?: string): Promise<T> {
    const timeoutMs = this.#timeoutMs
    const timeout: ObservableMiddleware = {
      pre: (context: RequestContext) => {
        context.setSignal(AbortSignal.timeout(timeoutMs))
        return new Observable(Promise.resolve(context))
      },
      post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
    }
    const base: ConfigurationOptions<ObservableMiddleware> = { middleware: [timeout], middlewareMergeStrategy: 'append' }
    const options = contentType === undefined ? base : setHeaderOptions('Content-Type', contentType, base)
    try {
      return await run(options)
    } catch (error) {
      throw describe(what, error, timeoutMs)
    }
  }
}

interface StatusLike {
  kind?: unknown
  message?: unknown
  reason?: unknown
}

/** A KubernetesApiError that says which call failed and what the API server answered. */
function describe(what: string, error: unknown, timeoutMs: number): KubernetesApiError {
  if (error instanceof ApiException) {
    const code = typeof error.code === 'number' ? error.code : 0
    let status: StatusLike | null = null
    try {
      const parsed: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body
      if (typeof parsed === 'object' && parsed !== null) status = parsed as StatusLike
    } catch {
      status = null
    }
    const reason = typeof status?.reason === 'string' ? status.reason : null
    const message = typeof status?.message === 'string' ? status.message : `HTTP ${code} without a Status body${typeof error.body === 'string' && error.body !== '' ? ` (${snippet(error.body)})` : ''}`
    return new KubernetesApiError(`${what}: ${message}${reason !== null ? ` (${code} ${reason})` : ''}`, code, reason)
  }
  const name = error instanceof Error ? error.name : ''
  const text = error instanceof Error ? error.message : String(error)
  if (name === 'AbortError' || name === 'TimeoutError' || /aborted/i.test(text)) {
    return new KubernetesApiError(`${what}: the API server did not answer within ${timeoutMs} ms`, 0, null)
  }
  if (error instanceof SyntaxError) return new KubernetesApiError(`${what}: the API server's answer is not JSON (${snippet(text)})`, 0, null)
  return new KubernetesApiError(`${what}: ${snippet(text)}`, 0, null)
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
