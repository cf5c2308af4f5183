/**
 * When a Deployment is ready, or has failed, judged from its status as `kubectl rollout
 * status` does (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go): the controller
 * has observed the current generation, every replica is updated and available, and no old
 * replica is left; failed when the Progressing condition is False with reason
 * ProgressDeadlineExceeded (spec.progressDeadlineSeconds passed) or ReplicaFailure is True.
 *
 * Waiting wakes on a watch of the Deployment (so a ready status is seen at once) and
 * re-reads at least every `pollMs`, so a watch that fails or stalls only slows it down.
 */
import type { V1Deployment } from '@kubernetes/client-node'
import type { KubernetesClient } from './kubernetes-client.ts'
import { nextWatchEvent } from './kubernetes-watch.ts'

export interface DeploymentState {
  ready: boolean
  /** Why it will not become ready (the condition's reason and message), or null. */
  failure: string | null
  /** For messages: "2/3 updated, 1/3 available (observed generation 4 of 5)". */
  summary: string
}

export function deploymentState(deployment: V1Deployment): DeploymentState {
  const wanted = deployment.spec?.replicas ?? 1
  const status = deployment.status ?? {}
  const generation = deployment.metadata?.generation ?? 0
  const observed = (status.observedGeneration ?? 0) >= generation
  const updated = status.updatedReplicas ?? 0
  const available = status.availableReplicas ?? 0
  const total = status.replicas ?? 0
  const ready = observed && updated === wanted && available === wanted && total === wanted
  let failure: string | null = null
  if (observed) {
    for (const condition of status.conditions ?? []) {
      const stuck = condition.type === 'Progressing' && condition.status === 'False' && condition.reason === 'ProgressDeadlineExceeded'
      const replicaFailure = condition.type === 'ReplicaFailure' && condition.status === 'True'
      if (stuck || replicaFailure) failure = `${condition.reason ?? condition.type}: ${condition.message ?? 'no message'}`
    }
  }
  const summary = `${updated}/${wanted} updated, ${available}/${wanted} available${observed ? '' : ` (observed generation ${status.observedGeneration ?? 0} of ${generation})`}`
  return { ready, failure, summary }
}

export interface WaitOptions {
  timeoutMs: number
  pollMs: number
  /** Stops waiting (the target is closing). */
  signal?: AbortSignal
}

export async function waitForDeployment(client: KubernetesClient, namespace: string, name: string, { timeoutMs, pollMs, signal }: WaitOptions): Promise<V1Deployment> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (signal?.aborted) throw new Error(`stopped waiting for Deployment ${namespace}/${name}: the target is closing`)
    const deployment = await client.get('Deployment', namespace, name)
    if (deployment === null) throw new Error(`Deployment ${namespace}/${name} disappeared while Sentra waited for it to be ready`)
    const state = deploymentState(deployment)
    if (state.ready) return deployment
    if (state.failure !== null) throw new Error(`Deployment ${namespace}/${name} failed to progress: ${state.failure}`)
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`Deployment ${namespace}/${name} was not ready after ${Math.round(timeoutMs / 1000)} s: ${state.summary}`)
    await nextChange(client, namespace, name, deployment.metadata?.resourceVersion, Math.min(pollMs, left), signal)
  }
}

/** Resolves on the next watch event of the Deployment, when the watch ends, or after `ms`. */
async function nextChange(client: KubernetesClient, namespace: string, name: string, resourceVersion: string | undefined, ms: number, signal: AbortSignal | undefined): Promise<void> {
  client.calls.watch++
  await nextWatchEvent(
    client.kubeConfig,
    `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`,
    { fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: false, timeoutSeconds: Math.max(1, Math.ceil(ms / 1000)) },
    ms,
    signal,
  )
}
