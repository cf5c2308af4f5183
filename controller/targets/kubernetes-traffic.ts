/**
 * How the Kubernetes target moves traffic and keeps the Services in shape, one function per
 * change, each a read-compare-patch through KubernetesClient.modify (so each can be
 * repeated, and a concurrent writer costs a retry, not a lost update).
 */
import type { V1Deployment, V1Service } from '@kubernetes/client-node'
import type { AppSpec } from '../../schema/spec.ts'
import type { KubernetesClient } from './kubernetes-client.ts'
import {
  ANNOTATION_REPLICAS,
  LABEL_ROLE,
  replicaSplit,
  roleService,
  routeCanaryPercent,
  savedReplicas,
  versionOf,
  weightedRules,
  type Mode,
  type Names,
  type Role,
} from './kubernetes-objects.ts'
import { deploymentState } from './kubernetes-readiness.ts'
import type { RolloutRef } from './target.ts'

/** The stable Deployment, which the user creates; its absence is a clear error. */
export async function stableDeployment(client: KubernetesClient, names: Names): Promise<V1Deployment> {
  const stable = await client.get('Deployment', names.namespace, names.stable)
  if (stable === null) {
    throw new Error(`Deployment ${names.namespace}/${names.stable} does not exist: create it (Sentra changes its image tag, it does not invent the workload; see deploy/kubernetes/)`)
  }
  return stable
}

/** `<service>` selects by role (stable) for Gateway and blue/green; both Deployments for replica ratio. */
export async function ensureStableSelector(client: KubernetesClient, names: Names, mode: Mode, canaryExists: boolean): Promise<void> {
  const updated = await client.modify('Service', names.namespace, names.service, (service: V1Service) => {
    const role = service.spec?.selector?.[LABEL_ROLE]
    if (mode === 'replicas') return role === undefined ? null : { spec: { selector: { [LABEL_ROLE]: null } } }
    // A switched blue/green Service stays on the canary while the canary exists.
    if (role === 'stable' || (role === 'canary' && canaryExists)) return null
    return { spec: { selector: { [LABEL_ROLE]: 'stable' } } }
  })
  if (updated === null) throw new Error(`Service ${names.namespace}/${names.service} does not exist: create it (see deploy/kubernetes/)`)
}

/** A Service like `<service>` selecting the pods of `role`, created or corrected. */
export async function ensureRoleService(client: KubernetesClient, app: AppSpec, names: Names, name: string, role: Role): Promise<void> {
  const base = await client.get('Service', names.namespace, names.service)
  if (base === null) throw new Error(`Service ${names.namespace}/${names.service} does not exist: create it (see deploy/kubernetes/)`)
  const wanted = roleService(app, names, base, name, role)
  const existing = await client.modify('Service', names.namespace, name, (service) =>
    JSON.stringify(service.spec?.selector ?? {}) === JSON.stringify(wanted.spec?.selector) ? null : { spec: { selector: wanted.spec?.selector ?? {} } },
  )
  if (existing === null) await client.create('Service', names.namespace, wanted)
}

/** HTTPRoute weights: `percent` to the canary, 'keep' its current share (0 if none), null none at all. */
export async function setRouteWeight(client: KubernetesClient, names: Names, percent: number | 'keep' | null): Promise<void> {
  const route = await client.modify('HTTPRoute', names.namespace, names.httpRoute ?? '', (current) => {
    const hasCanary = current.spec?.rules?.some((rule) => rule.backendRefs?.some((ref) => ref.name === names.canaryService)) ?? false
    const wanted = percent === 'keep' ? (hasCanary ? (routeCanaryPercent(current, names) ?? 0) : 0) : percent
    if (typeof wanted === 'number' && wanted > 0 && !hasCanary && percent !== 'keep') {
      throw new Error(`cannot send ${wanted}% through HTTPRoute ${names.namespace}/${names.httpRoute ?? ''}: it has no canary backend (prepare the canary first)`)
    }
    // 0 % (or none) for a canary that is not in the route is what the route says already.
    if ((wanted === 0 || wanted === null) && !hasCanary && percent !== 'keep') return null
    const rules = weightedRules(current, names, wanted)
    return rules === null ? null : { spec: { rules } }
  })
  if (route === null && percent !== null) throw new Error(`HTTPRoute ${names.namespace}/${names.httpRoute ?? ''} does not exist: create it (see deploy/kubernetes/)`)
}

export async function setReplicaWeight(client: KubernetesClient, r: RolloutRef, names: Names, percent: number): Promise<void> {
  const stable = await stableDeployment(client, names)
  const canary = await client.get('Deployment', names.namespace, names.canary)
  if (canary === null || versionOf(canary) !== r.canaryVersion) {
    if (percent === 0) return
    throw new Error(`cannot send ${percent}% to ${r.application.name}/${r.canaryVersion}: it has no canary Deployment (prepare it first)`)
  }
  const total = savedReplicas(stable) ?? stable.spec?.replicas ?? 1
  const split = replicaSplit(total, percent)
  // Canary up first, stable down after: capacity never drops below the total meanwhile.
  await client.modify('Deployment', names.namespace, names.canary, (d) => (d.spec?.replicas === split.canary ? null : { spec: { replicas: split.canary } }))
  await client.modify('Deployment', names.namespace, names.stable, (d) => (d.spec?.replicas === split.stable ? null : { spec: { replicas: split.stable } }))
}

/** Blue/green: 100 points `<service>` at the canary's pods (once they are ready), 0 back at stable. */
export async function switchService(client: KubernetesClient, r: RolloutRef, names: Names, percent: number): Promise<void> {
  if (percent !== 0 && percent !== 100) throw new RangeError(`blue/green moves all traffic at once: weight must be 0 or 100 (got ${percent})`)
  const role: Role = percent === 100 ? 'canary' : 'stable'
  if (role === 'canary') {
    const canary = await client.get('Deployment', names.namespace, names.canary)
    if (canary === null || versionOf(canary) !== r.canaryVersion) throw new Error(`cannot switch ${r.application.name} to ${r.canaryVersion}: it has no canary Deployment (prepare it first)`)
    if (!deploymentState(canary).ready) throw new Error(`cannot switch ${r.application.name} to ${r.canaryVersion}: the canary is not ready (${deploymentState(canary).summary})`)
  }
  const updated = await client.modify('Service', names.namespace, names.service, (service) => (service.spec?.selector?.[LABEL_ROLE] === role ? null : { spec: { selector: { [LABEL_ROLE]: role } } }))
  if (updated === null) throw new Error(`Service ${names.namespace}/${names.service} does not exist`)
}

export async function selectStable(client: KubernetesClient, names: Names): Promise<void> {
  await client.modify('Service', names.namespace, names.service, (s) => (s.spec?.selector?.[LABEL_ROLE] === 'stable' ? null : { spec: { selector: { [LABEL_ROLE]: 'stable' } } }))
}

/** Replica ratio: the stable Deployment gets back the replicas it had before the canary. */
export async function restoreReplicas(client: KubernetesClient, names: Names, stable: V1Deployment): Promise<void> {
  if (stable.metadata?.annotations?.[ANNOTATION_REPLICAS] === undefined) return
  await client.modify('Deployment', names.namespace, names.stable, (d) => {
    if (d.metadata?.annotations?.[ANNOTATION_REPLICAS] === undefined) return null
    const replicas = savedReplicas(d)
    return { metadata: { annotations: { [ANNOTATION_REPLICAS]: null } }, ...(replicas !== null ? { spec: { replicas } } : {}) }
  })
}
