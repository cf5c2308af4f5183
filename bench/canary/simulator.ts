/**
 * The seeded traffic simulator: one stream of requests per run, second by second, shared by
 * every rule so that all rules are judged on the same requests.
 *
 * Per second t:
 * - arrivals: Poisson(λ(t)), or negative binomial (gamma–Poisson, shape `overdispersion`)
 *   for bursty traffic, with λ(t) = requestsPerSecond × load(t) and the shared load curve
 *   load(t) = 1 + amplitude·sin(2πt/period + φ), φ drawn per run;
 * - per request, drawn once and reused by every rule (common random numbers): a routing
 *   uniform (canary when below the rule's weight: Poisson thinning, so each version's arrivals
 *   are Poisson scaled by the weight), an error uniform (an error when below the version's
 *   error probability at t: Bernoulli, so binomial per window), a standard normal for the
 *   lognormal latency, a tail uniform (the p99-only fault) and an endpoint uniform;
 * - shared error bursts (both versions fail more for a few seconds: a flaky dependency);
 * - whether the telemetry is missing at the end of the second (random missing scrapes and
 *   outages): a query then fails with "no data".
 *
 * The rules' own telemetry is Sentra's proxy's RED metrics (controller/proxy/red-metrics.ts:
 * one-second buckets, 10 % log latency buckets), fed one request at a time, so p50/p95/p99
 * per window come from the same histograms the real proxy keeps.
 */
import { RedMetrics } from '../../controller/proxy/red-metrics.ts'
import { type Random, negativeBinomial, normal, poisson } from './random.ts'
import type { Scenario, VersionParams } from './scenarios.ts'

export const CANARY_VERSION = 'v2'
export const BASELINE_VERSION = 'v1'
/** Simulated time 0 (ms since the epoch); any fixed instant will do. */
export const EPOCH_MS = Date.UTC(2026, 0, 1, 12, 0, 0)

/** One simulated second of requests; arrays are indexed by request. */
export interface SimSecond {
  second: number
  count: number
  route: Float64Array
  error: Float64Array
  latencyZ: Float64Array
  tail: Float64Array
  endpoint: Float64Array
  /** Shared error multiplier this second (1 outside bursts). */
  burst: number
  /** The telemetry cannot be read at the end of this second. */
  telemetryMissing: boolean
}

/** How far the fault has developed at second t: 0 before the onset, 1 at full strength. */
export function faultIntensity(scenario: Scenario, t: number): number {
  const fault = scenario.fault
  if (fault === null || t < fault.onsetSeconds) return 0
  if (fault.shape === 'step') return 1
  return Math.min(1, (t - fault.onsetSeconds + 1) / (fault.rampSeconds ?? 1))
}

/** The endpoint a request's uniform falls in (index into scenario.endpoints), or -1 for the rest. */
export function endpointOf(scenario: Scenario, u: number): number {
  let edge = 0
  for (let i = 0; i < scenario.endpoints.length; i++) {
    edge += scenario.endpoints[i]!.share
    if (u < edge) return i
  }
  return -1
}

/** What the fault does to one canary request at second t (multipliers are 1 when untouched). */
export interface FaultEffect {
  touched: boolean
  errorMultiplier: number
  latencyMultiplier: number
  tailShare: number
  tailMultiplier: number
}

const NO_EFFECT: FaultEffect = { touched: false, errorMultiplier: 1, latencyMultiplier: 1, tailShare: 0, tailMultiplier: 1 }

export function faultEffect(scenario: Scenario, t: number, endpoint: number): FaultEffect {
  const fault = scenario.fault
  const f = faultIntensity(scenario, t)
  if (fault === null || f === 0) return NO_EFFECT
  if (fault.endpoint !== undefined && scenario.endpoints[endpoint]?.name !== fault.endpoint) return NO_EFFECT
  const grow = (m: number | undefined): number => 1 + ((m ?? 1) - 1) * f
  return {
    touched: true,
    errorMultiplier: grow(fault.errorMultiplier),
    latencyMultiplier: grow(fault.latencyMultiplier),
    tailShare: (fault.tail?.share ?? 0) * f,
    tailMultiplier: fault.tail?.multiplier ?? 1,
  }
}

/** The request stream of one run. `next()` yields seconds 0, 1, 2, … */
export class TrafficStream {
  readonly #scenario: Scenario
  readonly #random: Random
  readonly #phase: number
  #second = 0
  #burstLeft = 0

