/**
 * A small, seeded traffic simulator for the sequential judges' tests and measurements: a
 * PRNG, exact binomial and Poisson draws, and the windows the controller's loop would hand a
 * judge (overlapping, cumulative within a step, sliding after 60 s). Not used by the
 * controller; no Math.random anywhere, so every run is reproducible from its seed.
 */
import type { WindowSample } from '../telemetry/provider.ts'
import { type ErrorShareOptions, ErrorShareTest } from './stats/error-share.ts'

/** mulberry32: a 32-bit seeded PRNG, uniform in [0, 1). Good enough for simulation, tiny and fast. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Exact Binomial(n, p): waiting times between successes (geometric skips), O(n·p) expected. */
export function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0
  if (p >= 1) return n
  if (p > 0.5) return n - binomial(random, n, 1 - p)
  const logQ = Math.log1p(-p)
  let successes = 0
  let position = 0
  for (;;) {
    position += Math.floor(Math.log(1 - random()) / logQ) + 1
    if (position > n) return successes
    successes += 1
  }
}

/** Poisson(λ): exact (by products of uniforms) below 30, a rounded normal above (counts only need to be plausible). */
export function poisson(random: () => number, lambda: number): number {
  if (!(lambda > 0)) return 0
  if (lambda < 30) {
    const limit = Math.exp(-lambda)
    let k = 0
    let product = random()
    while (product > limit) {
      k += 1
      product *= random()
    }
    return k
  }
  const u1 = Math.max(random(), 1e-300)
  const u2 = random()
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z))
}

/** One second of one version: requests, errors and (optionally) latencies in seconds. */
export interface SimSecond {
  canaryRequests: number
  canaryErrors: number
  baselineRequests: number
  baselineErrors: number
  canaryLatencies?: number[]
  baselineLatencies?: number[]
}

export interface TrafficPlan {
  /** Total requests per second (both versions). */
  requestsPerSecond: number
  /** Canary weight (percent) at second t of the run. */
  weightAt: (t: number) => number
  /** Error probability of the baseline's requests at second t. */
  baselineErrorAt: (t: number) => number
  /** Error probability of the canary's requests at second t. */
  canaryErrorAt: (t: number) => number
  /** Latency samplers (seconds); omitted = no latencies recorded. */
  baselineLatency?: (random: () => number, t: number) => number
  canaryLatency?: (random: () => number, t: number) => number
}

/** Simulates `seconds` seconds of traffic, one bucket per second (as Sentra's proxy records). */
export function simulateSeconds(random: () => number, plan: TrafficPlan, seconds: number): SimSecond[] {
  const out: SimSecond[] = []
  for (let t = 0; t < seconds; t++) {
    const weight = Math.min(100, Math.max(0, plan.weightAt(t))) / 100
    const canaryRequests = poisson(random, plan.requestsPerSecond * weight)
    const baselineRequests = poisson(random, plan.requestsPerSecond * (1 - weight))
    const second: SimSecond = {
      canaryRequests,
      canaryErrors: binomial(random, canaryRequests, plan.canaryErrorAt(t)),
      baselineRequests,
      baselineErrors: binomial(random, baselineRequests, plan.baselineErrorAt(t)),
    }
    if (plan.canaryLatency && plan.baselineLatency) {
      second.canaryLatencies = Array.from({ length: canaryRequests }, () => plan.canaryLatency!(random, t))
      second.baselineLatencies = Array.from({ length: baselineRequests }, () => plan.baselineLatency!(random, t))
    }
    out.push(second)
  }
  return out
}

/** A lognormal latency sampler (seconds) with the given median and log-scale sigma. */
export function lognormal(median: number, sigma: number): (random: () => number) => number {
  return (random) => {
    const u1 = Math.max(random(), 1e-300)
    const u2 = random()
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
    return median * Math.exp(sigma * z)
  }
}

/**
 * The q-quantile the way Sentra's proxy reports it: 10 %-wide log buckets from 1 ms
 * (bucket 0 = [0, 1 ms), an overflow bucket from ~30 s), linear interpolation inside the
 * bucket holding rank q·n, clamped to the observed min and max.
 */
export function histogramQuantile(latencies: readonly number[], q: number): number | null {
  if (latencies.length === 0) return null
  const MIN_MS = 1
  const GROWTH = 1.1
  const BUCKETS = Math.ceil(Math.log(30_000 / MIN_MS) / Math.log(GROWTH)) + 2
  const lower = (i: number): number => (i === 0 ? 0 : MIN_MS * GROWTH ** (i - 1))
  const bucketOf = (ms: number): number =>
    ms >= MIN_MS ? Math.min(1 + Math.floor(Math.log(ms / MIN_MS) / Math.log(GROWTH)), BUCKETS - 1) : 0
  const counts = new Array<number>(BUCKETS).fill(0)
  let minMs = Infinity
  let maxMs = -Infinity
  for (const s of latencies) {
    const ms = s * 1000
    counts[bucketOf(ms)]! += 1
    minMs = Math.min(minMs, ms)
    maxMs = Math.max(maxMs, ms)
  }
  const rank = q * latencies.length
  let seen = 0
  for (let i = 0; i < BUCKETS; i++) {
    const count = counts[i]!
    if (count === 0) continue
    if (seen + count >= rank) {
      const lo = Math.max(lower(i), minMs)
      const hi = Math.min(i === BUCKETS - 1 ? maxMs : lower(i + 1), maxMs)
      const value = lo + ((rank - seen) / count) * (hi - lo)
      return Math.min(Math.max(value, minMs), maxMs) / 1000
    }
    seen += count
  }
  return maxMs / 1000
}

