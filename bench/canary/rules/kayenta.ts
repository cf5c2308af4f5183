/**
 * Kayenta (Spinnaker's automated canary analysis) with its Mann-Whitney judge, as Sentra
 * re-implements it (controller/judges/mann-whitney-score.ts, `kayentaScore`): the canary
 * runs at a fixed 10 % for the analysis lifetime (30 m); every 60 s one data point per
 * metric and version (error rate and p95 latency over that minute, as Kayenta's metric
 * sources return them at a 60 s step; a minute without requests or with a missing scrape
 * is NaN and dropped, as Kayenta's nanStrategy "remove"); every analysis interval (10 m)
 * the judge scores all points since the start. An interval scoring below marginal (75)
 * fails the canary at once (rollback); at the end of the lifetime the score must reach
 * pass (95) to promote, else it rolls back. Metrics: error rate and p95 latency, direction
 * increase, weight 1 each, Kayenta's defaults otherwise (tolerance 0.25, 98 % confidence).
 */
import { KAYENTA_THRESHOLDS, kayentaScore } from '../../../controller/judges/mann-whitney-score.ts'
import { BASELINE_VERSION, CANARY_VERSION, EPOCH_MS } from '../simulator.ts'
import type { Rule, RuleContext, RuleOutcome, RuleRun } from './types.ts'

export const KAYENTA = {
  canaryWeight: 10,
  stepSeconds: 60,
  intervalSeconds: 600,
  lifetimeSeconds: 1800,
  thresholds: KAYENTA_THRESHOLDS,
} as const

class KayentaRun implements RuleRun {
  weight: number = KAYENTA.canaryWeight
  nextTickAt: number = KAYENTA.stepSeconds
  outcome: RuleOutcome | null = null
  readonly #ctx: RuleContext
  readonly #points = { canaryErrors: [] as number[], baselineErrors: [] as number[], canaryP95: [] as number[], baselineP95: [] as number[] }

  constructor(ctx: RuleContext) {
    this.#ctx = ctx
  }

  tick(now: number): void {
    const ctx = this.#ctx
    const to = EPOCH_MS + now * 1000
    const from = to - KAYENTA.stepSeconds * 1000
    const ok = ctx.telemetryAt(now)
    const c = ctx.metrics.window(CANARY_VERSION, from, to)
    const b = ctx.metrics.window(BASELINE_VERSION, from, to)
    const p = this.#points
    p.canaryErrors.push(ok && c.requests > 0 ? c.errors / c.requests : Number.NaN)
    p.baselineErrors.push(ok && b.requests > 0 ? b.errors / b.requests : Number.NaN)
    p.canaryP95.push(ok && c.latencyP95 !== null ? c.latencyP95 : Number.NaN)
    p.baselineP95.push(ok && b.latencyP95 !== null ? b.latencyP95 : Number.NaN)
    this.nextTickAt = now + KAYENTA.stepSeconds
    if (now % KAYENTA.intervalSeconds !== 0 && now < KAYENTA.lifetimeSeconds) return

    const score = kayentaScore(
      [
        { name: 'errorRate', canary: p.canaryErrors, baseline: p.baselineErrors, direction: 'increase' },
        { name: 'latencyP95', canary: p.canaryP95, baseline: p.baselineP95, direction: 'increase' },
      ],
      KAYENTA.thresholds,
    )
    const finish = (kind: RuleOutcome['kind'], why: string): void => {
      this.outcome = { kind, at: now, reason: `${why}: ${score.reason}` }
      this.weight = kind === 'promote' ? 100 : 0
      this.nextTickAt = Infinity
    }
    if (now >= KAYENTA.lifetimeSeconds) {
      if (score.score >= KAYENTA.thresholds.pass) finish('promote', 'final score passes')
      else finish('rollback', 'final score below pass')
    } else if (score.outcome === 'fail') {
      finish('rollback', 'interval score below marginal')
    }
  }
}

export function kayentaRule(): Rule {
  return {
    name: 'kayenta',
    description: `Kayenta Mann-Whitney judge (Sentra's kayentaScore): canary at ${KAYENTA.canaryWeight} %, 60 s data points of error rate and p95, judged every ${KAYENTA.intervalSeconds / 60} m over all points; below marginal ${KAYENTA.thresholds.marginal} rolls back; after ${KAYENTA.lifetimeSeconds / 60} m pass ${KAYENTA.thresholds.pass} promotes, else rolls back`,
    unavailable: null,
    start: (ctx) => new KayentaRun(ctx),
  }
}
