/**
 * Shared pieces of the fault suites (test/faults/): controllers as real processes on a
 * test database and the shared Redis, traffic that records which version answered when,
 * a seeded random source, and readers of the decision log and the lease holders.
 */
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { assertSpec } from '../../schema/spec.ts'
import type { Store } from '../../schema/store/index.ts'
import type { Decision } from '../../schema/store/models.ts'
import { TEST_REDIS_URL } from '../support/databases.ts'
import { startSentra, type SentraProcess } from '../support/processes.ts'
import { quickSpec } from '../support/rollouts.ts'

/** A controller process (`npm run controller`) with its holder id, once it runs. */
export interface ControllerProcess extends SentraProcess {
  readonly holder: string
}

/** Starts `controller/main.ts` and resolves once it prints its holder id. */
export async function startController(env: Record<string, string>, timeoutMs = 90_000): Promise<ControllerProcess> {
  const child = startSentra('controller/main.ts', env)
  try {
    const line = await child.waitFor(/sentra controller \S+ running/, timeoutMs)
    const holder = /sentra controller (\S+) running/.exec(line)?.[1] ?? ''
    return Object.assign(child, { holder })
  } catch (error) {
    await child.kill9()
    throw error
  }
}

/** The environment of a controller on `databaseUrl` and the shared Redis, with short leases. */
export function controllerEnv(databaseUrl: string, leaseTtlMs: number, extra: Record<string, string> = {}): Record<string, string> {
  return { SENTRA_DATABASE_URL: databaseUrl, SENTRA_REDIS_URL: TEST_REDIS_URL, SENTRA_LEASE_TTL_MS: String(leaseTtlMs), ...extra }
}

/** mulberry32: a small seeded generator, so a failing run can be repeated with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Even versions are bad (test/faults/service.mjs, as services/demo.mjs), odd ones good. */
export function isBadVersion(version: string): boolean {
  return Number(/^v(\d+)/.exec(version)?.[1] ?? 1) % 2 === 0
}

/** test/faults/service.mjs: even versions fail half their requests, odd ones none. */
export const FAULT_SERVICE = fileURLToPath(new URL('./service.mjs', import.meta.url))

/** A process-target application of test/faults/service.mjs with the given tick interval and steps. */
export function faultSpec(name: string, port: number, { interval, analyzeMin, target }: { interval: string; analyzeMin: string; target?: Record<string, unknown> }) {
  return assertSpec(
    quickSpec(name, port, {
      target: target ?? { kind: 'process', listen: `127.0.0.1:${port}`, command: [process.execPath, FAULT_SERVICE], env: { APP_VERSION: '{{version}}', PORT: '{{port}}' } },
      interval,
      strategy: { canary: { steps: [{ setWeight: 20 }, { analyze: { min: analyzeMin, max: '120s' } }, { setWeight: 60 }, { analyze: { min: analyzeMin, max: '120s' } }] } },
      // The error rate alone (50 % against 0 %): a latency ratio would also judge the load of
      // the machine (a starved two-core box stretches a canary's p95 past twice the stable's
      // now and then), and these tests judge HA, not judges.
      gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.1 } }],
      // Kills reset the built-in telemetry (the proxy lives in the controller): windows
      // with too little data are INCONCLUSIVE, which must never end the rollout here.
      inconclusiveLimit: 200,
    }),
  )
}

/** What each version of one application answered, seen from outside through its proxy. */
export interface VersionSeen {
  count: number
  /** When the first and the last request it answered were sent (epoch ms). */
  firstSentAt: number
  lastSentAt: number
}

/**
 * Steady traffic to several applications' proxies that records, per application and
 * version (the proxy's x-sentra-version header), how many requests each answered and when
 * the last one was sent. Connection errors (a proxy down while its controller is dead)
 * are counted, not thrown.
 */
