import type { GateSpec } from '../schema/spec.ts'
import type { JudgeRun } from './judges/judge.ts'

/**
 * What sequential judges keep between ticks of one rollout: where each provider's last
 * increment ended (the next one starts there) and each gate's running analysis. Nothing
 * else: a run holds running sums, not the increments, so this stays the same size however
 * long the rollout runs, and its evidence is one growing product (anytime-valid throughout).
 *
 * A gate whose settings change (the application's spec was edited mid-rollout) starts a
 * new run: its evidence restarts from that tick, judged at its new settings only. Lost on
 * a controller restart or takeover, likewise a restart (valid; it only forgets evidence).
 */
export class JudgeRuns {
  readonly #ends = new Map<string, number>()
  readonly #runs = new Map<string, { gate: GateSpec; settings: string; run: JudgeRun }>()

  /** Where the provider's last increment ended (ms since the epoch); null before the first. */
  lastEnd(provider: string): number | null {
    return this.#ends.get(provider) ?? null
  }

  advance(provider: string, end: number): void {
    this.#ends.set(provider, end)
  }

  /** The gate's run: the one kept while its settings are the same, else a new one from `start`. */
  runFor(gate: GateSpec, start: (gate: GateSpec) => JudgeRun): JudgeRun {
    const kept = this.#runs.get(gate.name)
    // The spec cache hands out the same gate object while the spec is unchanged: compared by identity first.
    if (kept !== undefined && kept.gate === gate) return kept.run
    const settings = JSON.stringify(gate)
    if (kept !== undefined && kept.settings === settings) {
      kept.gate = gate
      return kept.run
    }
    const run = start(gate)
    this.#runs.set(gate.name, { gate, settings, run })
    return run
  }

  /** Forgets the runs of gates no longer in the spec. */
  retain(gates: readonly GateSpec[]): void {
    if (this.#runs.size === 0) return
    const names = new Set(gates.map((g) => g.name))
    for (const name of this.#runs.keys()) if (!names.has(name)) this.#runs.delete(name)
  }
}
