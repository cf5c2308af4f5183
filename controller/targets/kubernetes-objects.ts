/**
 * What the Kubernetes target writes, as pure functions of what it read: names, labels, the
 * canary Deployment made from the stable one, the version → image mapping, the replica
 * split of the replica-ratio canary, and the HTTPRoute backendRef weights.
 *
 * Version → image: the container named by the stable Deployment's annotation
 * `sentra.dev/container` (default: the first container) runs `<image repository>:<version>`
 * (a tag or digest it had is replaced), and gets the env var SENTRA_VERSION=<version>.
 * The pod template and the Deployment carry the labels sentra.dev/application,
 * sentra.dev/version and sentra.dev/role (stable | canary).
 */
import type { V1Deployment, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node'
import type { AppSpec, KubernetesTargetSpec } from '../../schema/spec.ts'

export const LABEL_APPLICATION = 'sentra.dev/application'
export const LABEL_VERSION = 'sentra.dev/version'
export const LABEL_ROLE = 'sentra.dev/role'
/** On the stable Deployment, set by the user: which container runs the application's image. */
export const ANNOTATION_CONTAINER = 'sentra.dev/container'
/** On the canary Deployment: the rollout it belongs to. */
export const ANNOTATION_ROLLOUT = 'sentra.dev/rollout'
/** On the stable Deployment while a replica-ratio canary runs: its replicas before the rollout. */
export const ANNOTATION_REPLICAS = 'sentra.dev/replicas'
/** On a blue/green canary after the switch: when the old pods may go (ISO time). */
export const ANNOTATION_SCALE_DOWN_AT = 'sentra.dev/scale-down-at'

export type Role = 'stable' | 'canary'
export type Mode = 'route' | 'replicas' | 'blueGreen'

/** The parts of a Gateway API v1 HTTPRoute the target reads and writes. */
export interface HttpBackendRef {
  group?: string
  kind?: string
  name: string
  namespace?: string
  port?: number
  weight?: number
  [other: string]: unknown
}
export interface HttpRoute {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  spec?: { rules?: { backendRefs?: HttpBackendRef[]; [other: string]: unknown }[]; [other: string]: unknown }
  [other: string]: unknown
}

export interface Names {
  namespace: string
  stable: string
  canary: string
  service: string
  canaryService: string
  previewService: string
  httpRoute: string | null
}

export function kubernetesSpec(app: AppSpec): KubernetesTargetSpec {
  if (app.target.kind !== 'kubernetes') throw new Error(`${app.name}: the kubernetes target cannot run a target of kind ${app.target.kind}`)
  return app.target
}

export function modeOf(app: AppSpec): Mode {
  if (app.strategy.blueGreen !== undefined) return 'blueGreen'
  return kubernetesSpec(app).httpRoute !== undefined ? 'route' : 'replicas'
}

/** DNS-1035 labels (Service names) are at most 63 characters, so `-preview` must fit. */
export function namesOf(app: AppSpec): Names {
  const spec = kubernetesSpec(app)
  if (spec.service.length > 63 - '-preview'.length) {
    throw new Error(`${app.name}: service name "${spec.service}" is too long: Sentra adds "-canary" / "-preview" and Service names have at most 63 characters`)
  }
  return {
    namespace: spec.namespace,
    stable: spec.deployment,
    canary: `${spec.deployment}-canary`,
    service: spec.service,
    canaryService: `${spec.service}-canary`,
    previewService: `${spec.service}-preview`,
    httpRoute: spec.httpRoute ?? null,
  }
}

/** A version becomes an image tag and a label value: both rules must hold. */
export function versionProblem(version: string): string | null {
  if (version.length === 0 || version.length > 63) return 'must be 1 to 63 characters (it becomes an image tag and a label value)'
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/.test(version)) {
    return 'may contain only letters, digits, "-", "_" and "." and must start and end with a letter or digit (it becomes an image tag and a label value)'
  }
  return null
}

export function assertVersion(app: AppSpec, version: string): void {
  const problem = versionProblem(version)
  if (problem !== null) throw new Error(`${app.name}: version "${version}" ${problem}`)
}

/** `ghcr.io:443/shop/web:1.2@sha256:…` → `ghcr.io:443/shop/web:<version>`. */
export function imageWithVersion(image: string, version: string): string {
  const withoutDigest = image.split('@')[0] ?? image
  const slash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  const repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest
  return `${repository}:${version}`
}

export function labelsOf(object: { metadata?: { labels?: Record<string, string> } } | null | undefined): Record<string, string> {
  return object?.metadata?.labels ?? {}
}

