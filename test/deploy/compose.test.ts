import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

interface Service {
  image?: string
  command?: string[]
  ports?: string[]
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
  environment?: Record<string, string>
}

/** No image can be pulled here, so the compose file is checked for its structure. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> }
  const services = compose.services

  it('has MySQL, Redis, two servers and two controllers', () => {
    expect(Object.keys(services).sort()).toEqual(['controller-1', 'controller-2', 'install', 'mysql', 'redis', 'server-1', 'server-2'])
  })

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) expect(service.image, name).toMatch(/^[a-z0-9./-]+:[0-9][\w.-]*(-[a-z]+)?$/)
  })

  it('publishes ports on 127.0.0.1 only', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/)
    }
  })

  it('gives every long-running service a healthcheck, and starts Sentra after its dependencies', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'install') continue
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(0)
    }
    for (const name of ['server-1', 'server-2', 'controller-1', 'controller-2']) {
      expect(services[name]?.depends_on).toEqual({
        mysql: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        install: { condition: 'service_completed_successfully' },
      })
      expect(services[name]?.environment?.SENTRA_DATABASE_URL).toMatch(/^mysql:\/\//)
      expect(services[name]?.environment?.SENTRA_REDIS_URL).toMatch(/^redis:\/\//)
    }
    expect(services['controller-1']?.command).toEqual(['npm', 'run', 'controller'])
    expect(services['server-1']?.command).toEqual(['npm', 'run', 'server'])
  })
})
