import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROLES } from '../../deploy/docker/roles.mjs'
import { readConfigFile } from '../../server/config-file.ts'
import { goAvailable, renderChart, type K8sObject } from '../support/helm.ts'

/**
 * The Helm chart, rendered by Go's text/template + sprig (the engine Helm uses; helm itself is
 * not installable here, see test/support/helm.ts), and checked object by object.
 */
const BASE = { database: { url: 'mysql://sentra:pw@mysql:3306/sentra' }, redis: { url: 'redis://redis:6379' } }

interface Container {
  name: string
  image: string
  args: string[]
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[]
  ports: { name: string; containerPort: number }[]
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean }
}
interface PodSpec {
  serviceAccountName?: string
  securityContext: { runAsNonRoot: boolean; runAsUser: number }
  containers: Container[]
}
interface DeploymentSpec {
  replicas: number
  selector: { matchLabels: Record<string, string> }
  template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec }
}

function render(values: object, options?: { release?: string; namespace?: string }): K8sObject[] {
  const result = renderChart(values, options)
  if (!result.ok) throw new Error(result.error)
  return result.objects
}
const find = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name)
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`)
  return found
}
const deployment = (objects: K8sObject[], name: string) => find(objects, 'Deployment', name).spec as DeploymentSpec
const env = (c: Container, name: string) => c.env.find((e) => e.name === name)

// In CI the Go toolchain is installed by .ci/run, so a missing one fails; elsewhere it skips with a reason.
const canRender = goAvailable()
if (!canRender && process.env.CI) throw new Error('go is required to render the Helm chart in CI (apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev)')

describe.skipIf(!canRender)('deploy/helm/sentra', () => {
  // The first render compiles the renderer (sprig and its dependencies): minutes on a busy machine.
  beforeAll(() => {
    render(BASE)
  }, 300_000)

  it('renders servers, controllers and the dashboard with replicas, Services, RBAC, Secret and ConfigMap', () => {
    const objects = render(BASE)
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/sentra-applications',
      'Deployment/sentra-controller',
      'Deployment/sentra-server',
      'Deployment/sentra-web',
      'Role/sentra-controller',
      'RoleBinding/sentra-controller',
      'Secret/sentra',
      'Service/sentra',
      'Service/sentra-controller-metrics',
      'Service/sentra-web',
      'ServiceAccount/sentra-controller',
    ])
    expect(deployment(objects, 'sentra-server').replicas).toBe(2)
    expect(deployment(objects, 'sentra-controller').replicas).toBe(2)
    const secret = find(objects, 'Secret', 'sentra') as K8sObject & { data: Record<string, string> }
    expect(Buffer.from(secret.data['database-url'] ?? '', 'base64').toString()).toBe(BASE.database.url)
    expect(Buffer.from(secret.data['redis-url'] ?? '', 'base64').toString()).toBe(BASE.redis.url)
    expect(secret.data['admin-token']).toBeUndefined()
  })

  it('selects its own pods: every Deployment selector matches its template, every Service matches a Deployment', () => {
    const objects = render(BASE)
    const templates = objects.filter((o) => o.kind === 'Deployment').map((o) => (o.spec as DeploymentSpec).template.metadata.labels)
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const spec = d.spec as DeploymentSpec
      expect(spec.template.metadata.labels, d.metadata.name).toMatchObject(spec.selector.matchLabels)
    }
    for (const s of objects.filter((o) => o.kind === 'Service')) {
      const selector = (s.spec as { selector: Record<string, string> }).selector
      expect(templates.filter((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v)), s.metadata.name).toHaveLength(1)
    }
  })

  it('runs every container as a non-root user with a read-only root and a role the image knows', () => {
    for (const d of render(BASE).filter((o) => o.kind === 'Deployment')) {
      const pod = (d.spec as DeploymentSpec).template.spec
      expect(pod.securityContext.runAsNonRoot).toBe(true)
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0)
      for (const c of pod.containers) {
        expect(c.securityContext.allowPrivilegeEscalation, c.name).toBe(false)
        expect(c.securityContext.readOnlyRootFilesystem, c.name).toBe(true)
        expect(c.image).toBe('sentra:0.1.0')
        expect(Object.keys(ROLES)).toContain(c.args[0])
      }
    }
  })

  it('wires the store, the bus and the token from the Secret, and the specs from the ConfigMap', () => {
    const objects = render(BASE)
    const server = deployment(objects, 'sentra-server').template.spec.containers[0] as Container
    const controller = deployment(objects, 'sentra-controller').template.spec.containers[0] as Container
    for (const c of [server, controller]) {
      expect(env(c, 'SENTRA_DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'sentra', key: 'database-url' })
      expect(env(c, 'SENTRA_REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'sentra', key: 'redis-url' })
      expect(env(c, 'SENTRA_ADMIN_TOKEN')?.valueFrom?.secretKeyRef).toMatchObject({ name: 'sentra', key: 'admin-token' })
    }
    expect(env(server, 'SENTRA_CONFIG')?.value).toBe('/etc/sentra/applications.yaml')
    expect(env(controller, 'SENTRA_METRICS_PORT')?.value).toBe('9464')
    expect(deployment(objects, 'sentra-controller').template.spec.serviceAccountName).toBe('sentra-controller')
    const web = deployment(objects, 'sentra-web').template.spec.containers[0] as Container
    expect(env(web, 'SENTRA_API_URL')?.value).toBe('http://sentra:80')
  })

  it('lets the controller change Deployments, Services and HTTPRoute weights, and nothing else', () => {
    const role = find(render(BASE), 'Role', 'sentra-controller') as K8sObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }
    const can = (group: string, resource: string, verb: string) => role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb))
    expect(can('apps', 'deployments', 'patch')).toBe(true)
    expect(can('apps', 'deployments', 'create')).toBe(true)
    expect(can('', 'services', 'update')).toBe(true)
    expect(can('gateway.networking.k8s.io', 'httproutes', 'patch')).toBe(true)
    expect(can('gateway.networking.k8s.io', 'httproutes', 'delete')).toBe(false)
    expect(can('', 'secrets', 'get')).toBe(false)
    expect(role.rules.flatMap((r) => r.verbs)).not.toContain('*')
  })

  it('grants one Role per watched namespace to the release namespace\'s service account', () => {
    const objects = render({ ...BASE, controller: { watchNamespaces: ['shop', 'payments'] } }, { namespace: 'platform' })
    const roles = objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace)
    expect(roles.sort()).toEqual(['payments', 'shop'])
    for (const binding of objects.filter((o) => o.kind === 'RoleBinding')) {
      expect((binding as unknown as { subjects: { namespace: string; name: string }[] }).subjects).toEqual([{ kind: 'ServiceAccount', name: 'sentra-controller', namespace: 'platform' }])
    }
  })

  it('adds a ServiceMonitor for the controllers\' metrics only when asked', () => {
    expect(render(BASE).some((o) => o.kind === 'ServiceMonitor')).toBe(false)
    const objects = render({ ...BASE, serviceMonitor: { enabled: true, labels: { release: 'prom' } } })
    const monitor = find(objects, 'ServiceMonitor', 'sentra-controller') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } }
    expect(monitor.metadata.labels?.release).toBe('prom')
    const metricsService = find(objects, 'Service', 'sentra-controller-metrics')
    expect(metricsService.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'controller' })
    expect(monitor.spec.endpoints[0]?.port).toBe('metrics')
  })

  it('puts the applications in a ConfigMap that SENTRA_CONFIG accepts, and restarts servers when they change', async () => {
    const checkout = {
      target: { kind: 'kubernetes', namespace: 'shop', deployment: 'checkout', service: 'checkout', httpRoute: 'checkout' },
      strategy: { canary: { steps: [{ setWeight: 5 }, { analyze: { min: '30s' } }, { setWeight: 50 }] } },
      gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.02 } }],
    }
    const objects = render({ ...BASE, applications: { checkout } })
    const text = (find(objects, 'ConfigMap', 'sentra-applications') as K8sObject & { data: Record<string, string> }).data['applications.yaml'] ?? ''
    const path = join(mkdtempSync(join(tmpdir(), 'sentra-helm-config-')), 'applications.yaml')
    writeFileSync(path, text)
    const specs = await readConfigFile(path)
    expect(specs.map((s) => s.name)).toEqual(['checkout'])
    expect(specs[0]?.target).toMatchObject({ kind: 'kubernetes', httpRoute: 'checkout' })

    const empty = render(BASE)
    const emptyText = (find(empty, 'ConfigMap', 'sentra-applications') as K8sObject & { data: Record<string, string> }).data['applications.yaml'] ?? ''
    writeFileSync(path, emptyText)
    expect(await readConfigFile(path)).toEqual([])
    const checksum = (objects: K8sObject[]) => deployment(objects, 'sentra-server').template.metadata.annotations?.['checksum/applications']
    expect(checksum(objects)).toMatch(/^[0-9a-f]{64}$/)
    expect(checksum(objects)).not.toBe(checksum(empty))
  })

  it('uses an existing Secret instead of making one, and a pinned image tag', () => {
    const objects = render({ existingSecret: 'prod-sentra', image: { repository: 'registry.example/sentra', tag: '1.2.3' } })
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false)
    const server = deployment(objects, 'sentra-server').template.spec.containers[0] as Container
    expect(env(server, 'SENTRA_DATABASE_URL')?.valueFrom?.secretKeyRef.name).toBe('prod-sentra')
    expect(server.image).toBe('registry.example/sentra:1.2.3')
  })

  it.each([
    ['no database URL', { redis: BASE.redis }, /database\.url is required/],
    ['several replicas without Redis', { database: BASE.database }, /redis\.url is required with more than one server replica/],
  ])('refuses to render with %s, saying what is missing', (_label, values, message) => {
    const result = renderChart(values)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toMatch(message)
  })

  it('renders a single server and controller on MySQL without Redis', () => {
    const objects = render({ database: BASE.database, server: { replicas: 1 }, controller: { replicas: 1 } })
    expect(deployment(objects, 'sentra-server').replicas).toBe(1)
  })
})
