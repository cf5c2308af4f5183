/**
 * Sentra's own rule: the controller's tick, minus the store and the target. Each tick does
 * what controller/tick.ts does, with the same functions: evaluateGates (the real built-in
 * provider over the proxy's RED metrics, the real judges), the tick's memory of windows and
 * increments, inconclusive streaks and gate inputs (controller/tick/gates.ts), then the real
 * state machine `decide`, and the loop's next-tick rule (at once while rolling back).
 * Actuation is instant: the decided weight applies from the next simulated second.
 */
import { demoSpec } from '../../../controller/demo/spec.ts'
import { evaluateGates } from '../../../controller/evaluate.ts'
import { JudgeRuns } from '../../../controller/judge-runs.ts'
import { decide } from '../../../controller/rollout.ts'
import type { GateInput, MachineState } from '../../../controller/rollout/types.ts'
import { BuiltinProvider } from '../../../controller/telemetry/builtin.ts'
import { NoDataError, type TelemetryProvider, type WindowQuery, type WindowSample } from '../../../controller/telemetry/provider.ts'
import { type StreakRecord, gateInputs, inconclusiveStreaks, nextTickDelayMs, rememberWindows, streakLookback } from '../../../controller/tick/gates.ts'
import { plannedSteps } from '../../../schema/rollout-steps.ts'
import { type AppSpec, assertSpec } from '../../../schema/spec.ts'
import { BASELINE_VERSION, CANARY_VERSION, EPOCH_MS } from '../simulator.ts'
import type { Rule, RuleContext, RuleOutcome, RuleRun } from './types.ts'

/**
 * The gates the benchmark judges with: the sequential judge's defaults on errors and p95
 * latency (alpha 0.01; errors within +0.5 pp and ×2 of the baseline, p95 within ×1.5), what a
 * spec gets without tuning. The demo's own gates are tuned to promote the demo's good
 * version within a minute at its 100 requests/s (a looser ×5 error ratio), which would let a
 * doubled error rate through.
 */
const SEQUENTIAL_GATES = [
  { name: 'errors', signal: 'errorRate', judge: { kind: 'sequential' } },
  { name: 'latency', signal: 'latencyP95', judge: { kind: 'sequential' } },
]

/** Where the benchmark's Sentra spec came from, for the report. */
export interface SentraPlan {
  spec: AppSpec
  gatesFrom: string
}

/**
 * The spec Sentra is benchmarked with: the demo's (`npm start`) steps, adaptive weights,
 * analysis bounds and inconclusive limit, ticking every `tickSeconds`, with the sequential
 * judge's default gates on errorRate and latencyP95.
 */
export function sentraPlan(tickSeconds: number): SentraPlan {
  const demo = demoSpec()
  const spec = assertSpec({ ...demo, name: 'bench-canary', gates: SEQUENTIAL_GATES, interval: `${tickSeconds}s` })
  return { spec, gatesFrom: 'the sequential judge’s defaults on errorRate and latencyP95 (the demo spec’s steps)' }
}

/** The built-in provider over the rule's metrics, answering "no data" where the scrape is missing. */
class SimulatedProvider implements TelemetryProvider {
  readonly kind = 'builtin'
  readonly #inner: BuiltinProvider
  readonly #telemetryAt: (at: number) => boolean

  constructor(ctx: RuleContext) {
    this.#inner = new BuiltinProvider(() => ctx.metrics)
    this.#telemetryAt = ctx.telemetryAt
  }

  async sample(q: WindowQuery, signal: AbortSignal): Promise<WindowSample> {
    if (!this.#telemetryAt((q.end.getTime() - EPOCH_MS) / 1000)) throw new NoDataError('the telemetry scrape is missing (simulated)')
    return this.#inner.sample(q, signal)
  }

  async ping(): Promise<void> {}
}

class SentraRun implements RuleRun {
  weight = 0
  nextTickAt = 0
  outcome: RuleOutcome | null = null
  readonly #spec: AppSpec
  readonly #providers: ReadonlyMap<string, TelemetryProvider>
  readonly #history = new Map<string, WindowSample[]>()
  readonly #runs = new JudgeRuns()
  /** The gate results the store would hold, for the inconclusive streaks. */
  readonly #results: StreakRecord[] = []
  #state: MachineState

