import { existsSync } from 'node:fs'
import { traceUrlTemplateProblem } from '../schema/graph/trace-url.ts'
import { DEFAULT_DATABASE_URL } from '../schema/store/connect.ts'
import { configuredDockerHost } from '../controller/targets/docker-host.ts'
import { DEFAULT_TICK_CONCURRENCY } from '../controller/tick-concurrency.ts'
import { DEFAULT_LIMITS, DEFAULT_QUERY_TIMEOUT_MS, MAX_BODY_BYTES, type QueryLimits } from './limits.ts'
import type { RateLimit } from './rate-limit.ts'
import { DEFAULT_WS_MAX_CONNECTIONS_PER_TOKEN } from './fanout/connections.ts'

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
  /** SENTRA_CONTROLLER_CONCURRENCY: ticks one controller runs at once, across its rollouts (controller/loop.ts). */
  controllerConcurrency: number
  /** Ports the process target runs versions on (so Prometheus can scrape them); null = any free port. */
  processPorts: [number, number] | null
  /** `npm run controller` serves its metrics on this port of SENTRA_HOST (SENTRA_METRICS_PORT); null = not served. */
  metricsPort: number | null
  /** SENTRA_DOCKER_HOST: the engine the docker target uses (docs/docker.md); default the local socket when it exists; null = no docker target. */
  dockerHost: string | null
  /** SENTRA_PERSISTED_ONLY: the API runs only the documents in the committed persisted manifests (server/persisted.ts). */
  persistedOnly: boolean
  /** SENTRA_TRACE_URL_TEMPLATE: link for LinkedTrace.url, with {{traceId}} (docs/traces.md); null = no links. */
  traceUrlTemplate: string | null
  /** SENTRA_OTLP_MAX_BYTES: largest OTLP/HTTP request body the receiver accepts (docs/otlp.md). */
  otlpMaxBytes: number
  /**
   * The Kubernetes target (docs/kubernetes.md): null = none. On with SENTRA_KUBERNETES=1
   * (kubeconfig from KUBECONFIG, ~/.kube/config or the in-cluster service account) or with
   * SENTRA_KUBECONFIG=<file>; `kubeconfig` is that file, or null for the standard locations.
   */
  kubernetes: { kubeconfig: string | null } | null
  /** SENTRA_MAX_DEPTH, _ALIASES, _TOKENS, _DIRECTIVES, _COST: per-operation limits (docs/security.md). */
  limits: QueryLimits
  /** SENTRA_GRAPHQL_MAX_BYTES: largest GraphQL request body over HTTP and graphql-ws message. */
  graphqlMaxBytes: number
  /** SENTRA_RATE_LIMIT: operations per second and burst, per token (per IP without one); null = off. */
  rateLimit: RateLimit | null
  /** SENTRA_QUERY_TIMEOUT_MS: queries running longer are cancelled; null = no timeout. */
  queryTimeoutMs: number | null
  /** SENTRA_INTROSPECTION: `__schema` / `__type` queries allowed. */
  introspection: boolean
  /** SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN: open graphql-ws connections per token per server process; 0 = no cap. */
  wsMaxConnectionsPerToken: number
  /** SENTRA_WS_FANOUT: same-operation subscribers share one execution per event (server/fanout/); 0 only to compare. */
  wsFanout: boolean
  /** SENTRA_EVIDENCE_RETENTION_DAYS: finished rollouts keep their windows and gate results this many days; 0 = forever. */
  evidenceRetentionDays: number
}

/** SENTRA_EVIDENCE_RETENTION_DAYS by default (Prometheus keeps 15 days; a rollout's evidence is looked at for longer). */
export const DEFAULT_EVIDENCE_RETENTION_DAYS = 30

/** The runtime's `evidenceRetentionMs` for a configuration: null keeps evidence forever. */
export function evidenceRetentionMs(config: Pick<Config, 'evidenceRetentionDays'>): number | null {
  return config.evidenceRetentionDays > 0 ? config.evidenceRetentionDays * 24 * 60 * 60 * 1000 : null
}

/** SENTRA_RATE_LIMIT by default: far above what the dashboard, the CLI or Grafana ask for. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 500 }

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

function traceUrlTemplate(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null
  const problem = traceUrlTemplateProblem(raw)
  if (problem !== null) throw new ConfigError(`SENTRA_TRACE_URL_TEMPLATE: ${problem}`)
  return raw
}

function dockerHost(raw: string | undefined): string | null {
  try {
    return configuredDockerHost(raw)
  } catch (error) {
    throw new ConfigError(`SENTRA_DOCKER_HOST: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function kubernetes(enabled: string | undefined, kubeconfig: string | undefined): { kubeconfig: string | null } | null {
  const file = kubeconfig || null
  if (!flag('SENTRA_KUBERNETES', enabled, file !== null)) return null
  if (file !== null && !existsSync(file)) throw new ConfigError(`SENTRA_KUBECONFIG: "${file}" does not exist`)
  return { kubeconfig: file }
}

/** A byte count within [min, max]. */
function bytes(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name}: "${raw}" must be a whole number of bytes from ${min} to ${max}`)
  return value
}

function whole(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name}: "${raw}" must be a whole number from ${min} to ${max}`)
  return value
}

