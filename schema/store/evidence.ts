import type { Selectable } from 'kysely'
import { rowsPerRollout } from './batch.ts'
import { insertingChildOf } from './errors.ts'
import { deleteEvidenceChunk, markEvidencePruned, PRUNE_CHUNK, rolloutsToPrune } from './evidence-retention.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import { saveTraces, spansOf, tracePages, tracesByRef, type StepKey, type TraceRef, type TracePageOptions } from './linked-traces.ts'
import type { GateResult, LinkedSpan, LinkedTrace, Page, TelemetryWindow, Verdict } from './models.ts'
import type { GateResultsTable, TelemetryWindowsTable } from './tables.ts'
import type { NewLinkedTrace } from './trace-input.ts'
import { parseJsonObject, storedJson, toDate, toMs } from './values.ts'

export type NewGateResult = Omit<GateResult, 'id' | 'at'> & { at?: Date }
export type NewTelemetryWindow = Omit<TelemetryWindow, 'id'>
export type { NewLinkedTrace } from './trace-input.ts'
export { InvalidTraceError, isValidSpanId, isValidTraceId, MAX_SPANS_PER_TRACE } from './trace-input.ts'
export type { StepKey, TraceRef, TracePageOptions } from './linked-traces.ts'

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

/**
 * The evidence a rollout gathers: gate results, telemetry windows (append-only, batched
 * readers return each rollout's rows oldest first) and linked traces (upserted by trace id).
 */
export class EvidenceRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  async addGateResult(input: NewGateResult): Promise<GateResult> {
    const [result] = await this.addGateResults([input])
    return result!
  }

  /**
   * Several gate results in one INSERT (a tick writes one per gate). All of one rollout:
   * an unknown rollout is NotFoundError and writes none of them.
   */
  async addGateResults(inputs: readonly NewGateResult[]): Promise<GateResult[]> {
    const stored = inputs.map((input) => storedJson(input.evidence, 'gate result evidence'))
    const results: GateResult[] = inputs.map((input, i) => ({ ...input, id: newId(), evidence: stored[i]!.copy, at: input.at ?? new Date() }))
    const first = results[0]
    if (first === undefined) return []
    if (results.some((r) => r.rolloutId !== first.rolloutId)) throw new RangeError('addGateResults: every result must belong to the same rollout')
    await insertingChildOf(first.rolloutId, () =>
      this.#db.kysely
        .insertInto('gate_results')
        .values(
          results.map((result, i) => ({
            id: result.id,
            rollout_id: result.rolloutId,
            step_index: result.stepIndex,
            gate: result.gate,
            verdict: result.verdict,
            value: result.value,
            reason: result.reason,
            evidence: stored[i]!.text,
            window_id: result.windowId,
            at: toMs(result.at),
          })),
        )
        .execute(),
    )
    return results
  }

  async addWindow(input: NewTelemetryWindow): Promise<TelemetryWindow> {
    const canary = storedJson(input.canary, 'window canary')
    const baseline = storedJson(input.baseline, 'window baseline')
    const window: TelemetryWindow = { ...input, id: newId(), canary: canary.copy, baseline: baseline.copy }
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
          canary: canary.text,
          baseline: baseline.text,
        })
        .execute(),
    )
    return window
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

  /** Finished rollouts whose windows and gate results are still kept, finished before `finishedBefore`, oldest first (controller/evidence-retention.ts). */
  rolloutsToPrune(finishedBefore: Date, limit: number): Promise<string[]> {
    return rolloutsToPrune(this.#db, finishedBefore, limit)
  }

  /** Deletes up to `limit` of a rollout's windows and of its gate results; how many rows went (0: none left). */
  deleteEvidenceChunk(rolloutId: string, limit = PRUNE_CHUNK): Promise<number> {
    return deleteEvidenceChunk(this.#db, rolloutId, limit)
  }

  /** Records that the rollout's windows and gate results were deleted. */
  markEvidencePruned(rolloutId: string, at: Date): Promise<void> {
    return markEvidencePruned(this.#db, rolloutId, at)
  }

  /**
   * Links traces to rollouts: idempotent on (rolloutId, traceId), so saving a trace again (more
   * spans arrived) replaces its summary and spans. Checked first, written all-or-nothing;
   * invalid ids refuse the save (InvalidTraceError), spans and attributes are capped.
   */
  saveTraces(traces: readonly NewLinkedTrace[]): Promise<void> {
    return saveTraces(this.#db, traces)
  }

  /** A rollout's linked traces, error first, then slowest first, then id; keyset cursor. */
  async tracesPage(rolloutId: string, { stepIndex, ...options }: TracePageOptions & { stepIndex?: number | null }): Promise<Page<LinkedTrace>> {
    const [page] = stepIndex == null ? await tracePages(this.#db, { rolloutIds: [rolloutId] }, options) : await tracePages(this.#db, { steps: [{ rolloutId, stepIndex }] }, options)
    return page!
  }

  /** `tracesPage` for many rollouts in one query (dataloaders), in key order. */
  tracesPages(rolloutIds: readonly string[], options: TracePageOptions): Promise<Page<LinkedTrace>[]> {
    return tracePages(this.#db, { rolloutIds }, options)
  }

  /** `tracesPage` for many rollout steps in one query (dataloaders), in key order. */
  stepTracesPages(steps: readonly StepKey[], options: TracePageOptions): Promise<Page<LinkedTrace>[]> {
    return tracePages(this.#db, { steps }, options)
  }

  /** Linked traces by (rollout, trace id), in key order, null where not linked. One query. */
  tracesByRef(refs: readonly TraceRef[]): Promise<(LinkedTrace | null)[]> {
    return tracesByRef(this.#db, refs)
  }

  /** The stored spans of each trace (by row id), in key order; [] for unknown ids. One query. */
  spansOf(traceRowIds: readonly string[]): Promise<LinkedSpan[][]> {
    return spansOf(this.#db, traceRowIds)
  }
}