  constructor(spec: AppSpec, ctx: RuleContext) {
    this.#spec = spec
    this.#providers = new Map([['builtin', new SimulatedProvider(ctx)]])
    // As controller/tick.ts's machineState: the steps snapshotted from the spec, `adaptive` read from it.
    this.#state = { status: 'PENDING', stepIndex: 0, stepStartedAt: null, weight: 0, steps: plannedSteps(spec), initial: false, adaptive: spec.strategy.canary?.adaptive ?? null }
  }

  async tick(nowSeconds: number): Promise<void> {
    const spec = this.#spec
    const state = this.#state
    const now = EPOCH_MS + nowSeconds * 1000
    const step = state.steps[state.stepIndex]
    let gates: GateInput[] | null = null
    if (state.status === 'PROGRESSING' && step?.kind === 'analyze' && spec.gates.length > 0) {
      const evaluations = await evaluateGates({
        spec,
        canaryVersion: CANARY_VERSION,
        baselineVersion: BASELINE_VERSION,
        canaryWeight: this.weight,
        stepStartedAt: state.stepStartedAt ?? now,
        now,
        providers: this.#providers,
        history: (provider) => this.#history.get(provider) ?? [],
        runs: this.#runs,
        timeoutMs: Math.min(spec.intervalMs, 10_000),
      })
      rememberWindows(this.#history, evaluations)
      const recent = this.#results.slice(-streakLookback(spec.gates))
      gates = gateInputs(evaluations, inconclusiveStreaks(recent, state.stepIndex, state.stepStartedAt))
      const at = new Date(now)
      for (const { verdict } of evaluations) this.#results.push({ gate: verdict.gate, stepIndex: state.stepIndex, at, verdict: verdict.verdict, evidence: verdict.evidence })
      if (this.#results.length > 4096) this.#results.splice(0, this.#results.length - 1024)
    }
    const decision = decide({ state, gates, command: null, canaryFailure: null, now })
    const next = decision.next
    this.#state = next
    this.weight = next.weight
    if (decision.action === 'ROLLBACK' || decision.action === 'ROLLED_BACK') {
      this.outcome ??= { kind: 'rollback', at: nowSeconds, reason: decision.reason }
    } else if (decision.action === 'PROMOTE') {
      this.outcome = { kind: 'promote', at: nowSeconds, reason: decision.reason }
    } else if (decision.action === 'PAUSE') {
      this.outcome = { kind: 'pause', at: nowSeconds, reason: decision.reason }
    }
    if (decision.finished || next.status === 'PAUSED') {
      // Finished, or waiting for a person (who never comes in a simulation): no more ticks.
      this.nextTickAt = Infinity
      return
    }
    this.nextTickAt = nowSeconds + nextTickDelayMs(next, spec.intervalMs) / 1000
  }
}

export function sentraRule(tickSeconds: number): Rule & { plan: SentraPlan } {
  const plan = sentraPlan(tickSeconds)
  const steps = plan.spec.strategy.canary?.steps ?? []
  const adaptive = plan.spec.strategy.canary?.adaptive ?? null
  const text = steps.map((s) => ('setWeight' in s ? `${s.setWeight} %` : 'analyze' in s ? `analyze(min ${s.analyze.min}${s.analyze.max ? `, max ${s.analyze.max}` : ''})` : 'pause')).join(' → ')
  return {
    name: 'sentra',
    description: `Sentra's controller tick (real judges and state machine), every ${tickSeconds} s; steps ${text}${adaptive ? `; adaptive (maxStep ${adaptive.maxStep}, risk ${adaptive.risk})` : ''}; gates from ${plan.gatesFrom}: ${plan.spec.gates.map((g) => `${g.name} ${g.signal ?? g.query} ${JSON.stringify(g.judge)}`).join(', ')}`,
    unavailable: null,
    plan,
    start: (ctx) => new SentraRun(plan.spec, ctx),
  }
}
