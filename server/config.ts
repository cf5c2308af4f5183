import { DEFAULT_DATABASE_URL } from '../schema/store/connect.ts'

/** Everything a Sentra process reads from its environment (DESIGN.md, "Environment"). */
export interface Config {
  databaseUrl: string
  redisUrl: string | null
  port: number
  host: string
  adminToken: string | null
  demo: boolean
  configFile: string | null
  graphiql: boolean
  production: boolean
  /** How long a dead controller's rollouts wait before another controller takes them. */
  leaseTtlMs: number
  /** Ports the process target runs versions on (so Prometheus can scrape them); null = any free port. */
  processPorts: [number, number] | null
  /** `npm run controller` serves its metrics on this port of SENTRA_HOST (SENTRA_METRICS_PORT); null = not served. */
  metricsPort: number | null
}

export class ConfigError extends Error {}

function port(raw: string | undefined, name = 'SENTRA_PORT'): number {
  if (raw === undefined || raw === '') return 4000
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(`${name}: "${raw}" is not a port number (0-65535)`)
  }
  return value
}

function milliseconds(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name}: "${raw}" must be a whole number of milliseconds from ${min} to ${max}`)
  return value
}

function portRange(raw: string | undefined): [number, number] | null {
  if (raw === undefined || raw === '') return null
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(raw)
  const from = Number(match?.[1])
  const to = Number(match?.[2])
  if (!match || from < 1024 || to > 65535 || from > to) throw new ConfigError(`SENTRA_PROCESS_PORTS: "${raw}" must be a range like 5100-5199 within 1024-65535`)
  return [from, to]
}

function flag(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new ConfigError(`${name}: "${raw}" is not a boolean (use 1 or 0)`)
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, { embedded = false } = {}): Config {
  const adminToken = env.SENTRA_ADMIN_TOKEN || null
  if (adminToken !== null && (adminToken.length < 16 || adminToken.length > 256 || /\s/.test(adminToken))) {
    throw new ConfigError('SENTRA_ADMIN_TOKEN: must be 16-256 characters without spaces')
  }
  const redisUrl = env.SENTRA_REDIS_URL || null
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(`SENTRA_REDIS_URL: "${redisUrl}" is not a redis:// URL`)
  return {
    databaseUrl: env.SENTRA_DATABASE_URL || DEFAULT_DATABASE_URL,
    redisUrl,
    port: port(env.SENTRA_PORT),
    host: env.SENTRA_HOST || '127.0.0.1',
    adminToken,
    demo: flag('SENTRA_DEMO', env.SENTRA_DEMO, embedded),
    configFile: env.SENTRA_CONFIG || null,
    graphiql: flag('SENTRA_GRAPHIQL', env.SENTRA_GRAPHIQL, false),
    production: env.NODE_ENV === 'production',
    processPorts: portRange(env.SENTRA_PROCESS_PORTS),
    metricsPort: env.SENTRA_METRICS_PORT ? port(env.SENTRA_METRICS_PORT, 'SENTRA_METRICS_PORT') : null,
    leaseTtlMs: milliseconds('SENTRA_LEASE_TTL_MS', env.SENTRA_LEASE_TTL_MS, 15_000, 1000, 600_000),
  }
}
