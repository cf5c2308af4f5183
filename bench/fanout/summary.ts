/** Pure parts of the fan-out benchmark: its options, and the numbers of one measured step. */
import { latencyMs, type LatencySummary } from '../proxy/summary.ts'

export interface FanoutBenchOptions {
  /** Subscriber counts measured one after another (`--subscribers 1000,5000`). */
  subscribers: number[]
  /** The size the baseline (fan-out off) is measured at, or null for none (`--baseline 1000`, `--baseline 0`). */
  baseline: number | null
  /** Measured seconds per step (`--seconds`, BENCH_SECONDS). */
  seconds: number
  /** Events published per second (`--rate`, BENCH_RATE). */
  rate: number
  /** Subscriber processes the subscribers are spread over (`--processes`, BENCH_PROCESSES). */
  processes: number
}

export class OptionsError extends Error {}

const MAX_SUBSCRIBERS = 20_000
/** More subscriber processes than this only fight the servers for the cores. */
const MAX_PROCESSES = 16

function positiveList(name: string, raw: string): number[] {
  const parts = raw.split(',').map((part) => part.trim())
  const values = parts.map(Number)
  if (parts.some((part) => !/^\d+$/.test(part)) || values.some((v) => v < 1 || v > MAX_SUBSCRIBERS)) {
    throw new OptionsError(`${name}: "${raw}" must be whole numbers from 1 to ${MAX_SUBSCRIBERS}, comma-separated`)
  }
  return values
}

function number(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || value > max) throw new OptionsError(`${name}: "${raw}" must be a number from ${min} to ${max}`)
  return value
}

function whole(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) throw new OptionsError(`${name}: "${raw}" must be a whole number from ${min} to ${max}`)
  return Number(raw)
}

/** `--subscribers 1000,5000 --baseline 1000 --seconds 20 --rate 5 --processes 2` (and BENCH_SECONDS / BENCH_RATE / BENCH_PROCESSES). */
export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FanoutBenchOptions {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const match = /^--(subscribers|baseline|seconds|rate|processes)(?:=(.*))?$/.exec(arg)
    if (!match) throw new OptionsError(`unknown argument "${arg}" (use --subscribers, --baseline, --seconds, --rate, --processes)`)
    const value = match[2] ?? argv[++i]
    if (value === undefined) throw new OptionsError(`--${match[1]} needs a value`)
    flags.set(match[1]!, value)
  }
  const subscribers = positiveList('--subscribers', flags.get('subscribers') ?? '1000,5000')
  const rawBaseline = flags.get('baseline') ?? String(Math.min(1000, ...subscribers))
  const baseline = rawBaseline === '0' ? null : positiveList('--baseline', rawBaseline)[0]!
  return {
    subscribers,
    baseline,
    seconds: number('--seconds', flags.get('seconds') ?? env.BENCH_SECONDS ?? '20', 1, 3600),
    rate: number('--rate', flags.get('rate') ?? env.BENCH_RATE ?? '5', 0.1, 1000),
    processes: whole('--processes', flags.get('processes') ?? env.BENCH_PROCESSES ?? '2', 1, MAX_PROCESSES),
  }
}

/** What one step observed. */
export interface StepObservation {
  subscribers: number
  /** Events published in the measured window. */
  published: number
  /** The window's length in seconds (the publish rate actually reached is published / this). */
  windowSeconds: number
  /** Per published event (in the window): receipt minus publish, in microseconds, one per delivery. */
  latenciesUs: number[]
  /** Deliveries of the window's events. */
  received: number
  /** Largest number of window events any one subscriber had not yet received when the last one was published. */
  maxBehindAtLastPublish: number
  /** From the last publish until every subscriber had it (null: some never did). */
  drainMs: number | null
  /** Seconds between the CPU readings: the window plus the wait for the last event (up to the drain limit). */
  cpuSeconds: number
  /** Server CPU (both processes) over cpuSeconds, ms. */
  serverCpuMs: number | null
  /** CPU of each subscriber process over the same span, ms (one per process; null: unreadable). */
  subscriberCpuMs: (number | null)[]
  /** CPU of the main process (publisher and orchestration) over the same span, ms. */
  mainCpuMs: number
  /** Busy CPU of the whole machine (all cores) over the same span, ms. */
  machineBusyMs: number | null
  /** Bound on the subscriber processes' clock error against the main process (calibration: half the best ping round trip), ms. */
  clockErrorMs: number
  /** Server RSS (both processes) before the subscribers connected and with them connected, bytes. */
  rssBeforeBytes: number | null
  rssWithBytes: number | null
  /** Operation errors and closed sockets seen by subscribers. */
  errors: number
  closed: number
}

