/**
 * One run of one scenario: every rule rolls out its own canary on the same simulated
 * requests, second by second. Each second's requests are drawn once, served by every rule at
 * its own weight into its own proxy metrics, and then every rule whose tick is due ticks.
 * No timers: simulated time only, so hundreds of runs take minutes.
 */
import type { Rule, RuleOutcome, RuleRun } from './rules/types.ts'
import type { Scenario } from './scenarios.ts'
import { type ServedTally, TrafficStream, emptyTally, newMetrics, serveSecond } from './simulator.ts'
import type { Random } from './random.ts'

export interface TrialResult {
  rule: string
  outcome: RuleOutcome | null
  tally: ServedTally
}

/** A tick that keeps asking to run again at the same second is a bug in a rule, not a slow rule. */
const MAX_TICKS_PER_SECOND = 16

export async function runTrial(scenario: Scenario, rules: readonly Rule[], random: Random): Promise<TrialResult[]> {
  const stream = new TrafficStream(scenario, random)
  const missing: boolean[] = []
  // A query at second `at` reads the scrape at the end of second at − 1.
  const telemetryAt = (at: number): boolean => at <= 0 || missing[Math.ceil(at) - 1] !== true
  const runs = rules.map((rule) => {
    const metrics = newMetrics()
    return { rule, metrics, tally: emptyTally(), run: rule.start({ scenario, metrics, telemetryAt }) }
  })

  const tickDue = async (run: RuleRun, now: number, rule: string): Promise<void> => {
    let ticks = 0
    while (run.nextTickAt <= now) {
      if (++ticks > MAX_TICKS_PER_SECOND) throw new Error(`rule ${rule} ticked more than ${MAX_TICKS_PER_SECOND} times at second ${now}`)
      await run.tick(now)
    }
  }

  for (const r of runs) await tickDue(r.run, 0, r.rule.name)
  const faulty = scenario.fault !== null
  for (let t = 0; t < scenario.durationSeconds; t++) {
    const second = stream.next()
    missing[t] = second.telemetryMissing
    for (const r of runs) {
      // A rolled-back canary serves nothing; its metrics no longer matter.
      if (r.run.outcome?.kind === 'rollback') continue
      serveSecond(scenario, second, r.run.weight, r.metrics, r.tally)
    }
    for (const r of runs) await tickDue(r.run, t + 1, r.rule.name)
    // Stop early once nothing can change: every rule decided, and no canary still serves a fault.
    const settled = runs.every((r) => r.run.outcome !== null && (r.run.outcome.kind === 'rollback' || !faulty))
    if (settled) break
  }
  return runs.map((r) => ({ rule: r.rule.name, outcome: r.run.outcome, tally: r.tally }))
}
