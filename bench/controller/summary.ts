/**
 * The pure parts of the controller benchmark: its settings from the environment, percentiles,
 * one ramp step's numbers from its raw samples, and the largest sustained rollout count.
 */

export type BenchStore = 'sqlite' | 'mysql'
export type BenchLeases = 'store' | 'redis'

export interface ControllerBenchOptions {
  /** The ramp: rollout counts, ascending (BENCH_ROLLOUTS, default 100,1000,3000,10000). */
  rollouts: number[]
  /** Measured seconds per step, after the warm-up (BENCH_SECONDS, default 30). */
  seconds: number
  /** Stores to run on, in order (BENCH_STORES, default sqlite,mysql). */
  stores: BenchStore[]
  /** The Controller's maxConcurrency (BENCH_CONCURRENCY); null: the controller's own default, as `npm run controller` runs. */
  concurrency: number | null
  /** Lease manager per store (BENCH_LEASES); null: store leases on SQLite (embedded mode), Redis on MySQL (`npm run controller`). */
  leases: BenchLeases | null
  /** The tick interval of every seeded application, in seconds (BENCH_INTERVAL, default 5). */
  intervalSeconds: number
  /** Measure every step even after one was not sustained (BENCH_KEEP_GOING=1); by default the ramp stops there. */
  keepGoing: boolean
  /**
   * Ticks due together share a transaction (BENCH_GROUP_COMMIT=1) or each commits alone (0);
   * null (unset): as the controller decides, grouped on SQLite only (groupsCommitsByDefault).
   */
  groupCommit: boolean | null
}

export class OptionsError extends Error {
  override readonly name = 'OptionsError'
}

const MAX_ROLLOUTS = 1_000_000
const MAX_SECONDS = 3_600

function positiveInteger(name: string, text: string, max: number): number {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) throw new OptionsError(`${name}: "${text.slice(0, 40)}" is not a positive whole number`)
  const value = Number(trimmed)
  if (value < 1 || value > max) throw new OptionsError(`${name}: ${value} is outside 1..${max}`)
  return value
}

/** Reads the BENCH_* settings; a malformed one is an OptionsError naming it. */
export function readOptions(env: Record<string, string | undefined>): ControllerBenchOptions {
  const rolloutsText = env.BENCH_ROLLOUTS ?? '100,1000,3000,10000'
  const parts = rolloutsText.split(',').filter((p) => p.trim() !== '')
  if (parts.length === 0 || parts.length > 20) throw new OptionsError(`BENCH_ROLLOUTS: give 1 to 20 comma-separated counts, got "${rolloutsText.slice(0, 40)}"`)
  const rollouts = [...new Set(parts.map((p) => positiveInteger('BENCH_ROLLOUTS', p, MAX_ROLLOUTS)))].sort((a, b) => a - b)
  const stores = (env.BENCH_STORES ?? 'sqlite,mysql').split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (stores.length === 0) throw new OptionsError('BENCH_STORES: give sqlite, mysql or both')
  for (const s of stores) if (s !== 'sqlite' && s !== 'mysql') throw new OptionsError(`BENCH_STORES: unknown store "${s.slice(0, 40)}" (sqlite, mysql)`)
  const groupCommit = env.BENCH_GROUP_COMMIT
  if (groupCommit !== undefined && groupCommit !== '0' && groupCommit !== '1') throw new OptionsError(`BENCH_GROUP_COMMIT: "${groupCommit.slice(0, 40)}" is neither 0 nor 1`)
  const leases = env.BENCH_LEASES === undefined || env.BENCH_LEASES === '' ? null : env.BENCH_LEASES
  if (leases !== null && leases !== 'store' && leases !== 'redis') throw new OptionsError(`BENCH_LEASES: "${leases.slice(0, 40)}" is neither store nor redis`)
  return {
    rollouts,
    seconds: positiveInteger('BENCH_SECONDS', env.BENCH_SECONDS ?? '30', MAX_SECONDS),
    stores: [...new Set(stores as BenchStore[])],
    concurrency: env.BENCH_CONCURRENCY === undefined || env.BENCH_CONCURRENCY === '' ? null : positiveInteger('BENCH_CONCURRENCY', env.BENCH_CONCURRENCY, 10_000),
    leases,
    intervalSeconds: positiveInteger('BENCH_INTERVAL', env.BENCH_INTERVAL ?? '5', 3_600),
    keepGoing: env.BENCH_KEEP_GOING === '1',
    groupCommit: groupCommit === undefined ? null : groupCommit === '1',
  }
}

