/**
 * The sequential judge: anytime-valid, one-sided tests of canary against baseline that may
 * be evaluated at every tick without inflating false alarms.
 *
 * Error counts (`errorRate`, `traceErrorRate`/`logErrorRatio` given counts, and Tempo gates,
 * whose provider reports each gate's matching and total traces as `<gate>.errors` and
 * `<gate>.total`): the test
 * of the canary's share of errors given the traffic split (stats/error-share.ts). Each
 * interval contributes the likelihood ratio of "the canary fails θ times as often" for a grid
 * of multipliers θ (uniform mixture, ×1.5 … ×25), with p0 = the canary's share of that
 * interval's requests, so weight changes between steps are handled exactly.
 * - FAIL when the e-value reaches 1/alpha (and, with the floor, when the canary's own error
 *   rate is also shown above it: 0.1 % by default, as the relative judge's ratio floor).
 *   Under a healthy canary the probability of EVER failing is at most alpha (Ville).
 * - PASS only on positive evidence of non-inferiority, two routes at alpha/2 each: the
 *   canary's error rate is shown at most the baseline's + the spec's `margin` in percentage
 *   points (0.5 pp by default; stats/rate-margin.ts), or the anytime-valid upper bound on the
 *   canary / baseline error-rate ratio is below ×1.5 (or the canary's rate is shown below the
 *   floor); never while more than half of the canary's requests fail. A PASS also reports
 *   its headroom (how much of the margin the estimate leaves unused) for adaptive steps.
 * - INCONCLUSIVE otherwise: "collecting evidence: e-value 3.2 of 100 needed; …".
 *
 * Latency (`latencyP50`/`P95`/`P99` of the built-in proxy): FAIL from the proxy's histograms
 * when the windows carry them (stats/latency-tail.ts: requests above the baseline's quantiles,
 * averaged with stats/latency-shift.ts: a shift of the slower half). Without histograms, and
 * for PASS, the windows carry only three
 * quantiles per version, so the test counts instead what the quantiles imply about requests
 * ("at least half of the canary's requests were slower than the baseline's p95"), with an
 * exact distribution-free null, on disjoint windows only (stats/latency-exceedance.ts).
 * It catches clear slowdowns (more than one 10 % histogram bucket between the compared
 * quantiles); for small latency margins use the relative judge.
 *
 * History. The controller (controller/evaluate.ts) keeps a running analysis per gate
 * ({@link startSequential}, a JudgeRun) and adds each tick's own interval to it: on whole
 * seconds, disjoint from all others, so every tick's requests are used once and the e-values
 * are running products over new data only. A run keeps running sums, never the windows, so
 * a tick costs the same at any age of the analysis. `judge(history)` is a run fed the whole
 * history. Given overlapping windows (other callers), stats/increments.ts cuts them into
 * disjoint intervals (differences of growing windows, then whole windows that start after
 * the last one used), so no request is ever counted twice. Evidence accumulates over the
 * whole rollout, across steps and weights (valid: p0 is per interval), so the false-alarm
 * bound alpha holds per rollout, not per step. The math: docs/sequential.md.
 *
 * Pure: no I/O, no clock, no randomness. Cost per window added: O(grid); per verdict: O(grid),
 * plus O(bins) for the error ratio's estimate and bound when an interval with errors came.
 */
import type { GateSpec, SequentialJudgeSpec } from '../../schema/spec.ts'
import type { BuiltinSignal } from '../../schema/spec/signals.ts'
import type { Json } from '../../schema/store/models.ts'
import type { VersionWindow, WindowSample } from '../telemetry/provider.ts'
import { formatRatio, formatValue, formatWindowSeconds, labelOf, valueKey } from './format.ts'
import type { GateVerdict, Judge, JudgeRun } from './judge.ts'
import { type Thresholds, evidenceOf, finite } from './reading.ts'
import { RATIO_FLOORS } from './relative.ts'
import { type CountIncrement, DEFAULT_FAIL_RATIOS, DEFAULT_PASS_RATIOS, ErrorShareTest } from './stats/error-share.ts'
import { DisjointCutter, IncrementCutter, IncrementPooler, type TimedIncrement } from './stats/increments.ts'
import { rateMargin } from './stats/rate-margin.ts'
import type { ShiftSummary } from './stats/latency-shift.ts'
import { LatencyTailTest, type ThresholdSummary, validBuckets } from './stats/latency-tail.ts'
import { type LatencyQuantile, PairedBets, type QuantileWindow, failPairs, notSlowerLogE, passPairs, slowerLogE } from './stats/latency-exceedance.ts'

const KIND = 'sequential'

/** Error counts are tested per pool of at least this many requests (stats/increments.ts poolIncrements). */
const POOL_REQUESTS = 10

