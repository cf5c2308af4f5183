import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ROLES } from '../../deploy/docker/roles.mjs'

interface Service {
  image?: string
  build?: { context: string }
  command?: string[]
  ports?: string[]
  volumes?: string[]
  secrets?: string[]
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
  environment?: Record<string, string>
}

const root = new URL('../../', import.meta.url)
const text = readFileSync(new URL('docker-compose.yml', root), 'utf8')
const compose = parse(text, { merge: true }) as { services: Record<string, Service>; secrets: Record<string, { environment: string }> }
const services = compose.services
const SENTRA = ['server-1', 'server-2', 'controller-1', 'controller-2', 'web', 'demo']

/** No image can be pulled here, so the compose file is checked for its structure (docs/deploy.md). */
describe('docker-compose.yml', () => {
  it('has the production-shaped stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['controller-1', 'controller-2', 'demo', 'grafana', 'loki', 'mysql', 'otel-collector', 'prometheus', 'redis', 'server-1', 'server-2', 'tempo', 'web'].sort(),
    )
  })

  it('pins every image to a version, and builds Sentra from this checkout', () => {
    for (const [name, service] of Object.entries(services)) expect(service.image, name).toMatch(/^[a-z0-9./-]+:v?[0-9][\w.-]*(-[a-z]+)?$/)
    for (const name of SENTRA) {
      expect(services[name]?.image, name).toBe('sentra:0.1.0')
      expect(services[name]?.build?.context, name).toBe('.')
    }
  })

  it('publishes ports on 127.0.0.1 only', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/)
    }
  })

  it('gives every service a healthcheck, and starts each after what it needs is healthy', () => {
    for (const [name, service] of Object.entries(services)) expect(service.healthcheck?.test.length, name).toBeGreaterThan(0)
    for (const name of ['server-1', 'server-2', 'controller-1', 'controller-2']) {
      expect(services[name]?.depends_on).toEqual({ mysql: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } })
      expect(services[name]?.environment?.SENTRA_DATABASE_URL).toMatch(/^mysql:\/\//)
      expect(services[name]?.environment?.SENTRA_REDIS_URL).toMatch(/^redis:\/\//)
    }
    expect(services.web?.depends_on).toEqual({ 'server-1': { condition: 'service_healthy' } })
    expect(Object.keys(services.demo?.depends_on ?? {}).sort()).toEqual(['controller-1', 'controller-2', 'otel-collector'])
    expect(Object.keys(services.grafana?.depends_on ?? {}).sort()).toEqual(['loki', 'prometheus', 'tempo'])
    expect(Object.keys(services['otel-collector']?.depends_on ?? {}).sort()).toEqual(['loki', 'server-1', 'tempo'])
    // Every dependency names a service of the file.
    for (const service of Object.values(services)) for (const dep of Object.keys(service.depends_on ?? {})) expect(services[dep]).toBeDefined()
  })

  it('runs Sentra by role, with controllers serving metrics and processes on separate port ranges', () => {
    for (const name of SENTRA) expect(Object.keys(ROLES)).toContain(services[name]?.command?.[0])
    expect(services['server-1']?.command).toEqual(['server'])
    expect(services['controller-1']?.command).toEqual(['controller'])
    expect(services['controller-1']?.environment?.SENTRA_METRICS_PORT).toBe('9464')
    expect(services['controller-1']?.environment?.SENTRA_PROCESS_PORTS).not.toBe(services['controller-2']?.environment?.SENTRA_PROCESS_PORTS)
  })

  it('runs the demo against both controllers, exporting through the collector', () => {
    expect(services.demo?.command).toEqual(['demo'])
    expect(services.demo?.environment).toMatchObject({
      SENTRA_DEMO_HOST: '0.0.0.0',
      SENTRA_DEMO_LOAD_URLS: 'http://controller-1:4100/,http://controller-2:4100/',
      SENTRA_DEMO_OTLP_ENDPOINT: 'http://otel-collector:4318',
    })
  })

  it('requires an admin token instead of shipping a default one', () => {
    expect(text).toMatch(/SENTRA_ADMIN_TOKEN: \$\{SENTRA_ADMIN_TOKEN:\?/)
    expect(compose.secrets['sentra-token']).toEqual({ environment: 'SENTRA_ADMIN_TOKEN' })
    expect(services.prometheus?.secrets).toEqual(['sentra-token'])
  })

  it('mounts config files that exist: Prometheus, Tempo, the collector, and Grafana\'s provisioning', () => {
    const mounts = Object.values(services).flatMap((s) => s.volumes ?? []).filter((v) => v.startsWith('./'))
    expect(mounts.length).toBeGreaterThanOrEqual(5)
    for (const mount of mounts) expect(existsSync(new URL(mount.split(':')[0]!, root)), mount).toBe(true)
    const prometheus = parse(readFileSync(new URL('deploy/compose/prometheus.yml', root), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[]; authorization?: { credentials_file: string } }[] }
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((j) => [j.job_name, j]))
    expect(jobs['sentra-controller']?.static_configs[0]?.targets).toEqual(['controller-1:9464', 'controller-2:9464'])
    expect(jobs['sentra-server']?.authorization?.credentials_file).toBe('/run/secrets/sentra-token')
    const collector = parse(readFileSync(new URL('deploy/compose/otel-collector.yaml', root), 'utf8')) as { service: { pipelines: Record<string, { exporters: string[] }> } }
    expect(collector.service.pipelines.traces?.exporters).toEqual(['otlphttp/tempo', 'otlphttp/sentra'])
    expect(collector.service.pipelines.logs?.exporters).toEqual(['otlphttp/loki', 'otlphttp/sentra'])
  })
})
