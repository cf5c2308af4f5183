/**
 * deploy/kubernetes/ stays usable: its Deployment, Service and HTTPRoute are accepted by the
 * API stand-in with strict field validation (the same OpenAPI schemas as a 1.35 cluster),
 * Sentra's target can roll the sample out, and the application specs are valid.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { KubernetesTarget } from '../../controller/targets/kubernetes.ts'
import { kubeConfigFor } from '../../controller/targets/kubernetes-test-support.ts'
import { assertSpec, parseSpec } from '../../schema/spec.ts'
import { KubernetesStandIn } from '../standins/kubernetes.ts'
import type { JsonObject } from '../standins/kubernetes-validate.ts'

const read = (file: string): string => readFileSync(new URL(`../../deploy/kubernetes/${file}`, import.meta.url), 'utf8')

let standIn: KubernetesStandIn | null = null
afterEach(async () => {
  await standIn?.close()
  standIn = null
})

describe('deploy/kubernetes', () => {
  it('the sample objects are valid for the API server and Sentra rolls the sample application', async () => {
    standIn = await KubernetesStandIn.start({ readyDelayMs: 20 })
    const objects = parseAllDocuments(read('app.yaml')).map((d) => d.toJSON() as JsonObject)
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'Deployment', 'Service', 'Gateway', 'HTTPRoute'])
    // The stand-in serves the kinds Sentra writes; the Namespace and Gateway are the cluster's business.
    for (const object of objects.filter((o) => ['Deployment', 'Service', 'HTTPRoute'].includes(String(o.kind)))) standIn.seed(object)

    const applications = (parse(read('sentra-applications.yaml')) as { applications: unknown[] }).applications
    for (const spec of applications) {
      const result = parseSpec(spec)
      expect(result.ok ? [] : result.issues).toEqual([])
    }
    const app = assertSpec(applications[0])
    const target = new KubernetesTarget({ kubeConfig: kubeConfigFor(standIn), pollMs: 100 })
    try {
      const r = { rolloutId: 'r1', application: app, stableVersion: '2.52', canaryVersion: '2.53' }
      await target.ensureStable(app, '2.52')
      await target.prepare(r)
      await target.setWeight(r, 10)
      expect(await target.observedWeight(r)).toBe(10)
      const canary = standIn.object('Deployment', 'shop', 'web-canary') as { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } }
      expect(canary.spec.template.spec.containers[0]).toMatchObject({ image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'] })
    } finally {
      await target.close()
    }
  })

  it('the RBAC manifest grants what the target uses, in the namespace only', () => {
    const [account, role, binding] = parseAllDocuments(read('rbac.yaml')).map((d) => d.toJSON() as { kind: string; rules?: { resources: string[]; verbs: string[] }[] })
    expect([account?.kind, role?.kind, binding?.kind]).toEqual(['ServiceAccount', 'Role', 'RoleBinding'])
    expect(role?.rules?.map((r) => r.resources[0])).toEqual(['deployments', 'services', 'httproutes'])
  })
})