/** Defaults of what the spec does not say: the non-inferiority margins and the error floor. */
export const SEQUENTIAL_DEFAULTS = {
  /** Latency: PASS needs the canary shown less than this factor slower than the baseline. */
  margin: 1.5,
  /** Error counts: PASS needs the canary's error-rate ratio shown below this factor (the spec's `maxRatio`). */
  errorRatio: 2,
  /**
   * PASS also needs the canary's error rate shown at most the baseline's + this (1 percentage
   * point): the ratio binds at low error rates (×2 of 0.5 % is +0.5 pp), the points at high ones.
   */
  rateMargin: 0.01,
  /** Absolute floor on the canary's error rate: FAIL needs it exceeded, PASS may come from being below it. */
  errorFloor: RATIO_FLOORS.fraction,
  /** No PASS while more than this share of the canary's requests fail (a ratio against a failing baseline says nothing). */
  saturation: 0.5,
} as const

export interface SequentialOptions {
  /** Non-inferiority margin (ratio > 1); default {@link SEQUENTIAL_DEFAULTS.margin}, or 1 + the spec's margin for latency. */
  margin?: number
  /**
   * Error counts: the percentage-point margin (a fraction in (0, 1)), or null to pass on the
   * ratio alone; default the spec's margin, else {@link SEQUENTIAL_DEFAULTS.rateMargin}.
   */
  rateMargin?: number | null
  /** Error-rate floor (fraction in (0, 1)), or null for none; default {@link SEQUENTIAL_DEFAULTS.errorFloor}. */
  errorFloor?: number | null
  /** Multipliers of the FAIL mixture; default {@link DEFAULT_FAIL_RATIOS}. */
  failRatios?: readonly number[]
  /** Non-inferiority alternatives as fractions of the margin; default {@link DEFAULT_PASS_RATIOS}. */
  passRatios?: readonly number[]
}

/** What the judge concluded, for dashboards and the state machine (evidence.state). */
export type SequentialState = 'regression' | 'non-inferior' | 'collecting' | 'no-data' | 'unsupported'

/**
 * Counts a provider may report for a count signal other than errorRate, or for a provider
 * gate (by the gate's name): values[`${key}.errors`] and values[`${key}.total`].
 */
export function countKeys(key: string): { errors: string; total: string } {
  return { errors: `${key}.errors`, total: `${key}.total` }
}

/**
 * Providers whose gates report counts (see countKeys) the sequential test can use: Tempo
 * counts matching and total traces. Prometheus and Loki gates give one value per window
 * (a ratio has lost its counts), so they stay with the threshold and relative judges.
 */
const COUNT_PROVIDERS: ReadonlySet<string> = new Set(['tempo'])

const COUNT_SIGNALS: ReadonlySet<string> = new Set<BuiltinSignal>(['errorRate', 'traceErrorRate', 'logErrorRatio'])
const LATENCY_SIGNALS: Readonly<Record<string, LatencyQuantile>> = { latencyP50: 0.5, latencyP95: 0.95, latencyP99: 0.99 }

/** Whether the sequential judge can judge `gate`; the reason in plain words when it cannot. */
export function sequentialSupport(gate: GateSpec): { ok: true; test: 'errors' | 'latency' } | { ok: false; reason: string } {
  if (gate.signal === undefined) {
    if (COUNT_PROVIDERS.has(gate.provider)) return { ok: true, test: 'errors' }
    return { ok: false, reason: `the sequential judge needs error and request counts or the built-in latency quantiles; a ${gate.provider} query gives one value per window: use the relative judge for ${gate.name}` }
  }
  if (COUNT_SIGNALS.has(gate.signal)) return { ok: true, test: 'errors' }
  if (Object.hasOwn(LATENCY_SIGNALS, gate.signal)) return { ok: true, test: 'latency' }
  return { ok: false, reason: `the sequential judge supports error counts (errorRate, traceErrorRate, logErrorRatio) and the built-in latencyP50/P95/P99; use the threshold or relative judge for ${gate.signal}` }
}

/** Pure: judges `history` (oldest first, the current window last) for `gate`: a run fed `history`. */
export function judgeSequential(spec: SequentialJudgeSpec, history: readonly WindowSample[], gate: GateSpec, options: SequentialOptions = {}): GateVerdict {
  const run = startSequential(spec, gate, options)
  for (const sample of history) run.add(sample)
  return run.verdict()
}

/**
 * A running analysis of `gate` (see {@link JudgeRun}): what the controller keeps between
 * ticks and feeds each tick's increment. Settings it cannot judge with give a run whose
 * verdict is INCONCLUSIVE with the reason.
 */
