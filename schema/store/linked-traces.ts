import { sql, type Kysely } from 'kysely'
import { groupInKeyOrder, inKeyOrder } from './batch.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { isForeignKeyViolation, NotFoundError } from './errors.ts'
import { inTransaction, type Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { LinkedSpan, LinkedTrace, Page, TraceSource } from './models.ts'
import { checkFirst, pageOf } from './page.ts'
import type { Database, TracesTable } from './tables.ts'
import { checkTrace, type CheckedTrace, type NewLinkedTrace } from './trace-input.ts'
import { parseJsonObject, toDate, toMs } from './values.ts'

/**
 * SQL for linked traces: the idempotent save, the ranked pages (error first, slowest first,
 * then id) and the span reader. EvidenceRepository exposes these.
 */

const LIST = 'traces'

/** Every column but `spans`: lists never read the span text. */
const SUMMARY = [
  'id',
  'rollout_id',
  'step_index',
  'trace_id',
  'version',
  'status',
  'duration_ms',
  'root_name',
  'at',
  'application',
  'service',
  'error',
  'source',
  'span_count',
] as const satisfies readonly (keyof TracesTable)[]

type SummaryRow = Pick<TracesTable, (typeof SUMMARY)[number]>

export interface TracePageOptions {
  /** Only traces with an error. */
  errorOnly?: boolean
  first: number
  after?: string | null
}

/** A step whose traces are asked for. */
export interface StepKey {
  rolloutId: string
  stepIndex: number
}

/** A linked trace named by its trace id within a rollout (how decisions refer to them). */
export interface TraceRef {
  rolloutId: string
  traceId: string
}

export function toLinkedTrace(row: SummaryRow): LinkedTrace {
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
    application: row.application,
    service: row.service,
    error: Number(row.error) === 1,
    source: row.source as TraceSource,
    spanCount: Number(row.span_count),
  }
}

function cursorOf(row: SummaryRow): string {
  return encodeCursor(LIST, [Number(row.error), Number(row.duration_ms), row.id])
}

/** Inserts or replaces traces by (rollout, trace id); all-or-nothing. */
export async function saveTraces(db: Executor, traces: readonly NewLinkedTrace[]): Promise<void> {
  // Check everything before writing anything; within one save the last copy of a trace wins.
  const byKey = new Map<string, CheckedTrace>()
  for (const input of traces) {
    const checked = checkTrace(input)
    byKey.set(`${checked.trace.rolloutId}\u0000${checked.trace.traceId}`, checked)
  }
  if (byKey.size === 0) return
  const rows = [...byKey.values()].map(({ trace, spans }) => ({
    id: newId(),
    rollout_id: trace.rolloutId,
    step_index: trace.stepIndex,
    trace_id: trace.traceId,
    version: trace.version,
    status: trace.status,
    duration_ms: trace.durationMs,
    root_name: trace.rootName,
    at: toMs(trace.at),
    application: trace.application,
    service: trace.service,
    error: trace.error ? 1 : 0,
    source: trace.source,
    span_count: trace.spanCount,
    spans: JSON.stringify(spans),
  }))
  try {
    await inTransaction(db.kysely, async (trx) => {
      for (const chunk of chunks(rows)) await upsert(trx, db.dialect, chunk)
    })
  } catch (error) {
    if (!isForeignKeyViolation(error)) throw error
    // Name the rollout that is missing (the batch may span several).
    const ids = [...new Set(rows.map((r) => r.rollout_id))]
    const found = new Set((await db.kysely.selectFrom('rollouts').select('id').where('id', 'in', ids).execute()).map((r) => r.id))
    throw new NotFoundError(`rollout ${ids.find((id) => !found.has(id)) ?? ids[0]} not found`)
  }
}

type TraceRow = TracesTable & { spans: string }

/** Statements of at most 100 rows and ~4 MiB of span text, well under MySQL's packet limit. */
function* chunks(rows: readonly TraceRow[]): Generator<TraceRow[]> {
  let chunk: TraceRow[] = []
  let size = 0
  for (const row of rows) {
    if (chunk.length > 0 && (chunk.length >= 100 || size + row.spans.length > 4 * 1024 * 1024)) {
      yield chunk
      chunk = []
      size = 0
    }
    chunk.push(row)
    size += row.spans.length
  }
  if (chunk.length > 0) yield chunk
}

const REPLACED = ['step_index', 'version', 'status', 'duration_ms', 'root_name', 'at', 'application', 'service', 'error', 'source', 'span_count', 'spans'] as const