export function versionOf(deployment: V1Deployment | null): string | null {
  return deployment?.spec?.template?.metadata?.labels?.[LABEL_VERSION] ?? null
}

function containerIndex(stable: V1Deployment): number {
  const containers = stable.spec?.template?.spec?.containers ?? []
  const wanted = stable.metadata?.annotations?.[ANNOTATION_CONTAINER]
  if (wanted === undefined) return containers.length > 0 ? 0 : -1
  return containers.findIndex((c) => c.name === wanted)
}

/** The stable pod template running `version` in `role` (a deep copy; the input is unchanged). */
export function templateFor(app: AppSpec, stable: V1Deployment, version: string, role: Role): V1PodTemplateSpec {
  const template = structuredClone(stable.spec?.template ?? {}) as V1PodTemplateSpec
  const index = containerIndex(stable)
  const containers = template.spec?.containers ?? []
  const container = containers[index]
  if (container === undefined) {
    const wanted = stable.metadata?.annotations?.[ANNOTATION_CONTAINER]
    throw new Error(`${app.name}: Deployment ${stable.metadata?.namespace}/${stable.metadata?.name} has ${wanted === undefined ? 'no container' : `no container named "${wanted}" (annotation ${ANNOTATION_CONTAINER})`}`)
  }
  container.image = imageWithVersion(container.image ?? '', version)
  container.env = [...(container.env ?? []).filter((e) => e.name !== 'SENTRA_VERSION'), { name: 'SENTRA_VERSION', value: version }]
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [LABEL_APPLICATION]: app.name, [LABEL_VERSION]: version, [LABEL_ROLE]: role } }
  return template
}

/** The stable template differs from what `version` needs (image, env, labels). */
export function templateNeedsUpdate(current: V1PodTemplateSpec | undefined, wanted: V1PodTemplateSpec): boolean {
  return JSON.stringify(current ?? {}) !== JSON.stringify(wanted)
}

/** The canary Deployment for `version`, made from the stable one. */
export function canaryDeployment(app: AppSpec, names: Names, stable: V1Deployment, version: string, replicas: number, rolloutId: string): V1Deployment {
  const selector = stable.spec?.selector ?? {}
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: names.canary,
      namespace: names.namespace,
      labels: { ...stable.metadata?.labels, [LABEL_APPLICATION]: app.name, [LABEL_VERSION]: version, [LABEL_ROLE]: 'canary' },
      annotations: { [ANNOTATION_ROLLOUT]: rolloutId },
    },
    spec: {
      replicas,
      // The stable selector plus the role: the two Deployments never select each other's pods.
      selector: { ...selector, matchLabels: { ...selector.matchLabels, [LABEL_ROLE]: 'canary' } },
      template: templateFor(app, stable, version, 'canary'),
      ...(stable.spec?.strategy !== undefined ? { strategy: stable.spec.strategy } : {}),
      ...(stable.spec?.minReadySeconds !== undefined ? { minReadySeconds: stable.spec.minReadySeconds } : {}),
      ...(stable.spec?.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: stable.spec.progressDeadlineSeconds } : {}),
    },
  }
}

/** A Service like `base` (ports, type ClusterIP) selecting the pods of `role`. */
export function roleService(app: AppSpec, names: Names, base: V1Service, name: string, role: Role): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: names.namespace, labels: { [LABEL_APPLICATION]: app.name, [LABEL_ROLE]: role } },
    spec: {
      selector: { ...base.spec?.selector, [LABEL_ROLE]: role },
      ports: (base.spec?.ports ?? []).map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}), ...(p.protocol !== undefined ? { protocol: p.protocol } : {}) })),
    },
  }
}

/**
 * Replica-ratio canary: of `total` replicas, how many run the canary so its share is
 * nearest `percent` — at least one canary pod when percent > 0 and at least one stable
 * pod when percent < 100 (so 10 % of 2 replicas is really 1 of 3: observedWeight says 33).
 */
export function replicaSplit(total: number, percent: number): { stable: number; canary: number } {
  if (percent <= 0) return { stable: total, canary: 0 }
  if (percent >= 100) return { stable: 0, canary: Math.max(total, 1) }
  const canary = Math.max(1, Math.round((total * percent) / 100))
  const stable = Math.max(1, total - canary)
  return { stable, canary }
}

