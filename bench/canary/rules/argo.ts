/**
 * Argo Rollouts' documented canary example with background analysis (argo-rollouts docs,
 * "Analysis & Progressive Delivery"): steps setWeight 20, pause 10m, 40, pause 10m, 60,
 * pause 10m, 80, pause 10m, then the rollout completes (100 %); the `success-rate`
 * AnalysisTemplate runs from the first step: a measurement at once and then every 5 m,
 * `successCondition: result[0] >= 0.95`, `failureLimit: 3`.
 *
 * AnalysisRun semantics: the run is Failed when failed measurements exceed failureLimit (so
 * the 4th failure), and Errored when consecutive errors exceed consecutiveErrorLimit
 * (default 4); either aborts the rollout (all traffic back to stable). A query with no data
 * (no canary requests: the ratio of two empty sums has no `result[0]`) is an Error
 * measurement. The example's query is `sum(irate(…[5m])) / sum(irate(…[5m]))`: irate uses
 * the last two scrapes in the range, so the measurement reflects the last scrape interval,
 * taken here as 30 s.
 */
import { CANARY_VERSION, EPOCH_MS } from '../simulator.ts'
import type { Rule, RuleContext, RuleOutcome, RuleRun } from './types.ts'

export const ARGO = {
  intervalSeconds: 300,
  failureLimit: 3,
  consecutiveErrorLimit: 4,
  minSuccessRate: 0.95,
  /** irate's reach: the last two scrapes, 30 s apart. */
  measuredSeconds: 30,
  /** [weight %, seconds at that weight] from the documented example. */
  steps: [
    [20, 600],
    [40, 600],
    [60, 600],
    [80, 600],
  ],
} as const

export type ArgoPhase = 'Running' | 'Failed' | 'Error'

export interface ArgoSettings {
  failureLimit: number
  consecutiveErrorLimit: number
  minSuccessRate: number
}

/** One metric of an AnalysisRun, pure: feed it one measurement (success rate, or null for an error) at a time. */
export class ArgoAnalysis {
  readonly settings: ArgoSettings
  failed = 0
  successful = 0
  consecutiveErrors = 0
  phase: ArgoPhase = 'Running'

  constructor(settings: ArgoSettings = ARGO) {
    this.settings = settings
  }

  measure(successRate: number | null): ArgoPhase {
    if (this.phase !== 'Running') return this.phase
    if (successRate === null || !Number.isFinite(successRate)) {
      this.consecutiveErrors++
      if (this.consecutiveErrors > this.settings.consecutiveErrorLimit) this.phase = 'Error'
      return this.phase
    }
    this.consecutiveErrors = 0
    if (successRate >= this.settings.minSuccessRate) this.successful++
    else this.failed++
    if (this.failed > this.settings.failureLimit) this.phase = 'Failed'
    return this.phase
  }
}

/** The example's canary weight `seconds` after the rollout began; 100 once every step is done. */
export function argoWeightAt(seconds: number): number {
  let end = 0
  for (const [weight, duration] of ARGO.steps) {
    end += duration
    if (seconds < end) return weight
  }
  return 100
}

const PLAN_SECONDS = ARGO.steps.reduce((sum, [, d]) => sum + d, 0)

class ArgoRun implements RuleRun {
  nextTickAt = 0
  outcome: RuleOutcome | null = null
  weight: number = ARGO.steps[0][0]
  readonly #analysis = new ArgoAnalysis()
  readonly #ctx: RuleContext
  #nextMeasurement = 0

  constructor(ctx: RuleContext) {
    this.#ctx = ctx
  }

  tick(now: number): void {
    if (this.outcome !== null) return
    if (now >= this.#nextMeasurement) {
      const ctx = this.#ctx
      let rate: number | null = null
      if (ctx.telemetryAt(now)) {
        const to = EPOCH_MS + now * 1000
        const canary = ctx.metrics.window(CANARY_VERSION, to - ARGO.measuredSeconds * 1000, to)
        rate = canary.requests > 0 ? 1 - canary.errors / canary.requests : null
      }
      const phase = this.#analysis.measure(rate)
      this.#nextMeasurement = now + ARGO.intervalSeconds
      if (phase !== 'Running') {
        const why = phase === 'Failed' ? `${this.#analysis.failed} failed measurements > failureLimit ${ARGO.failureLimit}` : `${this.#analysis.consecutiveErrors} consecutive errors > ${ARGO.consecutiveErrorLimit}`
        this.outcome = { kind: 'rollback', at: now, reason: `analysis ${phase}: ${why}` }
        this.weight = 0
        this.nextTickAt = Infinity
        return
      }
    }
    if (now >= PLAN_SECONDS) {
      this.outcome = { kind: 'promote', at: now, reason: 'every step done' }
      this.weight = 100
      this.nextTickAt = Infinity
      return
    }
    this.weight = argoWeightAt(now)
    // Wake at the next measurement or the next step change, whichever comes first.
    let nextStep = 0
    for (const [, d] of ARGO.steps) {
      nextStep += d
      if (nextStep > now) break
    }
    this.nextTickAt = Math.min(this.#nextMeasurement, nextStep)
  }
}

export function argoRule(): Rule {
  return {
    name: 'argo',
    description: `Argo Rollouts docs example: steps ${ARGO.steps.map(([w, d]) => `${w} % for ${d / 60} m`).join(', ')}; success rate ≥ ${ARGO.minSuccessRate * 100} % every ${ARGO.intervalSeconds / 60} m (irate: last ${ARGO.measuredSeconds} s), failureLimit ${ARGO.failureLimit}`,
    unavailable: null,
    start: (ctx) => new ArgoRun(ctx),
  }
}
