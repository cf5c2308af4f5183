/**
 * `npm run bench -- fanout [--subscribers 1000,5000] [--baseline 1000] [--seconds 20] [--rate 5] [--processes 2]`:
 * graphql-ws subscribers spread over two `npm run server` processes sharing a fresh MySQL
 * database and Redis, while a publisher does what a controller's tick does on a change
 * (updates the rollout row, then `bus.publish('rollout.changed', …)` through Redis). The
 * subscribers live in `--processes` subscriber processes (pool.ts), so receiving is not
 * done on the publisher's event loop; their clocks are calibrated against this process's.
 * Prints publish→receipt p50/p99, events lost, how far behind subscribers fell, server RSS
 * per subscriber, server CPU per delivery and the subscriber processes' CPU; then the same
 * at the baseline size with SENTRA_WS_FANOUT=0 (one execution per subscriber, as before
 * server/fanout/), and ratios. See docs/benchmarks.md, "fanout".
 */
import { randomBytes } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import type { Bus } from '../../schema/events/bus.ts'
import { createBus } from '../../schema/events/index.ts'
import { openStore, type Store } from '../../schema/store/index.ts'
import { benchSpec } from '../controller/seed.ts'
import { cpuMs, createDatabase, machineBusyMs, REDIS_URL, rssBytes, startServer, total, type ServerProcess } from './servers.ts'
import { clockNow } from './clock.ts'
import { SubscriberPool } from './pool.ts'
import { ratio, readOptions, summarizeStep, verdicts, type FanoutBenchOptions, type StepObservation, type StepSummary } from './summary.ts'

const APPLICATION = 'fanout-bench'
/** Subscribers per token: well under SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN's default of 100 per server. */
const SUBSCRIBERS_PER_TOKEN = 50
/** Events published (and not measured) before each window, so every subscription is live. */
const WARMUP_EVENTS = 3
/** How long the last event may take to reach everyone before it counts as lost. */
const DRAIN_LIMIT_MS = 10_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const log = (line: string) => process.stderr.write(`[bench fanout] ${line}\n`)

export interface FanoutBenchSummary {
  benchmark: 'fanout'
  settings: FanoutBenchOptions
  machine: { cores: number; loadAverage: number[]; node: string; note: string }
  fanout: StepSummary[]
  baseline: (StepSummary & { fanout: false }) | null
  /**
   * baseline ÷ fan-out at the baseline's size (higher = the fan-out is better by that factor).
   * A saturated baseline (it never caught up) makes these lower bounds: its CPU per delivery
   * counts only what it delivered in time.
   */
  ratios: { cpuPerDelivery: number | null; p99: number | null; p50: number | null; baselineSaturated: boolean } | null
  targets: ReturnType<typeof verdicts>
  elapsedSeconds: number
}

interface World {
  store: Store
  bus: Bus
  rolloutId: string
  tokens: string[]
  seq: number
}

/** The application, one rollout to change, and enough read tokens (a tenth of them limited to the application). */
async function seed(store: Store, adminToken: string, serverUrl: string, tokenCount: number): Promise<{ rolloutId: string; tokens: string[] }> {
  const http = serverUrl.replace(/^ws/, 'http')
  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(http, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, body: JSON.stringify({ query, variables }) })
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] }
    if (!body.data || body.errors) throw new Error(`seeding failed: ${JSON.stringify(body.errors)}`)
    return body.data
  }
  // The controller benchmark's spec: no controller runs here, so its target is never called.
  const spec = benchSpec(APPLICATION, 5)
  await gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec })
  const started = await gql<{ startRollout: { id: string } }>(`mutation { startRollout(application: "${APPLICATION}", version: "v2") { id } }`)
  const rolloutId = Buffer.from(started.startRollout.id, 'base64').toString().split(':')[1]!
  const tokens: string[] = []
  for (let i = 0; i < tokenCount; i++) {
    tokens.push((await store.tokens.create(`fanout bench ${i}`, 'read', i % 10 === 9 ? { applications: [APPLICATION] } : {})).token)
  }
  return { rolloutId, tokens }
}

/**
 * What the controller's tick does on a change: update the row, then publish the change.
 * Returns the event's seq and when it was published (clockNow(), just before the publish:
 * latency is publish→receipt, not the row update).
 */