async function upsert(trx: Kysely<Database>, dialect: Executor['dialect'], rows: TraceRow[]): Promise<void> {
  const insert = trx.insertInto('traces').values(rows)
  if (dialect === 'mysql') {
    const set = Object.fromEntries(REPLACED.map((c) => [c, sql`values(${sql.ref(c)})`]))
    await insert.onDuplicateKeyUpdate(set).execute()
  } else {
    const set = Object.fromEntries(REPLACED.map((c) => [c, sql`excluded.${sql.ref(c)}`]))
    await insert.onConflict((oc) => oc.columns(['rollout_id', 'trace_id']).doUpdateSet(set)).execute()
  }
}

/**
 * One page per rollout (or per step with `steps`), in key order, from ONE query: each
 * partition is ranked error first, slowest first, then id, and cut at first + 1 rows.
 */
export async function tracePages(
  db: Executor,
  keys: { rolloutIds: readonly string[] } | { steps: readonly StepKey[] },
  { errorOnly = false, first, after }: TracePageOptions,
): Promise<Page<LinkedTrace>[]> {
  checkFirst(first)
  const byStep = 'steps' in keys
  const keyList = byStep ? keys.steps.map((s) => `${s.rolloutId}:${s.stepIndex}`) : keys.rolloutIds
  const rolloutIds = byStep ? keys.steps.map((s) => s.rolloutId) : keys.rolloutIds
  const position = after == null ? null : decodeCursor(LIST, after, ['number', 'number', 'string'])
  if (keyList.length === 0) return []
  const conditions = [sql`rollout_id in (${sql.join([...new Set(rolloutIds)])})`]
  if (byStep) conditions.push(sql`step_index in (${sql.join([...new Set(keys.steps.map((s) => s.stepIndex))])})`)
  if (errorOnly) conditions.push(sql`${sql.ref('error')} = 1`)
  if (position !== null) {
    const [error, duration, id] = position
    conditions.push(
      sql`(${sql.ref('error')} < ${error} or (${sql.ref('error')} = ${error} and (duration_ms < ${duration} or (duration_ms = ${duration} and id > ${id}))))`,
    )
  }
  // The outer order keeps each partition's rank order, so groups come out ranked.
  const partition = byStep ? sql`rollout_id, step_index` : sql`rollout_id`
  const columns = sql.join(SUMMARY.map((c) => sql.ref(c)))
  const { rows } = await sql<SummaryRow>`select ${columns} from (
      select ${columns}, row_number() over (partition by ${partition} order by ${sql.ref('error')} desc, duration_ms desc, id asc) as rn
      from traces where ${sql.join(conditions, sql` and `)}
    ) ranked where rn <= ${first + 1} order by ${partition}, rn`.execute(db.kysely)
  const groups = groupInKeyOrder(keyList, rows, (row) => (byStep ? `${row.rollout_id}:${Number(row.step_index)}` : row.rollout_id), (row) => row)
  return groups.map((group) => pageOf(group, first, toLinkedTrace, cursorOf))
}

/** Traces by (rollout, trace id), in key order; null for ids that are not linked. One query. */
export async function tracesByRef(db: Executor, refs: readonly TraceRef[]): Promise<(LinkedTrace | null)[]> {
  if (refs.length === 0) return []
  const rolloutIds = [...new Set(refs.map((r) => r.rolloutId))]
  const traceIds = [...new Set(refs.map((r) => r.traceId.toLowerCase()))]
  const rows = await db.kysely.selectFrom('traces').select(SUMMARY).where('rollout_id', 'in', rolloutIds).where('trace_id', 'in', traceIds).execute()
  return inKeyOrder(
    refs.map((r) => `${r.rolloutId}:${r.traceId.toLowerCase()}`),
    rows,
    (row) => `${row.rollout_id}:${row.trace_id}`,
    toLinkedTrace,
  )
}

/** The stored spans of each trace row id, in key order (start order within); [] for unknown ids. */
export async function spansOf(db: Executor, traceRowIds: readonly string[]): Promise<LinkedSpan[][]> {
  if (traceRowIds.length === 0) return []
  const rows = await db.kysely.selectFrom('traces').select(['id', 'spans']).where('id', 'in', [...new Set(traceRowIds)]).execute()
  const found = inKeyOrder(traceRowIds, rows, (row) => row.id, (row) =>
    row.spans === null ? [] : parseJsonObject<LinkedSpan[]>(row.spans, `traces.spans of ${row.id}`),
  )
  return found.map((spans) => spans ?? [])
}