export function startSequential(spec: SequentialJudgeSpec, gate: GateSpec, options: SequentialOptions = {}): JudgeRun {
  const alpha = spec.alpha
  const support = sequentialSupport(gate)
  // The spec's margin is an allowed increase: percentage points of errors, a share of latency.
  const latencyMargin = support.ok && support.test === 'latency' && spec.margin !== undefined ? 1 + spec.margin : undefined
  const errorTest = support.ok && support.test === 'errors'
  const margin = options.margin ?? latencyMargin ?? (errorTest ? (spec.maxRatio ?? SEQUENTIAL_DEFAULTS.errorRatio) : SEQUENTIAL_DEFAULTS.margin)
  const rateMarginOption = !errorTest ? null : options.rateMargin === undefined ? (spec.margin ?? SEQUENTIAL_DEFAULTS.rateMargin) : options.rateMargin
  if (rateMarginOption !== null && !(rateMarginOption > 0 && rateMarginOption < 1)) {
    return new RefusedRun(gate, alpha, `the margin must be a share in (0, 1), got ${rateMarginOption}`, { alpha: finite(alpha) })
  }
  if (!(alpha > 0 && alpha < 1)) return new RefusedRun(gate, alpha, `alpha must be in (0, 1), got ${alpha}`, { alpha: finite(alpha) })
  if (!(Number.isFinite(margin) && margin > 1)) return new RefusedRun(gate, alpha, `the margin must be a ratio above 1, got ${margin}`, { alpha })
  if (!support.ok) return new RefusedRun(gate, alpha, support.reason, { alpha })
  return support.test === 'errors' ? new ErrorRun(alpha, margin, rateMarginOption, gate, options) : new LatencyRun(alpha, margin, gate, LATENCY_SIGNALS[gate.signal!]!)
}

export function sequentialJudge(spec: SequentialJudgeSpec, options: SequentialOptions = {}): Judge {
  return { kind: KIND, judge: (history, gate) => judgeSequential(spec, history, gate, options), start: (gate) => startSequential(spec, gate, options) }
}

/** What every run keeps: how many windows it saw and the newest, if its dates can be written as evidence (an invalid Date cannot). */
abstract class Run implements JudgeRun {
  samples = 0
  protected latest: WindowSample | undefined
  protected readonly gate: GateSpec
  protected readonly alpha: number

  constructor(gate: GateSpec, alpha: number) {
    this.gate = gate
    this.alpha = alpha
  }

  add(sample: WindowSample): void {
    this.samples += 1
    const valid = (d: unknown): boolean => d instanceof Date && Number.isFinite(d.getTime())
    this.latest = valid(sample.start) && valid(sample.end) ? sample : undefined
    this.take(sample)
  }

  verdict(): GateVerdict {
    if (this.samples === 0) return plain(this.gate, undefined, 'INCONCLUSIVE', `no telemetry window for ${valueKey(this.gate)} yet`, { alpha: this.alpha }, 'no-data')
    return this.judged()
  }

  protected abstract take(sample: WindowSample): void
  /** The verdict once at least one window was added. */
  protected abstract judged(): GateVerdict
}

/** Settings the judge cannot work with: every verdict says why. */
class RefusedRun extends Run {
  readonly #reason: string
  readonly #extra: { [key: string]: Json }

  constructor(gate: GateSpec, alpha: number, reason: string, extra: { [key: string]: Json }) {
    super(gate, alpha)
    this.#reason = reason
    this.#extra = extra
  }

  protected take(): void {}

  // The settings are refused before there is any window to wait for.
  override verdict(): GateVerdict {
    return this.judged()
  }

  protected judged(): GateVerdict {
    return plain(this.gate, this.latest, 'INCONCLUSIVE', this.#reason, this.#extra, 'unsupported')
  }
}

// ---------------------------------------------------------------------------------------
// Error counts

/**
 * One side's counts: `errorRate` from the window's requests and errors; any other key (a
 * count signal, or a provider gate's name) from values[`<key>.errors`] and values[`<key>.total`].
 * Missing, non-finite, negative or impossible counts are a reason (INCONCLUSIVE), never zero.
 */
function countOf(version: VersionWindow, key: string, side: string): { requests: number; errors: number } | string {
  let requests: number | null | undefined
  let errors: number | null | undefined
  if (key === 'errorRate') {
    requests = version.requests
    errors = version.errors
  } else {
    const keys = countKeys(key)
    requests = version.values[keys.total]
    errors = version.values[keys.errors]
  }
  if (requests === null || requests === undefined || errors === null || errors === undefined) {
    // The provider's own reason (a failed or truncated search) says more than "missing".
    const why = version.reasons?.[key]
    if (why !== undefined) return `no ${side} counts for ${key}: ${why}`
    return key === 'errorRate'
      ? `the provider does not count ${side} requests and errors`
      : `the provider reports ${key} only as a ratio; the sequential judge needs its counts (${countKeys(key).errors}, ${countKeys(key).total})`
  }
  if (typeof requests !== 'number' || typeof errors !== 'number') return `the ${side} counts are not numbers (${String(requests)} requests, ${String(errors)} errors)`
  if (!Number.isFinite(requests) || !Number.isFinite(errors)) return `the ${side} counts are not numbers (${requests} requests, ${errors} errors)`
  if (requests < 0 || errors < 0) return `the ${side} counts are negative (${requests} requests, ${errors} errors)`
  if (errors > requests) return `the ${side} has more errors than requests (${errors} of ${requests})`
  return { requests, errors }
}

function readCounts(key: string): (sample: WindowSample) => CountIncrement | string {
  return (sample) => {
    const canary = countOf(sample.canary, key, 'canary')
    if (typeof canary === 'string') return canary
    const baseline = countOf(sample.baseline, key, 'baseline')
    if (typeof baseline === 'string') return baseline
    return { canaryRequests: canary.requests, canaryErrors: canary.errors, baselineRequests: baseline.requests, baselineErrors: baseline.errors }
  }
}

class ErrorRun extends Run {
  readonly #margin: number
  readonly #rateMargin: number | null
  readonly #floor: number | null
  readonly #test: ErrorShareTest
  readonly #cutter: IncrementCutter
  readonly #pooler = new IncrementPooler(POOL_REQUESTS)
  #seconds = 0
  /** Requests of the disjoint intervals cut so far, pooled or still pending. */
  #cutRequests = 0
  #first: TimedIncrement | null = null
  #last: TimedIncrement | null = null