async function publishChange(world: World): Promise<{ seq: number; at: number }> {
  const weight = 10 + (world.seq++ % 80)
  const rollout = await world.store.rollouts.update(world.rolloutId, { desiredWeight: weight })
  const at = clockNow()
  await world.bus.publish('rollout.changed', { rolloutId: world.rolloutId, application: APPLICATION, seq: rollout.seq, status: rollout.status, kind: 'weight', at: new Date().toISOString() })
  return { seq: rollout.seq, at }
}

async function measureStep(world: World, servers: readonly ServerProcess[], pool: SubscriberPool, count: number, options: FanoutBenchOptions): Promise<StepSummary> {
  const pids = servers.map((s) => s.child.pid)
  // Settle before the baseline reading: the previous step's sockets are being collected.
  await sleep(1000)
  const rssBefore = await total(pids, rssBytes)
  // Calibrated while the subscriber processes are idle, so the pings are answered at once.
  const clock = await pool.calibrate()
  log(`${count} subscribers over ${options.processes} processes: connecting (clock offsets ${clock.offsetsMs.map((o) => o.toFixed(3)).join(', ')} ms, error <= ${clock.errorMs.toFixed(3)} ms)`)
  const tokens = world.tokens.slice(0, Math.max(2, Math.ceil(count / SUBSCRIBERS_PER_TOKEN)))
  try {
    await pool.open(
      count,
      servers.map((s) => s.url),
      tokens,
      APPLICATION,
    )
    // Warm-up: every subscription has to be live (its first event received) before measuring.
    let warm: number | null = null
    for (let i = 0; i < WARMUP_EVENTS || warm === null; i++) {
      const { seq } = await publishChange(world)
      await sleep(1000 / options.rate)
      if (i >= WARMUP_EVENTS - 1 && (await pool.waitAll(seq, 5000)) !== null) warm = seq
      if (i > WARMUP_EVENTS + 20) throw new Error(`${count} subscribers: not all live after ${i} warm-up events`)
    }
    const rssWith = await total(pids, rssBytes)
    log(`${count} subscribers: measuring ${options.seconds} s at ${options.rate} events/s`)
    /** seq → when it was published (clockNow()). */
    const published = new Map<number, number>()
    const cpuFrom = clockNow()
    const cpuBefore = await total(pids, cpuMs)
    const subscriberCpuBefore = await Promise.all(pool.pids.map(cpuMs))
    const mainCpuBefore = process.cpuUsage()
    const machineBefore = await machineBusyMs()
    const started = clockNow()
    const interval = 1000 / options.rate
    let lastSeq = -1
    for (let i = 0; clockNow() - started < options.seconds * 1000; i++) {
      // Fixed schedule: a slow publish does not slow the rate down.
      const due = started + i * interval
      if (due > clockNow()) await sleep(due - clockNow())
      const change = await publishChange(world)
      lastSeq = change.seq
      published.set(lastSeq, change.at)
    }
    const lastAt = published.get(lastSeq)!
    const drainedAt = await pool.waitAll(lastSeq, DRAIN_LIMIT_MS)
    const cpuAfter = await total(pids, cpuMs)
    const subscriberCpuAfter = await Promise.all(pool.pids.map(cpuMs))
    const mainCpu = process.cpuUsage(mainCpuBefore)
    const machineAfter = await machineBusyMs()
    const cpuSeconds = (clockNow() - cpuFrom) / 1000
    const seqs = [...published.keys()]
    const publishedAt = seqs.map((seq) => published.get(seq)!)
    const receipts = await pool.receipts(seqs)
    const latenciesUs: number[] = []
    let received = 0
    let maxBehindAtLastPublish = 0
    for (const { subscribers, times } of receipts.processes) {
      for (let row = 0; row < subscribers; row++) {
        let behind = 0
        for (let k = 0; k < seqs.length; k++) {
          const got = times[row * seqs.length + k]!
          if (!(got <= lastAt)) behind++
          if (Number.isNaN(got)) continue
          received++
          latenciesUs.push((got - publishedAt[k]!) * 1000)
        }
        maxBehindAtLastPublish = Math.max(maxBehindAtLastPublish, behind)
      }
    }
    const observation: StepObservation = {
      subscribers: count,
      published: published.size,
      windowSeconds: (lastAt - started) / 1000 + 1 / options.rate,
      latenciesUs,
      received,
      maxBehindAtLastPublish,
      drainMs: drainedAt === null ? null : Math.round(drainedAt - lastAt),
      cpuSeconds,
      serverCpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
      subscriberCpuMs: subscriberCpuAfter.map((after, i) => (after === null || subscriberCpuBefore[i] === null ? null : after - subscriberCpuBefore[i]!)),
      mainCpuMs: (mainCpu.user + mainCpu.system) / 1000,
      machineBusyMs: machineBefore === null || machineAfter === null ? null : machineAfter - machineBefore,
      clockErrorMs: clock.errorMs,
      rssBeforeBytes: rssBefore,
      rssWithBytes: rssWith,
      errors: receipts.errors,
      closed: receipts.closed,
    }
    const summary = summarizeStep(observation)
    log(
      `${count} subscribers: p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, lost ${summary.lost}, ${summary.cpuMicrosPerDelivery} µs CPU/delivery, ` +
        `CPU-s/s servers ${summary.serverCpuPerSecond}, subscriber processes ${summary.subscriberCpuPerSecond} (busiest ${summary.busiestSubscriberProcessCpuPerSecond}), main ${summary.mainCpuPerSecond}, machine ${summary.machineCpuPerSecond}`,
    )
    return summary
  } finally {
    await pool.close()
  }
}

