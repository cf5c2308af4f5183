/** What every compared rule is to the benchmark: something that sets the canary's weight and one day rolls back or promotes. */
import type { RedMetrics } from '../../../controller/proxy/red-metrics.ts'
import type { Scenario } from '../scenarios.ts'

export type OutcomeKind = 'rollback' | 'promote' | 'pause'

export interface RuleOutcome {
  kind: OutcomeKind
  /** Simulated seconds since the rollout began. */
  at: number
  reason: string
}

export interface RuleContext {
  scenario: Scenario
  /** The rule's own view of the proxy's metrics (fed by the simulator with this rule's weights). */
  metrics: RedMetrics
  /** Whether the telemetry can be read at simulated second `at` (missing scrapes and outages). */
  telemetryAt(at: number): boolean
}

/** One rollout under one rule. The simulator calls `tick(now)` whenever `now >= nextTickAt`. */
export interface RuleRun {
  /** Canary traffic, percent, from now on. */
  readonly weight: number
  /** Simulated second of the next tick; Infinity once finished. */
  readonly nextTickAt: number
  readonly outcome: RuleOutcome | null
  tick(now: number): Promise<void> | void
}

export interface Rule {
  name: string
  /** One line: what it is, with its settings. */
  description: string
  /** null when it can run; else why not (reported, never faked). */
  unavailable: string | null
  start(ctx: RuleContext): RuleRun
}
