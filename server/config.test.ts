import { describe, expect, it } from 'vitest'
import { ConfigError, evidenceRetentionMs, readConfig } from './config.ts'

describe('readConfig', () => {
  it('has the documented defaults', () => {
    expect(readConfig({})).toMatchObject({
      databaseUrl: './.sentra/sentra.db',
      redisUrl: null,
      port: 4000,
      host: '127.0.0.1',
      adminToken: null,
      demo: false,
      graphiql: false,
      leaseTtlMs: 15_000,
      controllerConcurrency: 16,
      metricsPort: null,
    })
    expect(readConfig({}, { embedded: true }).demo).toBe(true)
  })

  it('reads every variable', () => {
    const config = readConfig({
      SENTRA_DATABASE_URL: 'mysql://root@127.0.0.1:3306/sentra',
      SENTRA_REDIS_URL: 'redis://127.0.0.1:6379',
      SENTRA_PORT: '4100',
      SENTRA_HOST: '0.0.0.0',
      SENTRA_ADMIN_TOKEN: 'a-long-enough-admin-token',
      SENTRA_DEMO: '0',
      SENTRA_GRAPHIQL: 'true',
      SENTRA_LEASE_TTL_MS: '3000',
      SENTRA_PROCESS_PORTS: '5100-5199',
      SENTRA_METRICS_PORT: '9464',
      SENTRA_CONTROLLER_CONCURRENCY: '64',
    })
    expect(config).toMatchObject({ controllerConcurrency: 64, metricsPort: 9464, port: 4100, host: '0.0.0.0', demo: false, graphiql: true, leaseTtlMs: 3000, processPorts: [5100, 5199], redisUrl: 'redis://127.0.0.1:6379' })
  })

  it('reads the WebSocket settings: a connection cap per token (100, 0 = none) and the fan-out (on)', () => {
    expect(readConfig({})).toMatchObject({ wsMaxConnectionsPerToken: 100, wsFanout: true })
    expect(readConfig({ SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN: '0', SENTRA_WS_FANOUT: '0' })).toMatchObject({ wsMaxConnectionsPerToken: 0, wsFanout: false })
  })

  it('reads the evidence retention in days (30 by default, 0 = forever) and gives the runtime milliseconds', () => {
    expect(readConfig({}).evidenceRetentionDays).toBe(30)
    expect(evidenceRetentionMs(readConfig({}))).toBe(30 * 24 * 60 * 60 * 1000)
    expect(evidenceRetentionMs(readConfig({ SENTRA_EVIDENCE_RETENTION_DAYS: '7' }))).toBe(7 * 24 * 60 * 60 * 1000)
    expect(evidenceRetentionMs(readConfig({ SENTRA_EVIDENCE_RETENTION_DAYS: '0' }))).toBeNull()
  })

  it.each([
    ['SENTRA_EVIDENCE_RETENTION_DAYS', '-1', /SENTRA_EVIDENCE_RETENTION_DAYS/],
    ['SENTRA_EVIDENCE_RETENTION_DAYS', '1.5', /SENTRA_EVIDENCE_RETENTION_DAYS/],
    ['SENTRA_EVIDENCE_RETENTION_DAYS', '30d', /SENTRA_EVIDENCE_RETENTION_DAYS/],
    ['SENTRA_EVIDENCE_RETENTION_DAYS', '36501', /SENTRA_EVIDENCE_RETENTION_DAYS/],
    ['SENTRA_EVIDENCE_RETENTION_DAYS', '9'.repeat(400), /SENTRA_EVIDENCE_RETENTION_DAYS/],
    ['SENTRA_PORT', 'eighty', /SENTRA_PORT/],
    ['SENTRA_PORT', '70000', /SENTRA_PORT/],
    ['SENTRA_PORT', '-1', /SENTRA_PORT/],
    ['SENTRA_PORT', '40 00', /SENTRA_PORT/],
    ['SENTRA_ADMIN_TOKEN', 'short', /SENTRA_ADMIN_TOKEN/],
    ['SENTRA_ADMIN_TOKEN', 'has spaces in the token value', /SENTRA_ADMIN_TOKEN/],
    ['SENTRA_ADMIN_TOKEN', 'x'.repeat(300), /SENTRA_ADMIN_TOKEN/],
    ['SENTRA_REDIS_URL', 'http://127.0.0.1:6379', /SENTRA_REDIS_URL/],
    ['SENTRA_DEMO', 'maybe', /SENTRA_DEMO/],
    ['SENTRA_GRAPHIQL', '2', /SENTRA_GRAPHIQL/],
    ['SENTRA_LEASE_TTL_MS', '10', /SENTRA_LEASE_TTL_MS/],
    ['SENTRA_LEASE_TTL_MS', '1e4', /SENTRA_LEASE_TTL_MS/],
    ['SENTRA_CONTROLLER_CONCURRENCY', '0', /SENTRA_CONTROLLER_CONCURRENCY/],
    ['SENTRA_CONTROLLER_CONCURRENCY', '1001', /SENTRA_CONTROLLER_CONCURRENCY/],
    ['SENTRA_CONTROLLER_CONCURRENCY', '-4', /SENTRA_CONTROLLER_CONCURRENCY/],
    ['SENTRA_CONTROLLER_CONCURRENCY', '8.5', /SENTRA_CONTROLLER_CONCURRENCY/],
    ['SENTRA_CONTROLLER_CONCURRENCY', 'many', /SENTRA_CONTROLLER_CONCURRENCY/],
    ['SENTRA_PROCESS_PORTS', '5100', /SENTRA_PROCESS_PORTS/],
    ['SENTRA_PROCESS_PORTS', '80-90', /SENTRA_PROCESS_PORTS/],
    ['SENTRA_PROCESS_PORTS', '6000-5000', /SENTRA_PROCESS_PORTS/],
    ['SENTRA_PROCESS_PORTS', '5000-70000', /SENTRA_PROCESS_PORTS/],
    ['SENTRA_METRICS_PORT', 'nine', /SENTRA_METRICS_PORT/],
    ['SENTRA_METRICS_PORT', '70000', /SENTRA_METRICS_PORT/],
    ['SENTRA_METRICS_PORT', '-1', /SENTRA_METRICS_PORT/],
    ['SENTRA_METRICS_PORT', '94 64', /SENTRA_METRICS_PORT/],
    ['SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN', 'many', /SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN/],
    ['SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN', '-1', /SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN/],
    ['SENTRA_WS_FANOUT', 'sometimes', /SENTRA_WS_FANOUT/],
  ])('refuses %s=%s with a message naming it', (name, value, message) => {
    expect(() => readConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => readConfig({ [name]: value })).toThrow(message)
  })
})