  constructor(alpha: number, margin: number, rateMarginDelta: number | null, gate: GateSpec, options: SequentialOptions) {
    super(gate, alpha)
    this.#margin = margin
    this.#rateMargin = rateMarginDelta
    this.#floor = options.errorFloor === undefined ? SEQUENTIAL_DEFAULTS.errorFloor : options.errorFloor
    this.#test = new ErrorShareTest({
      alpha,
      margin,
      floor: this.#floor,
      failRatios: options.failRatios ?? DEFAULT_FAIL_RATIOS,
      passRatios: options.passRatios ?? DEFAULT_PASS_RATIOS,
    })
    this.#cutter = new IncrementCutter(readCounts(valueKey(gate)))
  }

  protected take(sample: WindowSample): void {
    const inc = this.#cutter.push(sample)
    if (inc === null) return
    this.#first ??= inc
    this.#last = inc
    this.#cutRequests += inc.canaryRequests + inc.baselineRequests
    for (const pool of this.#pooler.push(inc)) {
      this.#test.add(pool)
      this.#seconds += (pool.end - pool.start) / 1000
    }
  }

  protected judged(): GateVerdict {
    const { gate, alpha } = this
    const margin = this.#margin
    const rateMarginDelta = this.#rateMargin
    const floor = this.#floor
    const cut = this.#cutter
    const seconds = this.#seconds
    const first = this.#first
    const last = this.#last
    const test = this.#test
    const s = test.summary()
    const { ratioEstimate, ratioUpperBound } = test.ratios()
    const target = Math.log(1 / alpha)
    // PASS needs both statements shown (an intersection: each at its own level alpha), so the
    // percentage-point test gets all of alpha (alpha/2 per version, see rate-margin.ts).
    const passTarget = target
    const byRate =
      rateMarginDelta === null
        ? null
        : rateMargin({ errors: s.canaryErrors, requests: s.canaryRequests }, { errors: s.baselineErrors, requests: s.baselineRequests }, rateMarginDelta, Math.min(1, 2 * alpha))
    const thresholds: Thresholds = { alpha, eValueThreshold: 1 / alpha, margin, floor, rateMargin: rateMarginDelta }
    const label = labelOf(gate)

    const extra: { [key: string]: Json } = {
      method: 'error share given the traffic split: uniform mixture of likelihood ratios (anytime-valid e-value)',
      alpha,
      threshold: 1 / alpha,
      eValue: finite(Math.exp(s.logEFail)),
      log10EValue: finite(s.logEFail / Math.LN10),
      eValueRatio: finite(Math.exp(s.logERatio)),
      eValueFloor: s.logEFloor === null ? null : finite(Math.exp(s.logEFloor)),
      passEValue: finite(Math.exp(s.logEPass)),
      log10PassEValue: finite(s.logEPass / Math.LN10),
      margin,
      floor,
      rateMargin: rateMarginDelta,
      rateMarginEValue: byRate === null ? null : finite(Math.exp(byRate.logE)),
      rateMarginThreshold: byRate === null ? null : finite(Math.exp(byRate.target)),
      baselineRateLowerBound: byRate === null ? null : finite(byRate.baselineLower),
      canaryRateUpperBound: byRate === null ? null : finite(byRate.canaryUpper),
      ratioEstimate: finite(ratioEstimate),
      ratioUpperBound: finite(ratioUpperBound),
      canaryRequestsTotal: s.canaryRequests,
      canaryErrorsTotal: s.canaryErrors,
      baselineRequestsTotal: s.baselineRequests,
      baselineErrorsTotal: s.baselineErrors,
      canaryErrorRate: finite(s.canaryRate),
      baselineErrorRate: finite(s.baselineRate),
      intervals: s.intervals,
      seconds: finite(seconds),
      since: first === null ? null : new Date(first.start).toISOString(),
      until: last === null ? null : new Date(last.end).toISOString(),
      windows: { seen: cut.samples, overlapping: cut.overlapping, invalid: cut.invalid, inconsistent: cut.inconsistent },
    }
    const verdict = (v: GateVerdict['verdict'], reason: string, state: SequentialState): GateVerdict => ({
      gate: gate.name,
      verdict: v,
      value: finite(s.canaryRate),
      baseline: finite(s.baselineRate),
      reason,
      evidence: evidenceOf(KIND, gate, this.latest, thresholds, { ...extra, state }),
    })

    if (s.intervals === 0 && first !== null) {
      return verdict('INCONCLUSIVE', `collecting evidence: ${counted(this.#cutRequests, countedItem(gate))} so far; the test counts pools of at least ${POOL_REQUESTS}`, 'collecting')
    }
    if (s.intervals === 0) {
      const why = cut.invalid > 0 ? `no usable ${label} counts yet: ${cut.invalidReason}` : `no disjoint ${label} window yet`
      return verdict('INCONCLUSIVE', why, 'no-data')
    }
    // What the counts count, in the reasons: requests of the proxy, traces of a Tempo gate.
    const item = countedItem(gate)
    // Valid counts of zero are an answer, not missing telemetry: at low traffic the canary may
    // go a while without a request. The analysis's `max` bounds the wait, not the inconclusive limit.
    if (s.canaryRequests === 0) return verdict('INCONCLUSIVE', `collecting evidence: no canary ${item}s yet (${plural(cut.samples, 'window')} counted, ${counted(s.baselineRequests, `baseline ${item}`)})`, 'collecting')

    const needed = formatE(1 / alpha)
    const rates = ratesText(label, s.canaryRate, s.baselineRate)
    const over = `over ${counted(s.canaryRequests, `canary ${item}`)}${s.baselineRequests > 0 ? ` and ${counted(s.baselineRequests, `baseline ${item}`)}` : ''}${seconds > 0 ? ` in ${formatWindowSeconds(seconds)}` : ''}`

    if (s.logEFail >= target) {
      return verdict('FAIL', `${rates} ${over}: e-value ${formatLogE(s.logEFail)} ≥ ${needed} = 1/alpha`, 'regression')
    }

    const saturated = (s.canaryRate ?? 0) > SEQUENTIAL_DEFAULTS.saturation
    const confidence = `${trimmedPercent(1 - alpha)} % confidence`
    // PASS: the ratio (or the floor) AND, when a percentage-point margin is on, the points.
    const ratioShown = s.logEPass >= passTarget
    const rateShown = byRate === null || byRate.pass
    if (ratioShown && rateShown && !saturated) {
      const byRatio = ratioUpperBound !== null && ratioUpperBound < margin
      const ratioWhy = byRatio
        ? `≤ ${formatRatio(margin)} the baseline (ratio at most ${formatRatio(sig3(ratioUpperBound))})`
        : `below the ${formatValue(floor ?? 0, 'fraction')} floor`
      const headrooms = [byRatio ? ratioHeadroom(ratioEstimate, margin) : 1]
      let reason: string
      if (byRate !== null) {
        // "canary error rate ≤ baseline + 1 pp and ≤ ×2 the baseline with 99 % confidence after 1,240 canary requests"
        headrooms.push(rateHeadroom(s.canaryRate, s.baselineRate, rateMarginDelta!))
        const measured = `${formatValue(s.canaryRate ?? 0, 'fraction')} vs ${s.baselineRate === null ? 'no baseline requests' : `${formatValue(s.baselineRate, 'fraction')} baseline`}`
        const bounds = `canary at most ${formatValue(byRate.canaryUpper ?? byRate.cap, 'fraction')}, baseline at least ${formatValue(byRate.baselineLower, 'fraction')}`
        reason =
          `canary ${label} ≤ baseline + ${formatPoints(rateMarginDelta!)} and ${ratioWhy} with ${confidence} after ${counted(s.canaryRequests, `canary ${item}`)}` +
          ` (measured ${measured}${seconds > 0 ? ` over ${formatWindowSeconds(seconds)}` : ''}; ${bounds}; ratio e-value ${formatLogE(s.logEPass)} ≥ ${needed} = 1/alpha)`
      } else {
        reason = `${rates} ${over}: ${ratioWhy} with ${confidence}; e-value ${formatLogE(s.logEPass)} ≥ ${needed} = 1/alpha`
      }
      const route = byRate !== null ? (byRatio ? 'rate-margin+ratio' : 'rate-margin+floor') : byRatio ? 'ratio' : 'floor'
      return passVerdict(verdict('PASS', reason, 'non-inferior'), route, Math.min(...headrooms))
    }

    const notes: string[] = []
    if (saturated) notes.push(`more than half of the canary's ${item}s fail, so a ratio cannot show it is fine`)
    else if (s.logERatio >= target && s.logEFloor !== null) {
      notes.push(`worse than the baseline (e-value ${formatLogE(s.logERatio)}) but not yet shown above the ${formatValue(floor ?? 0, 'fraction')} floor`)
    } else if (byRate !== null && !byRate.pass) {
      const upper = byRate.canaryUpper === null ? 'not yet bounded' : `at most ${formatValue(byRate.canaryUpper, 'fraction')} so far`
      notes.push(`canary ${upper}; ≤ baseline + ${formatPoints(byRate.cap - byRate.baselineLower)} = ${formatValue(byRate.cap, 'fraction')} needed to pass`)
    } else {
      notes.push(ratioUpperBound === null ? `not yet shown within ${formatRatio(margin)} of the baseline` : `ratio at most ${formatRatio(sig3(ratioUpperBound))} so far, ${formatRatio(margin)} needed to pass`)
    }
    return verdict('INCONCLUSIVE', `collecting evidence: e-value ${formatLogE(s.logEFail)} of ${needed} needed; ${rates} ${over}; ${notes.join('; ')}`, 'collecting')
  }
}