export function recordTraffic(ports: ReadonlyMap<string, number>, { rate = 30, concurrency = 12, path = '/fault-probe' } = {}) {
  const seen = new Map<string, Map<string, VersionSeen>>()
  let failures = 0
  let stopped = false
  const timers: NodeJS.Timeout[] = []
  const agents: Agent[] = []
  for (const [application, port] of ports) {
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
    agents.push(agent)
    const versions = new Map<string, VersionSeen>()
    seen.set(application, versions)
    let inFlight = 0
    const fire = () => {
      if (stopped || inFlight >= concurrency) return
      inFlight++
      const sentAt = Date.now()
      const req = request({ host: '127.0.0.1', port, path, agent, timeout: 5000 }, (res) => {
        const version = res.headers['x-sentra-version']
        if (typeof version === 'string') {
          const entry = versions.get(version) ?? { count: 0, firstSentAt: sentAt, lastSentAt: sentAt }
          entry.count++
          entry.firstSentAt = Math.min(entry.firstSentAt, sentAt)
          entry.lastSentAt = Math.max(entry.lastSentAt, sentAt)
          versions.set(version, entry)
        }
        res.resume()
        res.on('close', () => inFlight--)
      })
      req.on('error', () => {
        failures++
        inFlight--
      })
      req.on('timeout', () => req.destroy())
      req.end()
    }
    timers.push(setInterval(fire, 1000 / rate))
  }
  return {
    seen: (application: string, version: string): VersionSeen | undefined => seen.get(application)?.get(version),
    failures: () => failures,
    stop: () => {
      stopped = true
      for (const timer of timers) clearInterval(timer)
      for (const agent of agents) agent.destroy()
    },
  }
}

/** Who holds each rollout's lease in Redis now (controller/leases.ts key layout); null = nobody. */
export async function leaseHolders(redis: Redis, rolloutIds: readonly string[], prefix = 'sentra:'): Promise<Map<string, string | null>> {
  const holders = new Map<string, string | null>()
  for (const id of rolloutIds) {
    const value = await redis.get(`${prefix}lease:rollout:${id}`)
    holders.set(id, value === null ? null : value.replace(/\|\d+$/, ''))
  }
  return holders
}

export function redisClient(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 })
}

/** The decision sequences a demo canary may take (controller/rollout.ts), by expected outcome. */
const GOOD_PATH = ['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ADVANCE', 'PROMOTE']
const BAD_PATHS = [
  ['START', 'SET_WEIGHT', 'ROLLBACK', 'ROLLED_BACK'],
  ['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ROLLBACK', 'ROLLED_BACK'],
]

/**
 * Problems in one rollout's decision log: a duplicate or out-of-order seq, a step index
 * that goes backwards, and an action sequence that is not the whole expected path (a
 * missing decision is a gap, a repeated one a duplicate). Empty when the log is right.
 */
export function decisionLogProblems(decisions: readonly Decision[], bad: boolean): string[] {
  const problems: string[] = []
  for (let i = 1; i < decisions.length; i++) {
    const [before, after] = [decisions[i - 1]!, decisions[i]!]
    if (after.seq <= before.seq) problems.push(`seq ${after.seq} after ${before.seq}`)
    if (after.stepIndex < before.stepIndex) problems.push(`step ${after.stepIndex} after ${before.stepIndex}`)
    if (after.at.getTime() < before.at.getTime()) problems.push(`${after.action} decided before ${before.action}`)
  }
  const actions = decisions.map((d) => d.action).join(',')
  const paths = bad ? BAD_PATHS : [GOOD_PATH]
  if (!paths.some((path) => path.join(',') === actions)) problems.push(`actions ${actions} are not ${paths.map((p) => p.join(',')).join(' or ')}`)
  return problems
}

/** Every decision of the rollouts, per rollout in seq order. */
export async function decisionLogs(store: Store, rolloutIds: readonly string[]): Promise<Map<string, Decision[]>> {
  const logs = await store.decisions.for(rolloutIds)
  return new Map(rolloutIds.map((id, index) => [id, logs[index] ?? []]))
}

interface ChainVerifying {
  verify?(options: { rolloutId?: string }): Promise<{ ok: boolean; decisionsChecked: number; firstBroken: { message: string } | null }>
}

/**
 * The decision log's hash chain (migration 008, schema/store/decision-chain.ts) of one
 * rollout: null when it holds (chain_seq 1..n with no gap, every link intact), else the
 * first broken link. Skipped (null) on a store without the chain.
 */
export async function chainProblem(store: Store, rolloutId: string, expectedDecisions: number): Promise<string | null> {
  const decisions = store.decisions as unknown as ChainVerifying
  if (typeof decisions.verify !== 'function') return null
  const report = await decisions.verify({ rolloutId })
  if (!report.ok) return report.firstBroken?.message ?? 'the chain is broken'
  if (report.decisionsChecked !== expectedDecisions) return `the chain has ${report.decisionsChecked} links for ${expectedDecisions} decisions`
  return null
}

/**
 * A free loopback port below the kernel's ephemeral range (32768 and up by default), for an
 * application's `listen` address. The proxy on it is down whenever its controller is dead;
 * a port from the ephemeral range could meanwhile become the local end of any outgoing
 * connection on the machine, and the next controller could not listen on it.
 */
export async function listenPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (free) return port
  }
  throw new Error('no free port in 20000-31999')
}
