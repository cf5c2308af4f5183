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
}

export class OptionsError extends Error {}

const MAX_SUBSCRIBERS = 20_000

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

/** `--subscribers 1000,5000 --baseline 1000 --seconds 20 --rate 5` (and BENCH_SECONDS / BENCH_RATE). */
export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FanoutBenchOptions {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const match = /^--(subscribers|baseline|seconds|rate)(?:=(.*))?$/.exec(arg)
    if (!match) throw new OptionsError(`unknown argument "${arg}" (use --subscribers, --baseline, --seconds, --rate)`)
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
  /** Server CPU (both processes) in the window, ms. */
  serverCpuMs: number | null
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
  /** Server CPU-seconds (window and drain) per second of window, both processes (2 = both cores busy): whether the servers were the limit. */
  serverCpuPerSecond: number | null
  rssPerSubscriberKiB: number | null
  errors: number
  closed: number
}

export function summarizeStep(o: StepObservation): StepSummary {
  const sorted = [...o.latenciesUs].sort((a, b) => a - b)
  const expected = o.published * o.subscribers
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
    serverCpuPerSecond: o.serverCpuMs === null || !(o.windowSeconds > 0) ? null : Math.round(o.serverCpuMs / o.windowSeconds / 10) / 100,
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