// ---------------------------------------------------------------------------------------
// Latency

function quantilesOf(version: VersionWindow): QuantileWindow | null {
  const requests = version.requests
  if (requests === null || !Number.isInteger(requests) || requests < 1) return null
  const p50 = finite(version.values['latencyP50'])
  const p95 = finite(version.values['latencyP95'])
  const p99 = finite(version.values['latencyP99'])
  if (p50 === null || p95 === null || p99 === null || p50 < 0 || p95 < p50 || p99 < p95) return null
  return { requests, quantiles: { 0.5: p50, 0.95: p95, 0.99: p99 } }
}

/** The latest disjoint windows whose canary / baseline ratio gives a PASS's headroom (their median). */
const HEADROOM_WINDOWS = 256

/** The proxy's latency histograms of both versions, when they share one layout: its bucket count. */
function histogramLayout(s: WindowSample): number | null {
  const c = s.canary.latencyHistogram
  const b = s.baseline.latencyHistogram
  return validBuckets(c) && validBuckets(b) && c.length === b.length ? c.length : null
}

class LatencyRun extends Run {
  readonly #margin: number
  readonly #g: LatencyQuantile
  readonly #fails: ReturnType<typeof failPairs>
  readonly #passes: ReturnType<typeof passPairs>
  readonly #slower: PairedBets
  readonly #notSlower: PairedBets
  readonly #cut = new DisjointCutter((s) => quantilesOf(s.canary) !== null && quantilesOf(s.baseline) !== null)
  /** FAIL from per-request counts when the windows carry the proxy's histograms (stats/latency-tail.ts). */
  readonly #tailCut = new DisjointCutter((s) => histogramLayout(s) !== null)
  #tail: { test: LatencyTailTest; buckets: number; windows: number } | null = null
  #foreign = 0
  /** Whether a window counted requests but the canary had none (low traffic): waiting, not missing data. */
  #countedNoCanary = false
  #canaryRequests = 0
  #newest: WindowSample | undefined
  readonly #ratios: number[] = []

