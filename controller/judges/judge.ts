import type { GateSpec } from '../../schema/spec.ts'
import type { Json, Verdict } from '../../schema/store/models.ts'
import type { WindowSample } from '../telemetry/provider.ts'

/** One gate's verdict on the latest window, with what decided it (stored and shown as evidence). */
export interface GateVerdict {
  gate: string
  verdict: Verdict
  /** The canary's value the verdict rests on; null when there was none. */
  value: number | null
  /** The baseline's value, where the judge compared against one. */
  baseline: number | null
  /** Plain words: "error rate 7.9 % vs 0.4 % baseline over the last 20 s; limit +1 %". */
  reason: string
  /** Thresholds, sample counts, window bounds: everything needed to re-check the verdict. */
  evidence: { [key: string]: Json }
}

/**
 * Pure: judges never fetch. `history` is the gate's windows, oldest first, the current one
 * last; an empty history or a window with no value is INCONCLUSIVE, never PASS.
 */
export interface Judge {
  readonly kind: string
  judge(history: readonly WindowSample[], gate: GateSpec): GateVerdict
  /**
   * Judges that multiply evidence over time (sequential): a running analysis of `gate`, fed
   * one window at a time. `judge(history)` equals a run fed `history`.
   */
  start?(gate: GateSpec): JudgeRun
}

/**
 * A running analysis: fed windows oldest first, it keeps only what its tests need (running
 * sums), never the windows, so a tick costs the same in an analysis's first minute and its
 * fifth hour, and its evidence is one growing product however long it runs.
 */
export interface JudgeRun {
  /** Windows added so far. */
  readonly samples: number
  add(sample: WindowSample): void
  /** The verdict on everything added so far. */
  verdict(): GateVerdict
}
