/**
 * `npm run bench -- controller`: how many active rollouts one controller sustains (tick lag
 * p99 under 1 s) at 5 s ticks on built-in telemetry, on SQLite and on MySQL, and what a
 * rollout-tick costs. The real Controller and tick code run against a seeded store; the
 * target is in memory and the telemetry synthetic (see docs/benchmarks.md, "controller").
 *
 * Settings: BENCH_ROLLOUTS (ramp, default 100,1000,3000,10000), BENCH_SECONDS (measured
 * seconds per step, default 30), BENCH_STORES (sqlite,mysql), BENCH_CONCURRENCY (the
 * controller's maxConcurrency; default: its own), BENCH_LEASES (store|redis; default store
 * on SQLite as embedded mode, Redis on MySQL as `npm run controller`), BENCH_INTERVAL (5),
 * BENCH_KEEP_GOING=1 (measure every step, not only up to the first one not sustained),
 * BENCH_GROUP_COMMIT=1|0 (ticks share transactions, or each commits alone; unset: as the
 * controller does, grouped on SQLite only),
 * SENTRA_BENCH_MYSQL_URL, SENTRA_BENCH_REDIS_URL.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { RedisLeases, StoreLeases } from '../../controller/leases.ts'
import { Controller } from '../../controller/loop.ts'
import { ControllerMetrics } from '../../controller/metrics.ts'
import { BuiltinProvider } from '../../controller/telemetry/builtin.ts'
import type { TelemetryProvider } from '../../controller/telemetry/provider.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { MemoryBus, RedisBus } from '../../schema/events/index.ts'
import { GroupCommit, groupsCommitsByDefault } from '../../schema/store/group-commit.ts'
import { openStore, type Store } from '../../schema/store/index.ts'
import { type JudgeAgeResult, judgeMsPerTickByAge } from './judge-age.ts'
import { CountingLeases, findProcess, processCpuMicros, recordInto } from './probes.ts'
import { seedActiveRollouts, SEEDED_WEIGHT } from './seed.ts'
import {
  type BenchLeases,
  type BenchStore,
  type ControllerBenchOptions,
  largestSustained,
  OptionsError,
  readOptions,
  type StepSummary,
  summarizeStep,
} from './summary.ts'
import { BenchTarget } from './target.ts'
import { SyntheticTraffic } from './traffic.ts'
import { createBenchMysqlDatabase } from '../mysql-database.ts'

const REDIS_URL = process.env.SENTRA_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
/** The first round (every rollout ticked once) may take this long before the step is measured anyway. */
const FIRST_ROUND_LIMIT_MS = 180_000
/** Error lines kept per step in the summary (the count is exact). */
const KEPT_ERRORS = 5

type Log = (line: string) => void

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface StoreResult {
  store: BenchStore
  leases: BenchLeases
  bus: Bus['kind']
  steps: (StepSummary & { errors: string[] })[]
  /** The largest ramp step with tick lag p99 under 1 s (null: not even the first). */
  largestSustained: number | null
  /** Seconds to seed the rollouts of the whole ramp. */
  seedSeconds: number
}

export interface ControllerBenchSummary {
  benchmark: 'controller'
  settings: ControllerBenchOptions
  machine: { cores: number; loadAverage: number[]; node: string }
  results: (StoreResult | { store: BenchStore; skipped: string })[]
  largestSustained: Partial<Record<BenchStore, number | null>>
  /** CPU ms of the two sequential gates per tick by analysis age in increments, with runs and re-judging everything (judge-age.ts). */
  sequentialJudgeMsPerTickByIncrements: JudgeAgeResult
  elapsedSeconds: number
}

/** A fresh database on the store's server; `drop` removes it (and the SQLite file's directory). */
async function createDatabase(kind: BenchStore): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sentra-bench-controller-'))
    return { url: join(dir, 'sentra.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  return createBenchMysqlDatabase()
}

/** Removes what the run left in Redis under its prefix: released leases are gone, their fencing counters stay. */
async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 })
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

async function countRows(store: Store): Promise<{ decisions: number; evidence: number }> {
  const count = async (table: 'decisions' | 'gate_results' | 'telemetry_windows'): Promise<number> => {
    const row = await store.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    return Number(row.n)
  }
  return { decisions: await count('decisions'), evidence: (await count('gate_results')) + (await count('telemetry_windows')) }
}

interface StepContext {
  store: Store
  bus: Bus
  leases: CountingLeases
  target: BenchTarget
  providers: ReadonlyMap<string, TelemetryProvider>
  options: ControllerBenchOptions
  databasePid: number | null
  redisPid: number | null
  log: Log
}

