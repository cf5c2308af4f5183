import type { Selectable } from 'kysely'
import { rowsPerRollout } from './batch.ts'
import { insertingChildOf } from './errors.ts'
import { deleteEvidenceChunk, markEvidencePruned, PRUNE_CHUNK, rolloutsToPrune } from './evidence-retention.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import { prepared } from './prepared.ts'
import { saveTraces, spansOf, tracePages, tracesByRef, type StepKey, type TraceRef, type TracePageOptions } from './linked-traces.ts'
import type { GateResult, LinkedSpan, LinkedTrace, Page, TelemetryWindow, Verdict } from './models.ts'
import type { GateResultsTable, TelemetryWindowsTable } from './tables.ts'
import type { NewLinkedTrace } from './trace-input.ts'
import { parseJsonObject, storedJson, toDate, toJsonText, toMs } from './values.ts'

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
   * an unknown rollout is NotFoundError and writes none of them. Returns them as they read
   * back (evidence through JSON: undefined dropped, NaN as null).
   */
  async addGateResults(inputs: readonly NewGateResult[]): Promise<GateResult[]> {
    const stored = inputs.map((input) => storedJson(input.evidence, 'gate result evidence'))
    const results: GateResult[] = inputs.map((input, i) => ({ ...input, id: newId(), evidence: stored[i]!.copy, at: input.at ?? new Date() }))
    await this.#insertGateResults(results, stored.map((s) => s.text))
    return results
  }

  /**
   * As addGateResults, without reading the evidence back (a tick never reads what it just
   * wrote, and parsing each copy was a noticeable share of its CPU): each row's id and time.
   */
  async writeGateResults(inputs: readonly NewGateResult[]): Promise<Pick<GateResult, 'id' | 'at'>[]> {
    const texts = inputs.map((input) => toJsonText(input.evidence, 'gate result evidence'))
    const results = inputs.map((input) => ({ ...input, id: newId(), at: input.at ?? new Date() }))
    await this.#insertGateResults(results, texts)
    return results.map(({ id, at }) => ({ id, at }))
  }

  async #insertGateResults(results: readonly Omit<GateResult, 'evidence'>[], evidenceTexts: readonly string[]): Promise<void> {
    const first = results[0]
    if (first === undefined) return
    if (results.some((r) => r.rolloutId !== first.rolloutId)) throw new RangeError('addGateResults: every result must belong to the same rollout')
    const values = results.flatMap((result, i) => [result.id, result.rolloutId, result.stepIndex, result.gate, result.verdict, result.value, result.reason, evidenceTexts[i]!, result.windowId, toMs(result.at)])
    // Every tick writes these: prepared once per row count (prepared.ts).
    await insertingChildOf(first.rolloutId, () =>
      prepared.run(this.#db, `gate_results.insert:${results.length}`, values, (kysely, v) =>
        kysely.insertInto('gate_results').values(
          results.map((_, i) => {
            const [id, rolloutId, stepIndex, gate, verdict, value, reason, evidence, windowId, at] = v.slice(i * 10, i * 10 + 10) as [string, string, number, string, string, number | null, string, string, string | null, number]
            return { id, rollout_id: rolloutId, step_index: stepIndex, gate, verdict, value, reason, evidence, window_id: windowId, at }
          }),
        ),
      ),
    )
  }

  /** Stores a telemetry window; returns it as it reads back. */
  async addWindow(input: NewTelemetryWindow): Promise<TelemetryWindow> {
    const canary = storedJson(input.canary, 'window canary')
    const baseline = storedJson(input.baseline, 'window baseline')
    const window: TelemetryWindow = { ...input, id: newId(), canary: canary.copy, baseline: baseline.copy }
    await this.#insertWindow(window, canary.text, baseline.text)
    return window
  }

  /** As addWindow, without reading the values back (see writeGateResults): the new window's id. */
  async writeWindow(input: NewTelemetryWindow): Promise<string> {
    const id = newId()
    await this.#insertWindow({ ...input, id }, toJsonText(input.canary, 'window canary'), toJsonText(input.baseline, 'window baseline'))
    return id
  }

  async #insertWindow(window: Omit<TelemetryWindow, 'canary' | 'baseline'>, canaryText: string, baselineText: string): Promise<void> {
    const values = [window.id, window.rolloutId, window.stepIndex, window.provider, toMs(window.startAt), toMs(window.endAt), canaryText, baselineText] as const
    await insertingChildOf(window.rolloutId, () =>
      prepared.run(this.#db, 'telemetry_windows.insert', values, (kysely, [id, rolloutId, stepIndex, provider, startAt, endAt, canary, baseline]) =>
        kysely.insertInto('telemetry_windows').values({ id, rollout_id: rolloutId, step_index: stepIndex, provider, start_at: startAt, end_at: endAt, canary, baseline }),
      ),
    )
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