/** The q-quantile (0..1) of an ascending sample, by linear interpolation; null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  const a = sorted[low]!
  const b = sorted[high]!
  return a + (b - a) * (position - low)
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits))
const ms = (seconds: number | null): number | null => (seconds === null ? null : round(seconds * 1000, 1))

/** What one measured window of one ramp step recorded. */
export interface StepSamples {
  rollouts: number
  /** Length of the measured window, in seconds. */
  seconds: number
  intervalSeconds: number
  /** Seconds from the controller's start until every rollout had ticked once (null: not within the warm-up limit). */
  firstRoundSeconds: number | null
  /** Tick lags and durations in the window, in seconds (the controller's own tickLag/tickDuration observations). */
  lags: number[]
  durations: number[]
  /** Ticks that threw (logged by the controller and retried a second later). */
  failedTicks: number
  /** Lease renewals in the window: each scan renews every held rollout once. */
  leaseRenewals: number
  /** Rollouts this controller let go of because a renewal failed ("lost the lease"), from its start to the window's end. */
  lostLeases: number
  /** process.cpuUsage() delta over the window, in microseconds (user + system). */
  cpuMicros: number
  /**
   * Time the event loop was busy over the window (performance.eventLoopUtilization's
   * `active`), in milliseconds: CPU plus the time blocked in synchronous system calls (a
   * SQLite commit's fsync), and not the CPU of other threads.
   */
  loopBusyMs: number
  /** SQL statements the store sent in the window (store.db.stats.queries). */
  queries: number
  /** Transactions the ticks' writes were committed in over the window (with group commit: its batches; without: null). */
  commits: number | null
  /** The writes committed in them (a tick that changed nothing writes none; one whose weight changed, two). */
  commitRuns: number | null
  decisions: number
  /** Rows added to gate_results and telemetry_windows in the window. */
  evidenceRows: number
  /**
   * perf_hooks event-loop delay p99 and max over the window, in nanoseconds; null when its
   * timer never fired in the window (the loop never got back to libuv: see docs/benchmarks.md).
   */
  eventLoopDelayP99Ns: number | null
  eventLoopDelayMaxNs: number | null
  /** Resident set size at the window's start and end, in bytes. */
  rssStart: number
  rssEnd: number
  /** CPU of the database and Redis server processes over the window, in microseconds; null when not measured. */
  databaseCpuMicros: number | null
  redisCpuMicros: number | null
}

export interface StepSummary {
  rollouts: number
  seconds: number
  firstRoundSeconds: number | null
  ticks: number
  /** Ticks the window should hold if every rollout ticked on time: rollouts × seconds / interval. */
  expectedTicks: number
  /** ticks / expectedTicks: below 1, rollouts tick less often than their interval. */
  tickRatio: number
  failedTicks: number
  /** Leases the controller lost from its start to the window's end: its own scan did not renew them within the TTL. */
  lostLeases: number
  /** Seconds per scan (list active rollouts, renew every lease, take new ones), from the renewal rate; the loop scans again 1 s after one ends. */
  scanCycleSeconds: number | null
  tickLagMs: { p50: number | null; p99: number | null; max: number | null }
  tickDurationMs: { p50: number | null; p99: number | null; max: number | null }
  /** Controller-process CPU per tick (traffic generator and, on SQLite, the database included), in ms. */
  cpuMsPerRolloutTick: number | null
  /** Controller-process CPU as a share of one core over the window. */
  cpuCores: number
  /**
   * interval / cpuMsPerRolloutTick: the rollouts one core would tick on time at this cost. The
   * loop runs on one thread, so this is one controller's ceiling, whatever the machine's load.
   */
  projectedRolloutsPerCore: number | null
  /** Event-loop busy time per tick, in ms: what one tick takes of the loop, which is one thread. */
  loopMsPerRolloutTick: number | null
  /**
   * interval / loopMsPerRolloutTick: the rollouts one controller's loop would tick on time at
   * this cost. Unlike the CPU projection it counts the time the loop waits in a synchronous
   * system call and leaves out what other threads do.
   */
  projectedRolloutsPerLoop: number | null
  databaseCpuMsPerRolloutTick: number | null
  redisCpuMsPerRolloutTick: number | null
  sqlPerRolloutTick: number | null
  /** Tick writes per transaction (group commit's mean batch); null without group commit. */
  writesPerCommit: number | null
  decisionsWritten: number
  evidenceRowsWritten: number
  /** null: the event loop did not get round to its timers once in the window. */
  eventLoopDelayMs: { p99: number; max: number } | null
  rssMb: { start: number; end: number }
  /** The criterion: tick lag p99 under 1 s. */
  sustained: boolean
}