function limits(env: NodeJS.ProcessEnv): QueryLimits {
  return {
    maxDepth: whole('SENTRA_MAX_DEPTH', env.SENTRA_MAX_DEPTH, DEFAULT_LIMITS.maxDepth, 2, 100),
    maxAliases: whole('SENTRA_MAX_ALIASES', env.SENTRA_MAX_ALIASES, DEFAULT_LIMITS.maxAliases, 0, 1000),
    maxTokens: whole('SENTRA_MAX_TOKENS', env.SENTRA_MAX_TOKENS, DEFAULT_LIMITS.maxTokens, 100, 100_000),
    maxDirectives: whole('SENTRA_MAX_DIRECTIVES', env.SENTRA_MAX_DIRECTIVES, DEFAULT_LIMITS.maxDirectives, 0, 1000),
    maxCost: whole('SENTRA_MAX_COST', env.SENTRA_MAX_COST, DEFAULT_LIMITS.maxCost, 100, 100_000_000),
  }
}

/** `<per second>/<burst>` (`50/500`), `<per second>` (burst the same), or `0`/`off`. */
function rateLimit(raw: string | undefined): RateLimit | null {
  if (raw === undefined || raw === '') return DEFAULT_RATE_LIMIT
  if (/^(0|off)$/i.test(raw)) return null
  const match = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(raw)
  const perSecond = Number(match?.[1])
  const burst = match?.[2] !== undefined ? Number(match[2]) : Math.ceil(perSecond)
  if (!match || !(perSecond > 0) || perSecond > 1_000_000 || burst < 1 || burst > 1_000_000) {
    throw new ConfigError(`SENTRA_RATE_LIMIT: "${raw}" must be <operations per second>/<burst> (e.g. 50/500), <operations per second>, or 0 to turn it off`)
  }
  return { perSecond, burst }
}

function queryTimeout(raw: string | undefined): number | null {
  if (raw === '0') return null
  return milliseconds('SENTRA_QUERY_TIMEOUT_MS', raw, DEFAULT_QUERY_TIMEOUT_MS, 100, 600_000)
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, { embedded = false } = {}): Config {
  const adminToken = env.SENTRA_ADMIN_TOKEN || null
  if (adminToken !== null && (adminToken.length < 16 || adminToken.length > 256 || /\s/.test(adminToken))) {
    throw new ConfigError('SENTRA_ADMIN_TOKEN: must be 16-256 characters without spaces')
  }
  const redisUrl = env.SENTRA_REDIS_URL || null
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(`SENTRA_REDIS_URL: "${redisUrl}" is not a redis:// URL`)
  const graphiql = flag('SENTRA_GRAPHIQL', env.SENTRA_GRAPHIQL, false)
  const introspection = flag('SENTRA_INTROSPECTION', env.SENTRA_INTROSPECTION, true)
  if (graphiql && !introspection) throw new ConfigError('SENTRA_INTROSPECTION=0 leaves GraphiQL (SENTRA_GRAPHIQL=1) without a schema: turn one of them off')
  return {
    databaseUrl: env.SENTRA_DATABASE_URL || DEFAULT_DATABASE_URL,
    redisUrl,
    port: port(env.SENTRA_PORT),
    host: env.SENTRA_HOST || '127.0.0.1',
    adminToken,
    demo: flag('SENTRA_DEMO', env.SENTRA_DEMO, embedded),
    configFile: env.SENTRA_CONFIG || null,
    graphiql,
    production: env.NODE_ENV === 'production',
    processPorts: portRange(env.SENTRA_PROCESS_PORTS),
    metricsPort: env.SENTRA_METRICS_PORT ? port(env.SENTRA_METRICS_PORT, 'SENTRA_METRICS_PORT') : null,
    otlpMaxBytes: bytes('SENTRA_OTLP_MAX_BYTES', env.SENTRA_OTLP_MAX_BYTES, 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    dockerHost: dockerHost(env.SENTRA_DOCKER_HOST),
    persistedOnly: flag('SENTRA_PERSISTED_ONLY', env.SENTRA_PERSISTED_ONLY, false),
    leaseTtlMs: milliseconds('SENTRA_LEASE_TTL_MS', env.SENTRA_LEASE_TTL_MS, 15_000, 1000, 600_000),
    controllerConcurrency: whole('SENTRA_CONTROLLER_CONCURRENCY', env.SENTRA_CONTROLLER_CONCURRENCY, DEFAULT_TICK_CONCURRENCY, 1, 1000),
    traceUrlTemplate: traceUrlTemplate(env.SENTRA_TRACE_URL_TEMPLATE),
    kubernetes: kubernetes(env.SENTRA_KUBERNETES, env.SENTRA_KUBECONFIG),
    limits: limits(env),
    graphqlMaxBytes: bytes('SENTRA_GRAPHQL_MAX_BYTES', env.SENTRA_GRAPHQL_MAX_BYTES, MAX_BODY_BYTES, 1024, 64 * 1024 * 1024),
    rateLimit: rateLimit(env.SENTRA_RATE_LIMIT),
    queryTimeoutMs: queryTimeout(env.SENTRA_QUERY_TIMEOUT_MS),
    introspection,
    wsMaxConnectionsPerToken: whole('SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN', env.SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN, DEFAULT_WS_MAX_CONNECTIONS_PER_TOKEN, 0, 1_000_000),
    wsFanout: flag('SENTRA_WS_FANOUT', env.SENTRA_WS_FANOUT, true),
    evidenceRetentionDays: whole('SENTRA_EVIDENCE_RETENTION_DAYS', env.SENTRA_EVIDENCE_RETENTION_DAYS, DEFAULT_EVIDENCE_RETENTION_DAYS, 0, 36_500),
  }
}