/** Runs the real Controller over the `rollouts` active rollouts in the store and measures one window. */
async function measureStep(ctx: StepContext, rollouts: number, index: number): Promise<StepSummary & { errors: string[] }> {
  const { store, options, log } = ctx
  const metrics = new ControllerMetrics()
  const lags = { values: [] as number[] }
  const durations = { values: [] as number[] }
  recordInto(metrics.tickLag, lags)
  recordInto(metrics.tickDuration, durations)
  let failedTicks = 0
  let lostLeases = 0
  const errors: string[] = []
  // Built here, as the controller would, to count its batches; without it each tick commits alone.
  const commits = (options.groupCommit ?? groupsCommitsByDefault(store.db.dialect)) ? new GroupCommit(store) : null
  const controller = new Controller({
    store,
    bus: ctx.bus,
    leases: ctx.leases,
    holder: `bench-controller-${index}`,
    targets: () => ctx.target,
    providers: () => ctx.providers,
    metrics,
    log: (line) => {
      // Every error line of the loop and the tick: "tick of rollout ... failed", "could not reconcile", "actuation failed", lost leases.
      failedTicks += line.includes('tick of rollout') ? 1 : 0
      lostLeases += line.includes('lost the lease') || line.includes('lost rollout') ? 1 : 0
      if (errors.length < KEPT_ERRORS) errors.push(line.slice(0, 300))
    },
    ...(options.concurrency !== null ? { maxConcurrency: options.concurrency } : {}),
    transaction: commits ? (fn) => commits.run(fn) : (fn) => store.transaction(fn),
  })

  const started = performance.now()
  await controller.start()
  const owned = controller.owned().length
  if (owned !== rollouts) log(`controller: step ${rollouts}: holds ${owned} of ${rollouts} rollouts after the first scan`)
  let firstRoundSeconds: number | null = null
  while (performance.now() - started < FIRST_ROUND_LIMIT_MS) {
    if (durations.values.length + failedTicks >= rollouts) {
      firstRoundSeconds = (performance.now() - started) / 1000
      break
    }
    await sleep(100)
  }
  log(`controller: step ${rollouts}: first round ${firstRoundSeconds === null ? `not done in ${FIRST_ROUND_LIMIT_MS / 1000} s` : `in ${firstRoundSeconds.toFixed(1)} s`}; settling one interval`)
  // One interval more: the second round's timers are set from the first round's ends.
  await sleep(options.intervalSeconds * 1000)

  const rowsBefore = await countRows(store)
  const loop = monitorEventLoopDelay({ resolution: 10 })
  lags.values = []
  durations.values = []
  failedTicks = 0
  ctx.leases.renewals = 0
  const queriesBefore = store.db.stats.queries
  const commitsBefore = commits?.stats ?? null
  const cpuBefore = process.cpuUsage()
  const loopBefore = performance.eventLoopUtilization()
  const databaseBefore = processCpuMicros(ctx.databasePid)
  const redisBefore = processCpuMicros(ctx.redisPid)
  const rssStart = process.memoryUsage.rss()
  const windowStart = performance.now()
  loop.enable()
  await sleep(options.seconds * 1000)
  loop.disable()
  const seconds = (performance.now() - windowStart) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const loopBusy = performance.eventLoopUtilization(loopBefore)
  const queries = store.db.stats.queries - queriesBefore
  const commitsAfter = commits?.stats ?? null
  const databaseAfter = processCpuMicros(ctx.databasePid)
  const redisAfter = processCpuMicros(ctx.redisPid)
  const rssEnd = process.memoryUsage.rss()
  const sample = {
    lags: lags.values,
    durations: durations.values,
    failedTicks,
    leaseRenewals: ctx.leases.renewals,
    lostLeases,
  }
  lags.values = []
  durations.values = []
  const rowsAfter = await countRows(store)

  await controller.stop()
  await ctx.leases.released()
  const summary = summarizeStep({
    rollouts,
    seconds: Math.round(seconds * 10) / 10,
    intervalSeconds: options.intervalSeconds,
    firstRoundSeconds,
    ...sample,
    cpuMicros: cpu.user + cpu.system,
    loopBusyMs: loopBusy.active,
    queries,
    commits: commitsBefore && commitsAfter ? commitsAfter.batches - commitsBefore.batches : null,
    commitRuns: commitsBefore && commitsAfter ? commitsAfter.runs - commitsBefore.runs : null,
    decisions: rowsAfter.decisions - rowsBefore.decisions,
    evidenceRows: rowsAfter.evidence - rowsBefore.evidence,
    eventLoopDelayP99Ns: loop.count > 0 ? loop.percentile(99) : null,
    eventLoopDelayMaxNs: loop.count > 0 ? loop.max : null,
    rssStart,
    rssEnd,
    databaseCpuMicros: databaseBefore === null || databaseAfter === null ? null : databaseAfter - databaseBefore,
    redisCpuMicros: redisBefore === null || redisAfter === null ? null : redisAfter - redisBefore,
  })
  log(
    `controller: step ${rollouts}: ${summary.ticks} ticks (${summary.tickRatio} of expected), lag p99 ${summary.tickLagMs.p99} ms, duration p99 ${summary.tickDurationMs.p99} ms, ${summary.cpuMsPerRolloutTick} ms CPU and ${summary.loopMsPerRolloutTick} ms of the loop per tick, ${summary.sustained ? 'sustained' : 'NOT sustained'}`,
  )
  return { ...summary, errors }
}