export interface StepSummary {
  subscribers: number
  published: number
  /** Below the asked rate when the publisher itself was starved of CPU. */
  publishedPerSecond: number
  /** Not every subscriber had the last event within the drain limit: the servers fell behind. */
  saturated: boolean
  deliveries: number
  lost: number
  latencyMs: LatencySummary
  maxBehindAtLastPublish: number
  drainMs: number | null
  cpuMicrosPerDelivery: number | null
  /** Server CPU-seconds per second (window and drain), both processes (2 = both cores busy): whether the servers were the limit. */
  serverCpuPerSecond: number | null
  /** Subscriber processes, and their CPU-seconds per second, same span (all of them; the busiest one, where 1 = a whole core, so it was the limit). */
  subscriberProcesses: number
  subscriberCpuPerSecond: number | null
  busiestSubscriberProcessCpuPerSecond: number | null
  /** The main process's (publisher's) CPU-seconds per second, same span. */
  mainCpuPerSecond: number | null
  /**
   * The whole machine's busy CPU-seconds per second (at most its core count), and what of it
   * was neither the servers, the subscriber processes nor the main process (MySQL, Redis and
   * anything else running): near the core count, the machine was the limit.
   */
  machineCpuPerSecond: number | null
  restOfMachineCpuPerSecond: number | null
  /** Receipt times from the subscriber processes are right to within this, ms. */
  clockErrorMs: number
  rssPerSubscriberKiB: number | null
  errors: number
  closed: number
}

/** CPU ms over `seconds` → CPU-seconds per second, 2 decimals. */
function perSecond(cpuMs: number | null, seconds: number): number | null {
  return cpuMs === null || !(seconds > 0) ? null : Math.round(cpuMs / seconds / 10) / 100
}

export function summarizeStep(o: StepObservation): StepSummary {
  const sorted = [...o.latenciesUs].sort((a, b) => a - b)
  const expected = o.published * o.subscribers
  const readable = o.subscriberCpuMs.every((ms) => ms !== null) ? (o.subscriberCpuMs as number[]) : null
  return {
    subscribers: o.subscribers,
    published: o.published,
    publishedPerSecond: o.windowSeconds > 0 ? Math.round((o.published / o.windowSeconds) * 100) / 100 : 0,
    saturated: o.drainMs === null,
    deliveries: o.received,
    lost: Math.max(0, expected - o.received),
    latencyMs: latencyMs(sorted),
    maxBehindAtLastPublish: o.maxBehindAtLastPublish,
    drainMs: o.drainMs,
    cpuMicrosPerDelivery: o.serverCpuMs === null || o.received === 0 ? null : Math.round((o.serverCpuMs * 10_000) / o.received) / 10,
    serverCpuPerSecond: perSecond(o.serverCpuMs, o.cpuSeconds),
    subscriberProcesses: o.subscriberCpuMs.length,
    subscriberCpuPerSecond: perSecond(readable ? readable.reduce((a, b) => a + b, 0) : null, o.cpuSeconds),
    busiestSubscriberProcessCpuPerSecond: perSecond(readable && readable.length > 0 ? Math.max(...readable) : null, o.cpuSeconds),
    mainCpuPerSecond: perSecond(o.mainCpuMs, o.cpuSeconds),
    machineCpuPerSecond: perSecond(o.machineBusyMs, o.cpuSeconds),
    restOfMachineCpuPerSecond: perSecond(
      o.machineBusyMs === null || o.serverCpuMs === null || !readable ? null : Math.max(0, o.machineBusyMs - o.serverCpuMs - readable.reduce((a, b) => a + b, 0) - o.mainCpuMs),
      o.cpuSeconds,
    ),
    clockErrorMs: Math.round(o.clockErrorMs * 1000) / 1000,
    rssPerSubscriberKiB:
      o.rssBeforeBytes === null || o.rssWithBytes === null ? null : Math.round(((o.rssWithBytes - o.rssBeforeBytes) / o.subscribers / 1024) * 10) / 10,
    errors: o.errors,
    closed: o.closed,
  }
}

/** baseline ÷ fan-out, 2 decimals; null when either is missing or the fan-out value is 0. */
export function ratio(baseline: number | null | undefined, fanout: number | null | undefined): number | null {
  if (baseline === null || baseline === undefined || fanout === null || fanout === undefined || fanout === 0) return null
  return Math.round((baseline / fanout) * 100) / 100
}

/** The targets: p99 <= 100 ms at 5,000 subscribers; 10,000 held without falling behind. */
export function verdicts(steps: readonly StepSummary[]): { p99AtMost100msAt5000: boolean | null; holds10000: boolean | null } {
  const at = (n: number) => steps.find((s) => s.subscribers === n)
  const s5 = at(5000)
  const s10 = at(10_000)
  return {
    p99AtMost100msAt5000: s5?.latencyMs.p99 == null ? null : s5.latencyMs.p99 <= 100 && s5.lost === 0,
    holds10000: s10 === undefined ? null : s10.lost === 0 && s10.drainMs !== null && s10.maxBehindAtLastPublish <= 1,
  }
}
