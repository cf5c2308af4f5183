/** Helpers for the Kubernetes target's tests: a stand-in API server seeded with an application. */
import { KubeConfig } from '@kubernetes/client-node'
import { assertSpec, type AppSpec } from '../../schema/spec.ts'
import { KubernetesStandIn, type KubernetesStandInOptions } from '../../test/standins/kubernetes.ts'
import type { JsonObject } from '../../test/standins/kubernetes-validate.ts'
import { KubernetesTarget, type KubernetesTargetOptions } from './kubernetes.ts'
import type { RolloutRef } from './target.ts'

export const NAMESPACE = 'shop'

export function kubeConfigFor(standIn: KubernetesStandIn): KubeConfig {
  const config = new KubeConfig()
  config.loadFromString(standIn.kubeconfig(NAMESPACE))
  return config
}

export interface Fixture {
  standIn: KubernetesStandIn
  target: KubernetesTarget
  logs: string[]
}

/** A stand-in with `web`'s Deployment (image ghcr.io/acme/web:1.0.0, `replicas`), Service and (withRoute) HTTPRoute. */
export async function fixture(
  { replicas = 2, withRoute = true, standIn: standInOptions = {}, target: targetOptions = {} }: { replicas?: number; withRoute?: boolean; standIn?: KubernetesStandInOptions; target?: KubernetesTargetOptions } = {},
): Promise<Fixture> {
  const standIn = await KubernetesStandIn.start({ readyDelayMs: 30, ...standInOptions })
  for (const object of seedObjects(replicas, withRoute)) standIn.seed(object)
  const logs: string[] = []
  const target = new KubernetesTarget({ kubeConfig: kubeConfigFor(standIn), pollMs: 200, readyTimeoutMs: 20_000, log: (line) => logs.push(line), ...targetOptions })
  return { standIn, target, logs }
}

/** What an operator applies before Sentra manages the application (the same shape as deploy/kubernetes/). */
export function seedObjects(replicas: number, withRoute: boolean): JsonObject[] {
  const labels = { app: 'web' }
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NAMESPACE, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0', ports: [{ containerPort: 8080 }] }] } },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NAMESPACE }, spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    ...(withRoute
      ? [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'HTTPRoute',
            metadata: { name: 'web', namespace: NAMESPACE },
            spec: { parentRefs: [{ name: 'gateway' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
          },
        ]
      : []),
  ]
}

export function canaryApp({ withRoute = true }: { withRoute?: boolean } = {}): AppSpec {
  return assertSpec({
    name: 'web',
    target: { kind: 'kubernetes', namespace: NAMESPACE, deployment: 'web', service: 'web', ...(withRoute ? { httpRoute: 'web' } : {}) },
    strategy: { canary: { steps: [{ setWeight: 10 }, { setWeight: 50 }] } },
  })
}

export function blueGreenApp(scaleDownDelay = '0s'): AppSpec {
  return assertSpec({
    name: 'web',
    target: { kind: 'kubernetes', namespace: NAMESPACE, deployment: 'web', service: 'web' },
    strategy: { blueGreen: { scaleDownDelay, autoPromote: true } },
  })
}

export function rollout(application: AppSpec, stableVersion: string | null, canaryVersion: string): RolloutRef {
  return { rolloutId: `r-${canaryVersion}`, application, stableVersion, canaryVersion }
}

type Json = JsonObject[string]

function at(object: Json | undefined, ...path: (string | number)[]): Json | undefined {
  let node: Json | undefined = object
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined
    node = Array.isArray(node) ? node[key as number] : (node as JsonObject)[key as string]
  }
  return node
}

export { at }

/** `[[name, weight], ...]` of the HTTPRoute's first rule. */
export function routeWeights(standIn: KubernetesStandIn): [string, number | undefined][] {
  const refs = at(standIn.object('HTTPRoute', NAMESPACE, 'web'), 'spec', 'rules', 0, 'backendRefs')
  return Array.isArray(refs) ? refs.map((r) => [String(at(r, 'name')), at(r, 'weight') as number | undefined]) : []
}

export function image(standIn: KubernetesStandIn, name: string): string | undefined {
  return at(standIn.object('Deployment', NAMESPACE, name), 'spec', 'template', 'spec', 'containers', 0, 'image') as string | undefined
}

export function replicas(standIn: KubernetesStandIn, name: string): number | undefined {
  return at(standIn.object('Deployment', NAMESPACE, name), 'spec', 'replicas') as number | undefined
}

export function selector(standIn: KubernetesStandIn, name: string): Json | undefined {
  return at(standIn.object('Service', NAMESPACE, name), 'spec', 'selector')
}

/** Polls `check` until it is truthy (generous: tests must not depend on timing). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