const EPOCH = Date.UTC(2025, 0, 1, 12, 0, 0)

/** A window over seconds [from, to) of a simulation, as the built-in provider would report it. */
export function windowOver(seconds: readonly SimSecond[], from: number, to: number, weight: number, epoch = EPOCH): WindowSample {
  let cr = 0
  let ce = 0
  let br = 0
  let be = 0
  const cl: number[] = []
  const bl: number[] = []
  for (let t = Math.max(0, from); t < Math.min(to, seconds.length); t++) {
    const s = seconds[t]!
    cr += s.canaryRequests
    ce += s.canaryErrors
    br += s.baselineRequests
    be += s.baselineErrors
    if (s.canaryLatencies) cl.push(...s.canaryLatencies)
    if (s.baselineLatencies) bl.push(...s.baselineLatencies)
  }
  const values = (requests: number, errors: number, latencies: number[]): Record<string, number | null> => ({
    requestRate: to > from ? requests / (to - from) : null,
    errorRate: requests > 0 ? errors / requests : null,
    latencyP50: histogramQuantile(latencies, 0.5),
    latencyP95: histogramQuantile(latencies, 0.95),
    latencyP99: histogramQuantile(latencies, 0.99),
  })
  return {
    provider: 'builtin',
    start: new Date(epoch + from * 1000),
    end: new Date(epoch + to * 1000),
    canaryWeight: weight,
    canary: { version: 'v2', requests: cr, errors: ce, values: values(cr, ce, cl) },
    baseline: { version: 'v1', requests: br, errors: be, values: values(br, be, bl) },
  }
}

/** A rollout's analysis steps: each starts at `start` (s) and runs `seconds` at `weight` %. */
export interface SimStep {
  start: number
  seconds: number
  weight: number
}

/**
 * The windows the controller's loop samples during the given analysis steps, one per tick
 * of `tickSeconds`: from the step's start, at most the last `maxWindowSeconds` (60 in
 * controller/evaluate.ts), so consecutive windows overlap. `disjoint: true` instead gives
 * each tick's own interval only (what the loop could pass; see sequential.ts).
 */
export function loopWindows(
  seconds: readonly SimSecond[],
  steps: readonly SimStep[],
  { tickSeconds = 5, maxWindowSeconds = 60, disjoint = false }: { tickSeconds?: number; maxWindowSeconds?: number; disjoint?: boolean } = {},
): WindowSample[] {
  const windows: WindowSample[] = []
  for (const step of steps) {
    let previous = step.start
    for (let now = step.start + tickSeconds; now <= step.start + step.seconds; now += tickSeconds) {
      const from = disjoint ? previous : Math.max(step.start, now - maxWindowSeconds)
      windows.push(windowOver(seconds, from, now, step.weight))
      previous = now
    }
  }
  return windows
}

/** A count scenario for the error-share test alone (no windows): what the judge sees interval by interval. */
export interface CountScenario {
  /** Total requests per second (both versions). */
  requestsPerSecond: number
  seconds: number
  /** Canary weight (percent) at second t. */
  weightAt: (t: number) => number
  baselineErrorAt: (t: number) => number
  canaryErrorAt: (t: number) => number
  /** Seconds per interval (the tick); traffic is drawn per interval, at its first second's weight and rates. Default 1. */
  every?: number
}

/**
 * Runs the error-share test interval by interval, as the judge does with disjoint windows.
 * Returns the canary requests seen when it first failed, or null when it never did.
 */
export function firstFailure(random: () => number, s: CountScenario, options: ErrorShareOptions): number | null {
  const test = new ErrorShareTest(options)
  const target = Math.log(1 / options.alpha)
  const every = s.every ?? 1
  for (let t = 0; t < s.seconds; t += every) {
    const w = Math.min(100, Math.max(0, s.weightAt(t))) / 100
    const c = poisson(random, s.requestsPerSecond * w * every)
    const b = poisson(random, s.requestsPerSecond * (1 - w) * every)
    test.add({ canaryRequests: c, canaryErrors: binomial(random, c, s.canaryErrorAt(t)), baselineRequests: b, baselineErrors: binomial(random, b, s.baselineErrorAt(t)) })
    if (test.logEFail() >= target) return test.summary().canaryRequests
  }
  return null
}