/** The whole ramp on one store: a fresh database, seeded step by step, dropped at the end. */
export async function benchStore(kind: BenchStore, options: ControllerBenchOptions, log: Log): Promise<StoreResult> {
  const leasesKind: BenchLeases = options.leases ?? (kind === 'sqlite' ? 'store' : 'redis')
  const database = await createDatabase(kind)
  const prefix = `sentra-bench-controller-${randomBytes(4).toString('hex')}:`
  let store: Store | null = null
  let bus: Bus | null = null
  let leases: CountingLeases | null = null
  const traffic = new SyntheticTraffic()
  try {
    store = await openStore(database.url)
    bus = leasesKind === 'redis' ? new RedisBus(REDIS_URL, { prefix }) : new MemoryBus()
    leases = new CountingLeases(leasesKind === 'redis' ? new RedisLeases(REDIS_URL, { prefix }) : new StoreLeases(store.leases))
    const target = new BenchTarget()
    traffic.start()
    const providers = new Map<string, TelemetryProvider>([['builtin', new BuiltinProvider(traffic.metricsFor, store.otlp)]])
    const ctx: StepContext = {
      store,
      bus,
      leases,
      target,
      providers,
      options,
      databasePid: kind === 'mysql' ? findProcess(['mariadbd', 'mysqld']) : null,
      redisPid: leasesKind === 'redis' ? findProcess(['redis-server']) : null,
      log,
    }
    const steps: StoreResult['steps'] = []
    let seeded = 0
    let seedSeconds = 0
    for (const [index, rollouts] of options.rollouts.entries()) {
      const seedStart = performance.now()
      for (const id of await seedActiveRollouts(store, seeded, rollouts, options.intervalSeconds)) target.seed(id, SEEDED_WEIGHT)
      seeded = rollouts
      seedSeconds += (performance.now() - seedStart) / 1000
      log(`controller: ${kind}: ${rollouts} active rollouts (seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s); ${leasesKind} leases, ${bus.kind} bus`)
      const step = await measureStep(ctx, rollouts, index)
      steps.push(step)
      // A larger ramp step cannot do better on the same machine: stop at the first miss.
      if (!step.sustained && !options.keepGoing) break
    }
    return { store: kind, leases: leasesKind, bus: bus.kind, steps, largestSustained: largestSustained(steps), seedSeconds: Math.round(seedSeconds * 10) / 10 }
  } finally {
    traffic.stop()
    await leases?.close().catch(() => undefined)
    await bus?.close().catch(() => undefined)
    if (leasesKind === 'redis') await deleteKeys(prefix).catch((error: unknown) => log(`controller: could not delete the Redis keys ${prefix}*: ${error instanceof Error ? error.message : String(error)}`))
    await store?.close().catch(() => undefined)
    await database.drop().catch((error: unknown) => log(`controller: could not drop the ${kind} database: ${error instanceof Error ? error.message : String(error)}`))
  }
}

export async function runControllerBench(
  options: ControllerBenchOptions,
  log: Log = (line) => process.stderr.write(`${line}\n`),
  { judgeRepeats = 5 }: { judgeRepeats?: number } = {},
): Promise<ControllerBenchSummary> {
  const started = performance.now()
  const machine = { cores: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100), node: process.version }
  const results: ControllerBenchSummary['results'] = []
  const largest: ControllerBenchSummary['largestSustained'] = {}
  for (const kind of options.stores) {
    try {
      const result = await benchStore(kind, options, log)
      results.push(result)
      largest[kind] = result.largestSustained
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      log(`controller: ${kind} skipped: ${reason}`)
      results.push({ store: kind, skipped: reason })
    }
  }
  log('controller: the sequential judges by analysis age')
  const judges = judgeMsPerTickByAge(options.intervalSeconds, judgeRepeats)
  return { benchmark: 'controller', settings: options, machine, results, largestSustained: largest, sequentialJudgeMsPerTickByIncrements: judges, elapsedSeconds: Math.round((performance.now() - started) / 100) / 10 }
}

/** bench/run.ts's entry point. */
export async function run(): Promise<object> {
  let options: ControllerBenchOptions
  try {
    options = readOptions(process.env)
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error
    process.stderr.write(`controller: ${error.message}\n`)
    process.exit(2)
  }
  return runControllerBench(options)
}