  constructor(scenario: Scenario, random: Random) {
    this.#scenario = scenario
    this.#random = random
    this.#phase = 2 * Math.PI * random()
  }

  /** Mean arrivals per second at t (the load curve, before overdispersion). */
  meanRate(t: number): number {
    const { requestsPerSecond, load } = this.#scenario.traffic
    if (!load || load.amplitude === 0) return requestsPerSecond
    return requestsPerSecond * (1 + load.amplitude * Math.sin((2 * Math.PI * t) / load.periodSeconds + this.#phase))
  }

  next(): SimSecond {
    const s = this.#scenario
    const random = this.#random
    const t = this.#second++
    const k = s.traffic.overdispersion ?? null
    const mean = this.meanRate(t)
    const count = k === null ? poisson(random, mean) : negativeBinomial(random, mean, k)

    let burst = 1
    if (s.errorBursts) {
      if (this.#burstLeft === 0 && random() < 1 / s.errorBursts.meanGapSeconds) this.#burstLeft = s.errorBursts.seconds
      if (this.#burstLeft > 0) {
        burst = s.errorBursts.multiplier
        this.#burstLeft--
      }
    }
    const gaps = s.dataGaps
    const missing = gaps !== undefined && ((gaps.outages ?? []).some((o) => t >= o.fromSeconds && t < o.fromSeconds + o.seconds) || random() < gaps.missingProbability)

    const second: SimSecond = {
      second: t,
      count,
      route: new Float64Array(count),
      error: new Float64Array(count),
      latencyZ: new Float64Array(count),
      tail: new Float64Array(count),
      endpoint: new Float64Array(count),
      burst,
      telemetryMissing: missing,
    }
    for (let i = 0; i < count; i++) {
      second.route[i] = random()
      second.error[i] = random()
      second.latencyZ[i] = normal(random)
      second.tail[i] = random()
      second.endpoint[i] = random()
    }
    return second
  }
}

/** What the canary served from the fault's onset: the requests it touched, for "bad requests before rollback". */
export interface ServedTally {
  canaryRequests: number
  canaryErrors: number
  /** Canary requests after the onset that failed or that the fault touched (slowed). */
  badRequests: number
}

export function emptyTally(): ServedTally {
  return { canaryRequests: 0, canaryErrors: 0, badRequests: 0 }
}

function latencyMs(v: VersionParams, z: number): number {
  return v.latencyMedianMs * Math.exp(v.latencySigma * z)
}

/**
 * Routes one second's requests at `weight` % to the canary and records them, as Sentra's
 * proxy would, in `metrics`. Returns nothing; counts the canary's bad requests in `tally`.
 */
export function serveSecond(scenario: Scenario, second: SimSecond, weight: number, metrics: RedMetrics, tally: ServedTally): void {
  const share = weight / 100
  const atMs = EPOCH_MS + second.second * 1000 + 500
  const t = second.second
  const afterOnset = scenario.fault !== null && t >= scenario.fault.onsetSeconds
  for (let i = 0; i < second.count; i++) {
    const canary = second.route[i]! < share
    if (canary) {
      const effect = faultEffect(scenario, t, endpointOf(scenario, second.endpoint[i]!))
      const p = Math.min(1, scenario.canary.errorRate * second.burst * effect.errorMultiplier)
      const failed = second.error[i]! < p
      let ms = latencyMs(scenario.canary, second.latencyZ[i]!) * effect.latencyMultiplier
      const tailHit = second.tail[i]! < effect.tailShare
      if (tailHit) ms *= effect.tailMultiplier
      metrics.record(CANARY_VERSION, failed ? { status: 500 } : { status: 200 }, ms, atMs)
      tally.canaryRequests++
      if (failed) tally.canaryErrors++
      if (afterOnset && (failed || (effect.touched && (effect.latencyMultiplier > 1 || tailHit)))) tally.badRequests++
    } else {
      const p = Math.min(1, scenario.baseline.errorRate * second.burst)
      const failed = second.error[i]! < p
      metrics.record(BASELINE_VERSION, failed ? { status: 500 } : { status: 200 }, latencyMs(scenario.baseline, second.latencyZ[i]!), atMs)
    }
  }
}

/** A fresh proxy metrics store for one rule's run (15 minutes of one-second buckets, as the proxy keeps by default). */
export function newMetrics(): RedMetrics {
  return new RedMetrics()
}