export const LAG_LIMIT_SECONDS = 1

function spread(values: readonly number[]): { p50: number | null; p99: number | null; max: number | null } {
  const sorted = [...values].sort((a, b) => a - b)
  return { p50: ms(quantile(sorted, 0.5)), p99: ms(quantile(sorted, 0.99)), max: ms(quantile(sorted, 1)) }
}

/** One ramp step's numbers from its samples. No ticks at all is not sustained. */
export function summarizeStep(s: StepSamples): StepSummary {
  const ticks = s.durations.length
  const expectedTicks = Math.round((s.rollouts * s.seconds) / s.intervalSeconds)
  const perTick = (micros: number | null): number | null => (micros === null || ticks === 0 ? null : round(micros / 1000 / ticks, 3))
  const sortedLags = [...s.lags].sort((a, b) => a - b)
  const lagP99 = quantile(sortedLags, 0.99)
  return {
    rollouts: s.rollouts,
    seconds: s.seconds,
    firstRoundSeconds: s.firstRoundSeconds === null ? null : round(s.firstRoundSeconds, 1),
    ticks,
    expectedTicks,
    tickRatio: expectedTicks > 0 ? round(ticks / expectedTicks, 3) : 0,
    failedTicks: s.failedTicks,
    lostLeases: s.lostLeases,
    scanCycleSeconds: s.leaseRenewals > 0 ? round((s.rollouts * s.seconds) / s.leaseRenewals, 2) : null,
    tickLagMs: spread(s.lags),
    tickDurationMs: spread(s.durations),
    cpuMsPerRolloutTick: perTick(s.cpuMicros),
    cpuCores: s.seconds > 0 ? round(s.cpuMicros / 1e6 / s.seconds, 2) : 0,
    projectedRolloutsPerCore: ticks === 0 || s.cpuMicros <= 0 ? null : Math.round((s.intervalSeconds * 1e6 * ticks) / s.cpuMicros),
    loopMsPerRolloutTick: perTick(s.loopBusyMs * 1000),
    projectedRolloutsPerLoop: ticks === 0 || s.loopBusyMs <= 0 ? null : Math.round((s.intervalSeconds * 1000 * ticks) / s.loopBusyMs),
    databaseCpuMsPerRolloutTick: perTick(s.databaseCpuMicros),
    redisCpuMsPerRolloutTick: perTick(s.redisCpuMicros),
    sqlPerRolloutTick: ticks === 0 ? null : round(s.queries / ticks, 2),
    writesPerCommit: s.commits === null || s.commitRuns === null || s.commits === 0 ? null : round(s.commitRuns / s.commits, 2),
    decisionsWritten: s.decisions,
    evidenceRowsWritten: s.evidenceRows,
    eventLoopDelayMs:
      s.eventLoopDelayP99Ns === null || s.eventLoopDelayMaxNs === null ? null : { p99: round(s.eventLoopDelayP99Ns / 1e6, 1), max: round(s.eventLoopDelayMaxNs / 1e6, 1) },
    rssMb: { start: Math.round(s.rssStart / 2 ** 20), end: Math.round(s.rssEnd / 2 ** 20) },
    sustained: ticks > 0 && lagP99 !== null && lagP99 < LAG_LIMIT_SECONDS,
  }
}

/**
 * The largest rollout count whose step was sustained, provided every smaller step was too
 * (a ramp that recovers at a larger N after failing at a smaller one is noise, not capacity);
 * null when even the first step was not.
 */
export function largestSustained(steps: readonly Pick<StepSummary, 'rollouts' | 'sustained'>[]): number | null {
  let largest: number | null = null
  for (const step of [...steps].sort((a, b) => a.rollouts - b.rollouts)) {
    if (!step.sustained) break
    largest = step.rollouts
  }
  return largest
}