  constructor(alpha: number, margin: number, gate: GateSpec, g: LatencyQuantile) {
    super(gate, alpha)
    this.#margin = margin
    this.#g = g
    this.#fails = failPairs(g)
    this.#passes = passPairs(g)
    this.#slower = new PairedBets(this.#fails.length, alpha)
    this.#notSlower = new PairedBets(this.#passes.length, alpha)
  }

  protected take(sample: WindowSample): void {
    if (sample.provider !== 'builtin') this.#foreign += 1
    if (sample.canary.requests === 0 && sample.baseline.requests !== null && sample.baseline.requests >= 0) this.#countedNoCanary = true
    if (this.#cut.push(sample)) {
      const c = quantilesOf(sample.canary)!
      const b = quantilesOf(sample.baseline)!
      this.#canaryRequests += c.requests
      this.#slower.add(this.#fails.map((pair) => slowerLogE(c, b, pair)))
      this.#notSlower.add(this.#passes.map((pair) => notSlowerLogE(c, b, pair, this.#margin)))
      this.#newest = sample
      const key = valueKey(this.gate)
      const ratio = finite(sample.canary.values[key])! / finite(sample.baseline.values[key])!
      if (Number.isFinite(ratio)) {
        this.#ratios.push(ratio)
        if (this.#ratios.length > HEADROOM_WINDOWS) this.#ratios.shift()
      }
    }
    if (this.#tailCut.push(sample)) {
      const buckets = histogramLayout(sample)!
      this.#tail ??= { test: new LatencyTailTest(tailQuantiles(this.#g), this.alpha, buckets), buckets, windows: 0 }
      if (buckets === this.#tail.buckets) {
        this.#tail.test.add(sample.canary.latencyHistogram!, sample.baseline.latencyHistogram!)
        this.#tail.windows += 1
      }
    }
  }

  protected judged(): GateVerdict {
    const { gate, alpha } = this
    const margin = this.#margin
    const key = valueKey(gate)
    const label = labelOf(gate)
    const target = Math.log(1 / alpha)
    const thresholds: Thresholds = { alpha, eValueThreshold: 1 / alpha, margin }
    const latest = this.latest
    const plainLatency = (v: GateVerdict['verdict'], reason: string, state: SequentialState, extra: { [key: string]: Json } = {}): GateVerdict => ({
      gate: gate.name,
      verdict: v,
      value: finite(latest?.canary.values[key]),
      baseline: finite(latest?.baseline.values[key]),
      reason,
      evidence: evidenceOf(KIND, gate, latest, thresholds, { alpha, threshold: 1 / alpha, margin, ...extra, state }),
    })
    if (this.#foreign > 0) {
      return plainLatency('INCONCLUSIVE', `the sequential latency test reads the quantiles of Sentra's proxy (10 % buckets); ${latest?.provider ?? 'this'} provider's quantiles have an unknown resolution: use the relative judge`, 'unsupported')
    }
    const slower = this.#slower
    const notSlower = this.#notSlower
    const tail = this.#tail
    const failLogE = tail?.test.logE ?? slower.logE
    const newest = this.#newest
    const extra: { [key: string]: Json } = {
      method: tail
        ? 'FAIL: share of requests slower than the baseline’s earlier quantiles (error-share test) averaged with a bucket-score permutation test of a shift, over disjoint windows; PASS: quantile counts with a distribution-free beta-binomial null, betting e-process'
        : 'quantile exceedance counts with a distribution-free beta-binomial null, betting e-process over disjoint windows',
      eValue: finite(Math.exp(failLogE)),
      log10EValue: finite(failLogE / Math.LN10),
      tail: tail === null ? null : tail.test.thresholds().map((t) => ({ quantile: t.quantile, intervals: t.intervals, canaryRequests: t.canaryRequests, canarySlow: t.canarySlow, baselineRequests: t.baselineRequests, baselineSlow: t.baselineSlow, eValue: finite(Math.exp(t.logE)) })),
      shift: tail === null ? null : shiftEvidence(tail.test.shift()),
      passEValue: finite(Math.exp(notSlower.logE)),
      log10PassEValue: finite(notSlower.logE / Math.LN10),
      disjointWindows: this.#slower.windows,
      slowerWindows: slower.hits,
      notSlowerWindows: notSlower.hits,
      canaryRequestsTotal: this.#canaryRequests,
      windows: { seen: this.samples, overlapping: this.#cut.overlapping, unusable: this.#cut.unusable },
      pairs: this.#fails.map((p) => `canary p${p.canary * 100} > baseline p${p.baseline * 100}`),
    }
    if (newest === undefined) {
      if (this.#countedNoCanary) return plainLatency('INCONCLUSIVE', `collecting evidence: no canary request with a latency yet (${plural(this.samples, 'window')})`, 'collecting', extra)
      return plainLatency('INCONCLUSIVE', `no window with ${label} quantiles and request counts for both versions yet`, 'no-data', extra)
    }
    const c = finite(newest.canary.values[key])!
    const b = finite(newest.baseline.values[key])!
    const values = `${label} ${formatValue(c, 'seconds')} vs ${formatValue(b, 'seconds')} baseline in the latest disjoint window`
    const windows = plural(this.#slower.windows, 'disjoint window')
    const result = (v: GateVerdict['verdict'], reason: string, state: SequentialState): GateVerdict => ({
      ...plainLatency(v, reason, state, extra),
      value: c,
      baseline: b,
    })
    const needed = formatE(1 / alpha)
    if (tail !== null && failLogE >= target) {
      return result('FAIL', `${values}: ${tailText(tail.test.thresholds(), tail.test.shift(), tail.windows)}; e-value ${formatLogE(failLogE)} ≥ ${needed} = 1/alpha`, 'regression')
    }
    if (tail === null && slower.logE >= target) {
      return result('FAIL', `${values}: the canary is slower in ${slower.hits} of ${windows}; e-value ${formatLogE(slower.logE)} ≥ ${needed} = 1/alpha`, 'regression')
    }
    if (notSlower.logE >= target) {
      return passVerdict(result('PASS', `${values}: not ${formatRatio(margin)} slower in ${notSlower.hits} of ${windows}; e-value ${formatLogE(notSlower.logE)} ≥ ${needed} = 1/alpha`, 'non-inferior'), 'latency', ratioHeadroom(median(this.#ratios), margin))
    }
    return result(
      'INCONCLUSIVE',
      `collecting evidence: e-value ${formatLogE(failLogE)} of ${needed} needed to fail, ${formatLogE(notSlower.logE)} of ${needed} to pass (not ${formatRatio(margin)} slower); ${values}; ${windows}`,
      'collecting',
    )
  }
}

/** The baseline quantiles a gate on the g-quantile compares with: g and every higher one. */
function tailQuantiles(g: LatencyQuantile): number[] {
  return ([0.5, 0.95, 0.99] as const).filter((q) => q >= g)
}

/**
 * "24 % of canary requests slower than the baseline's earlier p95 vs 5.1 % of baseline requests; …;
 * canary requests 0.62 standard deviations slower than all requests (upper half) (12 disjoint windows)"
 */
function tailText(thresholds: readonly ThresholdSummary[], shift: ShiftSummary, windows: number): string {
  const parts = thresholds
    .filter((t) => t.canaryRequests > 0 && t.baselineRequests > 0)
    .map((t) => `${formatValue(t.canarySlow / t.canaryRequests, 'fraction')} of canary requests slower than the baseline's earlier p${t.quantile * 100} vs ${formatValue(t.baselineSlow / t.baselineRequests, 'fraction')} of baseline requests`)
  if (shift.canaryMeanScore !== null) parts.push(`canary requests ${sig3(shift.canaryMeanScore)} standard deviations slower than all requests (upper half of the latencies)`)
  return `${parts.length > 0 ? parts.join('; ') : 'no threshold yet'} (${plural(windows, 'disjoint window')})`
}

function shiftEvidence(shift: ShiftSummary): { [key: string]: Json } {
  return { intervals: shift.intervals, canaryRequests: shift.canaryRequests, canaryMeanScore: finite(shift.canaryMeanScore), eValue: finite(Math.exp(shift.logE)) }
}

// ---------------------------------------------------------------------------------------
// Headroom: how much of the margin the canary's estimate leaves unused (adaptive steps)

/**
 * Adds to a PASS verdict's evidence how it passed and its headroom: 1 when the canary's
 * estimate is no worse than the baseline's, 0 when it sits at the margin, linear between.
 * The PASS itself rests on the confidence bound; the headroom only tells an adaptive rollout
 * (controller/rollout/adaptive.ts) whether the canary looks as good as the baseline or merely
 * good enough.
 */
function passVerdict(verdict: GateVerdict, route: string, headroom: number): GateVerdict {
  return { ...verdict, evidence: { ...verdict.evidence, passedBy: route, headroom: finite(round3(clamp01(headroom))) } }
}

function rateHeadroom(canary: number | null, baseline: number | null, delta: number): number {
  if (canary === null) return 0
  return 1 - Math.max(0, canary - (baseline ?? 0)) / delta
}

function ratioHeadroom(ratio: number | null, margin: number): number {
  if (ratio === null) return 0
  return 1 - Math.max(0, ratio - 1) / (margin - 1)
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}

// ---------------------------------------------------------------------------------------
// Plain words

/** "0.5 pp" */
function formatPoints(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(2))} pp`
}


function plain(gate: GateSpec, latest: WindowSample | undefined, verdict: GateVerdict['verdict'], reason: string, extra: { [key: string]: Json }, state: SequentialState): GateVerdict {
  const key = valueKey(gate)
  return {
    gate: gate.name,
    verdict,
    value: finite(latest?.canary.values[key]),
    baseline: finite(latest?.baseline.values[key]),
    reason,
    evidence: evidenceOf(KIND, gate, latest, {}, { ...extra, state }),
  }
}

/** What a gate's counts count: traces for Tempo gates and traceErrorRate, log records for logErrorRatio, else requests. */
function countedItem(gate: GateSpec): string {
  if (gate.provider === 'tempo' || gate.signal === 'traceErrorRate') return 'trace'
  return gate.signal === 'logErrorRatio' ? 'log record' : 'request'
}

/** "canary error rate 4.8 % vs 0.5 % baseline" */
function ratesText(label: string, canary: number | null, baseline: number | null): string {
  const c = canary === null ? 'no canary data' : `canary ${label} ${formatValue(canary, 'fraction')}`
  return baseline === null ? `${c} (no baseline requests)` : `${c} vs ${formatValue(baseline, 'fraction')} baseline`
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function counted(n: number, word: string): string {
  const shown = Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1)
  return `${shown} ${word}${n === 1 ? '' : 's'}`
}

function sig3(x: number): number {
  return Number(x.toPrecision(3))
}

function trimmedPercent(fraction: number): string {
  return String(Number((fraction * 100).toFixed(2)))
}

/** An e-value in plain numbers: "0.42", "3.2", "312", "12,400", "3.1e+9". */
export function formatE(e: number): string {
  if (!Number.isFinite(e)) return e > 0 ? 'over 1e+300' : '0'
  if (e < 10) return String(Number(e.toPrecision(2)))
  if (e < 1e6) return Math.round(e).toLocaleString('en-US')
  return e.toExponential(1)
}

function formatLogE(logE: number): string {
  if (logE > 690) return `1e+${Math.floor(logE / Math.LN10)}`
  return formatE(Math.exp(logE))
}