/** Two servers with `fanout` on or off, the steps in `sizes`, then the servers stopped. */
async function phase(databaseUrl: string, adminToken: string, fanout: boolean, sizes: readonly number[], options: FanoutBenchOptions, pool: SubscriberPool, world: Omit<World, 'rolloutId' | 'tokens'> & Partial<World>): Promise<{ steps: StepSummary[]; world: World }> {
  const env = { SENTRA_DATABASE_URL: databaseUrl, SENTRA_REDIS_URL: REDIS_URL, SENTRA_ADMIN_TOKEN: adminToken, SENTRA_WS_FANOUT: fanout ? '1' : '0', SENTRA_RATE_LIMIT: '0' }
  const servers: ServerProcess[] = []
  try {
    // Started together: start-up (tsx compiling the server) is the slow part on a busy machine.
    const started = await Promise.allSettled([startServer(env, log), startServer(env, log)])
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value)
    for (const result of started) if (result.status === 'rejected') throw result.reason
    if (world.rolloutId === undefined || world.tokens === undefined) {
      const largest = Math.max(...sizes, options.baseline ?? 0)
      Object.assign(world, await seed(world.store, adminToken, servers[0]!.url, Math.max(2, Math.ceil(largest / SUBSCRIBERS_PER_TOKEN))))
    }
    const steps: StepSummary[] = []
    for (const size of sizes) steps.push(await measureStep(world as World, servers, pool, size, options))
    return { steps, world: world as World }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
  }
}

export async function run(given?: Partial<FanoutBenchOptions>): Promise<FanoutBenchSummary> {
  const options: FanoutBenchOptions = { ...readOptions(given ? [] : process.argv.slice(3)), ...given }
  const began = performance.now()
  const database = await createDatabase()
  // Migrated here once, so the two servers do not race to migrate the same database.
  const store = await openStore(database.url)
  const bus = createBus(REDIS_URL)
  const adminToken = `bench-${randomBytes(12).toString('hex')}`
  let pool: SubscriberPool | undefined
  try {
    pool = await SubscriberPool.start(options.processes, log)
    const world = { store, bus, seq: 0 }
    const shared = await phase(database.url, adminToken, true, options.subscribers, options, pool, world)
    const baselineStep = options.baseline === null ? null : (await phase(database.url, adminToken, false, [options.baseline], options, pool, shared.world)).steps[0]!
    const comparable = baselineStep && shared.steps.find((s) => s.subscribers === baselineStep.subscribers)
    return {
      benchmark: 'fanout',
      settings: options,
      machine: { cores: cpus().length, loadAverage: loadavg(), node: process.version, note: 'subscriber processes, publisher and both servers share this machine (and whatever else runs on it)' },
      fanout: shared.steps,
      baseline: baselineStep ? { ...baselineStep, fanout: false } : null,
      ratios: comparable
        ? {
            cpuPerDelivery: ratio(baselineStep.cpuMicrosPerDelivery, comparable.cpuMicrosPerDelivery),
            p99: ratio(baselineStep.latencyMs.p99, comparable.latencyMs.p99),
            p50: ratio(baselineStep.latencyMs.p50, comparable.latencyMs.p50),
            baselineSaturated: baselineStep.saturated,
          }
        : null,
      targets: verdicts(shared.steps),
      elapsedSeconds: Math.round((performance.now() - began) / 100) / 10,
    }
  } finally {
    await pool?.stop()
    await bus.close()
    await store.close()
    await database.drop()
  }
}
