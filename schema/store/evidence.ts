import type { Selectable } from 'kysely'
import { rowsPerRollout } from './batch.ts'
import { insertingChildOf } from './errors.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { GateResult, LinkedTrace, TelemetryWindow, Verdict } from './models.ts'
import type { GateResultsTable, TelemetryWindowsTable, TracesTable } from './tables.ts'
import { jsonCopy, parseJsonObject, toDate, toJsonText, toMs } from './values.ts'

export type NewGateResult = Omit<GateResult, 'id' | 'at'> & { at?: Date }
export type NewTelemetryWindow = Omit<TelemetryWindow, 'id'>
export type NewLinkedTrace = Omit<LinkedTrace, 'id'>

/** How many of the most recent rows per rollout to read; absent = all. */
export interface LastOption {
  last?: number | null
}

export function toGateResult(row: Selectable<GateResultsTable>): GateResult {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    stepIndex: Number(row.step_index),
    gate: row.gate,
    verdict: row.verdict as Verdict,
    value: row.value === null ? null : Number(row.value),
    reason: row.reason,
    evidence: parseJsonObject(row.evidence, `gate_results.evidence of ${row.id}`),
    windowId: row.window_id,
    at: toDate(row.at),
  }
}

export function toTelemetryWindow(row: Selectable<TelemetryWindowsTable>): TelemetryWindow {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    stepIndex: Number(row.step_index),
    provider: row.provider,
    startAt: toDate(row.start_at),
    endAt: toDate(row.end_at),
    canary: parseJsonObject(row.canary, `telemetry_windows.canary of ${row.id}`),
    baseline: parseJsonObject(row.baseline, `telemetry_windows.baseline of ${row.id}`),
  }
}

export function toLinkedTrace(row: Selectable<TracesTable>): LinkedTrace {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    stepIndex: Number(row.step_index),
    traceId: row.trace_id,
    version: row.version,
    status: row.status,
    durationMs: Number(row.duration_ms),
    rootName: row.root_name,
    at: toDate(row.at),
  }
}

/**
 * The evidence a rollout gathers: gate results, telemetry windows and linked traces.
 * Append-only; the batched readers return each rollout's rows oldest first.
 */
export class EvidenceRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  async addGateResult(input: NewGateResult): Promise<GateResult> {
    const result: GateResult = { ...input, id: newId(), evidence: jsonCopy(input.evidence), at: input.at ?? new Date() }
    await insertingChildOf(result.rolloutId, () =>
      this.#db.kysely
        .insertInto('gate_results')
        .values({
          id: result.id,
          rollout_id: result.rolloutId,
          step_index: result.stepIndex,
          gate: result.gate,
          verdict: result.verdict,
          value: result.value,
          reason: result.reason,
          evidence: toJsonText(result.evidence, 'gate result evidence'),
          window_id: result.windowId,
          at: toMs(result.at),
        })
        .execute(),
    )
    return result
  }

  async addWindow(input: NewTelemetryWindow): Promise<TelemetryWindow> {
    const window: TelemetryWindow = { ...input, id: newId(), canary: jsonCopy(input.canary), baseline: jsonCopy(input.baseline) }
    await insertingChildOf(window.rolloutId, () =>
      this.#db.kysely
        .insertInto('telemetry_windows')
        .values({
          id: window.id,
          rollout_id: window.rolloutId,
          step_index: window.stepIndex,
          provider: window.provider,
          start_at: toMs(window.startAt),
          end_at: toMs(window.endAt),
          canary: toJsonText(window.canary, 'window canary'),
          baseline: toJsonText(window.baseline, 'window baseline'),
        })
        .execute(),
    )
    return window
  }

  async addTrace(input: NewLinkedTrace): Promise<LinkedTrace> {
    const trace: LinkedTrace = { ...input, id: newId() }
    await insertingChildOf(trace.rolloutId, () =>
      this.#db.kysely
        .insertInto('traces')
        .values({
          id: trace.id,
          rollout_id: trace.rolloutId,
          step_index: trace.stepIndex,
          trace_id: trace.traceId,
          version: trace.version,
          status: trace.status,
          duration_ms: trace.durationMs,
          root_name: trace.rootName,
          at: toMs(trace.at),
        })
        .execute(),
    )
    return trace
  }

  /** One query; per rollout in key order, chronological by `at`. */
  async gateResultsFor(rolloutIds: readonly string[], { last }: LastOption = {}): Promise<GateResult[][]> {
    const groups = await rowsPerRollout(this.#db.kysely, 'gate_results', 'at', rolloutIds, last)
    return groups.map((rows) => rows.map(toGateResult))
  }

  /** One query; per rollout in key order, chronological by window end. */
  async windowsFor(rolloutIds: readonly string[], { last }: LastOption = {}): Promise<TelemetryWindow[][]> {
    const groups = await rowsPerRollout(this.#db.kysely, 'telemetry_windows', 'end_at', rolloutIds, last)
    return groups.map((rows) => rows.map(toTelemetryWindow))
  }

  /** One query; per rollout in key order, chronological by `at`. */
  async tracesFor(rolloutIds: readonly string[], { last }: LastOption = {}): Promise<LinkedTrace[][]> {
    const groups = await rowsPerRollout(this.#db.kysely, 'traces', 'at', rolloutIds, last)
    return groups.map((rows) => rows.map(toLinkedTrace))
  }
}
