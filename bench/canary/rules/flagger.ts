/**
 * Flagger's analysis as documented (docs.flagger.app, "Canary analysis" and "Metrics
 * analysis"), with the settings the issue names: every `interval` (60 s) Flagger checks the
 * built-in metrics over the last interval, request-success-rate ≥ 99 % (non-5xx, percent)
 * and request-duration p99 ≤ 500 ms; a failed check increments the failed-checks counter
 * and halts advancement; the counter is never reset during an analysis; and at the start of
 * an iteration with failedChecks ≥ threshold (5) the canary is rolled back. An iteration with
 * every check passing advances the weight along stepWeights (5, 15, 30, 50 % here: the
 * issue's fixed 5-15-30-50-100 % plan), and the iteration after the last weight promotes.
 * A metric with no value (no canary requests in the interval: Flagger's "no values found
 * for metric") is a failed check, as in Flagger. The first iteration only routes the first
 * step weight (Flagger skips the checks while the canary has had no traffic).
 */
import { CANARY_VERSION, EPOCH_MS } from '../simulator.ts'
import type { Rule, RuleContext, RuleOutcome, RuleRun } from './types.ts'

export const FLAGGER = {
  intervalSeconds: 60,
  threshold: 5,
  minSuccessRatePercent: 99,
  maxP99Ms: 500,
  stepWeights: [5, 15, 30, 50],
} as const

/** The two built-in metrics over one interval; null = no values found. */
export interface FlaggerMetrics {
  successRatePercent: number | null
  p99Ms: number | null
}

export type FlaggerAction = 'start' | 'advance' | 'promote' | 'rollback' | 'halt'

export interface FlaggerSettings {
  threshold: number
  minSuccessRatePercent: number
  maxP99Ms: number
  stepWeights: readonly number[]
}

/** Flagger's per-iteration decision, pure: feed it one iteration's metrics at a time. */
export class FlaggerAnalysis {
  readonly settings: FlaggerSettings
  /** Index into stepWeights; -1 before the first iteration. */
  stepIndex = -1
  failedChecks = 0
  done: 'promote' | 'rollback' | null = null

  constructor(settings: FlaggerSettings = FLAGGER) {
    this.settings = settings
  }

  get weight(): number {
    if (this.done === 'rollback') return 0
    if (this.done === 'promote') return 100
    return this.stepIndex < 0 ? 0 : this.settings.stepWeights[this.stepIndex]!
  }

  /** Which checks fail on these metrics (plain words). */
  failures(m: FlaggerMetrics): string[] {
    const out: string[] = []
    if (m.successRatePercent === null) out.push('request-success-rate: no values found')
    else if (m.successRatePercent < this.settings.minSuccessRatePercent) out.push(`request-success-rate ${m.successRatePercent.toFixed(2)} < ${this.settings.minSuccessRatePercent}`)
    if (m.p99Ms === null) out.push('request-duration: no values found')
    else if (m.p99Ms > this.settings.maxP99Ms) out.push(`request-duration ${m.p99Ms.toFixed(0)} ms > ${this.settings.maxP99Ms}`)
    return out
  }

  /** One iteration. `metrics` is read only when the checks run (not on the first iteration). */
  iterate(metrics: () => FlaggerMetrics): FlaggerAction {
    if (this.done !== null) return 'halt'
    if (this.stepIndex < 0) {
      this.stepIndex = 0
      return 'start'
    }
    if (this.failedChecks >= this.settings.threshold) {
      this.done = 'rollback'
      return 'rollback'
    }
    if (this.failures(metrics()).length > 0) {
      this.failedChecks++
      return 'halt'
    }
    if (this.stepIndex < this.settings.stepWeights.length - 1) {
      this.stepIndex++
      return 'advance'
    }
    this.done = 'promote'
    return 'promote'
  }
}

class FlaggerRun implements RuleRun {
  nextTickAt = 0
  outcome: RuleOutcome | null = null
  readonly #analysis = new FlaggerAnalysis()
  readonly #ctx: RuleContext

  constructor(ctx: RuleContext) {
    this.#ctx = ctx
  }

  get weight(): number {
    return this.#analysis.weight
  }

  tick(now: number): void {
    const ctx = this.#ctx
    const read = (): FlaggerMetrics => {
      if (!ctx.telemetryAt(now)) return { successRatePercent: null, p99Ms: null }
      const to = EPOCH_MS + now * 1000
      const canary = ctx.metrics.window(CANARY_VERSION, to - FLAGGER.intervalSeconds * 1000, to)
      return {
        successRatePercent: canary.requests > 0 ? 100 * (1 - canary.errors / canary.requests) : null,
        p99Ms: canary.latencyP99 === null ? null : canary.latencyP99 * 1000,
      }
    }
    const failedBefore = this.#analysis.failedChecks
    const action = this.#analysis.iterate(read)
    if (action === 'rollback') this.outcome = { kind: 'rollback', at: now, reason: `${failedBefore} failed checks ≥ threshold ${FLAGGER.threshold}` }
    if (action === 'promote') this.outcome = { kind: 'promote', at: now, reason: 'every step passed its checks' }
    this.nextTickAt = this.outcome === null ? now + FLAGGER.intervalSeconds : Infinity
  }
}

export function flaggerRule(): Rule {
  return {
    name: 'flagger',
    description: `Flagger: every ${FLAGGER.intervalSeconds} s, success rate ≥ ${FLAGGER.minSuccessRatePercent} % and p99 ≤ ${FLAGGER.maxP99Ms} ms over the interval; rollback after ${FLAGGER.threshold} failed checks; steps ${FLAGGER.stepWeights.join('-')} % then promote`,
    unavailable: null,
    start: (ctx) => new FlaggerRun(ctx),
  }
}