function isServiceRef(ref: HttpBackendRef, name: string, namespace: string): boolean {
  return ref.name === name && (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '' && (ref.namespace === undefined || ref.namespace === namespace)
}

/**
 * The HTTPRoute rules with Sentra's two backends weighted: in every rule that sends to the
 * stable Service, stable gets 100 - percent and the canary Service percent (the canary ref
 * is added beside the stable one, same port). percent null removes the canary refs and
 * gives stable 100. Other backends of the rule are left as they are. Returns null when the
 * route already says exactly this.
 */
export function weightedRules(route: HttpRoute, names: Names, percent: number | null): NonNullable<HttpRoute['spec']>['rules'] | null {
  const rules = route.spec?.rules ?? []
  let touched = false
  const next = rules.map((rule) => {
    const refs = rule.backendRefs ?? []
    const stable = refs.find((r) => isServiceRef(r, names.service, names.namespace))
    if (stable === undefined) return rule
    touched = true
    const others = refs.filter((r) => !isServiceRef(r, names.service, names.namespace) && !isServiceRef(r, names.canaryService, names.namespace))
    const stableRef = { ...stable, weight: percent === null ? 100 : 100 - percent }
    const canaryRef = percent === null ? [] : [{ ...stable, name: names.canaryService, weight: percent }]
    // Sentra's refs first, in a fixed order, so an unchanged route compares equal.
    const order = refs.indexOf(stable)
    return { ...rule, backendRefs: [...others.slice(0, order), stableRef, ...canaryRef, ...others.slice(order)] }
  })
  if (!touched) throw new Error(`HTTPRoute ${names.namespace}/${names.httpRoute ?? '?'} has no backendRef to Service ${names.service}; add one (see docs/kubernetes.md)`)
  return JSON.stringify(next) === JSON.stringify(rules) ? null : next
}

/** The canary's share (0..100) of the first rule that sends to the stable Service; null if no rule does. */
export function routeCanaryPercent(route: HttpRoute, names: Names): number | null {
  for (const rule of route.spec?.rules ?? []) {
    const refs = rule.backendRefs ?? []
    const stable = refs.find((r) => isServiceRef(r, names.service, names.namespace))
    if (stable === undefined) continue
    const canary = refs.find((r) => isServiceRef(r, names.canaryService, names.namespace))
    if (canary === undefined) return 0
    const stableWeight = stable.weight ?? 1
    const canaryWeight = canary.weight ?? 1
    return stableWeight + canaryWeight === 0 ? 0 : Math.round((canaryWeight * 100) / (stableWeight + canaryWeight))
  }
  return null
}

/**
 * The strategic merge patch that makes the stable Deployment run `version` (its image, the
 * SENTRA_VERSION env var and the sentra.dev labels), or null when it already does. Only the
 * changed container is sent, merged by name, so the rest of the pod template — including
 * fields this client does not model — stays as the cluster has it.
 */
export function stablePatch(app: AppSpec, stable: V1Deployment, version: string): object | null {
  const wanted = templateFor(app, stable, version, 'stable')
  const index = containerIndex(stable)
  const container = wanted.spec?.containers[index]
  const current = stable.spec?.template?.spec?.containers[index]
  const labels = { [LABEL_APPLICATION]: app.name, [LABEL_VERSION]: version, [LABEL_ROLE]: 'stable' }
  const sameLabels = (have: Record<string, string>): boolean => Object.entries(labels).every(([k, v]) => have[k] === v)
  const envValue = current?.env?.find((e) => e.name === 'SENTRA_VERSION')?.value
  if (container === undefined || current === undefined) throw new Error(`${app.name}: the stable Deployment has no container to run ${version}`)
  if (current.image === container.image && envValue === version && sameLabels(labelsOf(stable)) && sameLabels(stable.spec?.template?.metadata?.labels ?? {})) return null
  return {
    metadata: { labels },
    spec: { template: { metadata: { labels }, spec: { containers: [{ name: container.name, image: container.image, env: [{ name: 'SENTRA_VERSION', value: version }] }] } } },
  }
}

/** The most replicas Sentra will set from its own annotation (anything else there is ignored). */
const MAX_SAVED_REPLICAS = 10_000

/**
 * The stable Deployment's replicas before a replica-ratio canary (annotation
 * `sentra.dev/replicas`), or null when there is none or it is not a sane count: an
 * annotation anyone can edit must never scale a Deployment to NaN or a million pods.
 */
export function savedReplicas(stable: V1Deployment | null): number | null {
  const raw = stable?.metadata?.annotations?.[ANNOTATION_REPLICAS]
  if (raw === undefined || !/^\d{1,5}$/.test(raw)) return null
  const value = Number(raw)
  return value <= MAX_SAVED_REPLICAS ? value : null
}
