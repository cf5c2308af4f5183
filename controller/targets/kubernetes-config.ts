/**
 * The Kubernetes target a Sentra process runs with, from its configuration
 * (SENTRA_KUBERNETES / SENTRA_KUBECONFIG, server/config.ts): none when not configured.
 * Loaded lazily so a Sentra without Kubernetes never loads @kubernetes/client-node.
 */
import type { Config } from '../../server/config.ts'
import type { Target } from './target.ts'

/** `{ kubernetes }` for ControllerRuntimeOptions.targets, or `{}` (never an undefined entry: the runtime closes each). */
export async function kubernetesTargets(config: Pick<Config, 'kubernetes'>, log?: (line: string) => void): Promise<{ kubernetes?: Target }> {
  if (config.kubernetes === null) return {}
  const { createKubernetesTarget } = await import('./kubernetes.ts')
  const target = createKubernetesTarget({ ...(config.kubernetes.kubeconfig !== null ? { kubeconfigPath: config.kubernetes.kubeconfig } : {}), ...(log ? { log } : {}) })
  const cluster = target.client.kubeConfig.getCurrentCluster()
  log?.(`kubernetes target: API server ${cluster?.server ?? '?'}`)
  return { kubernetes: target }
}
