import { sql } from 'kysely'
import type { Executor } from './executor.ts'
import { inTransaction } from './executor.ts'

/** Counts the OTLP receiver keeps per application, version and second. */
export interface OtlpCounts {
  spans: number
  errorSpans: number
  traces: number
  errorTraces: number
  logs: number
  errorLogs: number
}

/** One second of one version: counts plus the span-duration histogram (bucket -> count). */
export interface OtlpSecond extends OtlpCounts {
  application: string
  version: string
  /** Epoch seconds. */
  second: number
  durations: ReadonlyMap<number, number>
}

/** A version over a window: the sums of its seconds. */
export interface OtlpWindow extends OtlpCounts {
  durations: Map<number, number>
}

export function emptyCounts(): OtlpCounts {
  return { spans: 0, errorSpans: 0, traces: 0, errorTraces: 0, logs: 0, errorLogs: 0 }
}

/** Rows per INSERT: well under SQLite's 32766 bound variables and MySQL's packet size. */
const CHUNK = 500

/**
 * The OTLP receiver's aggregates (migration 006). Writes only add: several receivers (one
 * per server process) may flush the same second, and each adds its counts to the row.
 */
export class OtlpRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /** Adds the seconds' counts and histograms to what is stored, in one transaction. */
  async add(seconds: readonly OtlpSecond[]): Promise<void> {
    if (seconds.length === 0) return
    for (const s of seconds) checkSecond(s)
    const counts = seconds.map((s) => ({
      application: s.application,
      version: s.version,
      second: s.second,
      spans: s.spans,
      error_spans: s.errorSpans,
      traces: s.traces,
      error_traces: s.errorTraces,
      logs: s.logs,
      error_logs: s.errorLogs,
    }))
    const durations = seconds.flatMap((s) =>
      [...s.durations].filter(([, count]) => count > 0).map(([bucket, count]) => ({ application: s.application, version: s.version, second: s.second, bucket, count })),
    )
    const mysql = this.#db.dialect === 'mysql'
    await inTransaction(this.#db.kysely, async (trx) => {
      for (let i = 0; i < counts.length; i += CHUNK) {
        const insert = trx.insertInto('otlp_aggregates').values(counts.slice(i, i + CHUNK))
        await (mysql
          ? insert.onDuplicateKeyUpdate({
              spans: sql`spans + VALUES(spans)`,
              error_spans: sql`error_spans + VALUES(error_spans)`,
              traces: sql`traces + VALUES(traces)`,
              error_traces: sql`error_traces + VALUES(error_traces)`,
              logs: sql`logs + VALUES(logs)`,
              error_logs: sql`error_logs + VALUES(error_logs)`,
            })
          : insert.onConflict((oc) =>
              oc.columns(['application', 'version', 'second']).doUpdateSet({
                spans: sql`otlp_aggregates.spans + excluded.spans`,
                error_spans: sql`otlp_aggregates.error_spans + excluded.error_spans`,
                traces: sql`otlp_aggregates.traces + excluded.traces`,
                error_traces: sql`otlp_aggregates.error_traces + excluded.error_traces`,
                logs: sql`otlp_aggregates.logs + excluded.logs`,
                error_logs: sql`otlp_aggregates.error_logs + excluded.error_logs`,
              }),
            )
        ).execute()
      }
      for (let i = 0; i < durations.length; i += CHUNK) {
        const insert = trx.insertInto('otlp_durations').values(durations.slice(i, i + CHUNK))
        await (mysql
          ? insert.onDuplicateKeyUpdate({ count: sql`${sql.ref('count')} + VALUES(${sql.ref('count')})` })
          : insert.onConflict((oc) => oc.columns(['application', 'version', 'second', 'bucket']).doUpdateSet({ count: sql`otlp_durations.count + excluded.count` }))
        ).execute()
      }
    })
  }

  /**
   * Each version's sums over the seconds that overlap [fromMs, toMs): a window edge inside
   * a second includes that whole second, as the proxy's per-second counts do. Versions with
   * no rows are absent from the map (no data, not zeros).
   */
  async window(application: string, versions: readonly string[], fromMs: number, toMs: number): Promise<Map<string, OtlpWindow>> {
    const result = new Map<string, OtlpWindow>()
    if (versions.length === 0 || !(toMs > fromMs)) return result
    const first = Math.floor(fromMs / 1000)
    const last = Math.ceil(toMs / 1000) - 1
    const db = this.#db.kysely
    const rows = await db
      .selectFrom('otlp_aggregates')
      .select((eb) => [
        'version',
        eb.fn.sum<number | string>('spans').as('spans'),
        eb.fn.sum<number | string>('error_spans').as('error_spans'),
        eb.fn.sum<number | string>('traces').as('traces'),
        eb.fn.sum<number | string>('error_traces').as('error_traces'),
        eb.fn.sum<number | string>('logs').as('logs'),
        eb.fn.sum<number | string>('error_logs').as('error_logs'),
      ])
      .where('application', '=', application)
      .where('version', 'in', [...versions])
      .where('second', '>=', first)
      .where('second', '<=', last)
      .groupBy('version')
      .execute()
    for (const row of rows) {
      result.set(row.version, {
        spans: Number(row.spans),
        errorSpans: Number(row.error_spans),
        traces: Number(row.traces),
        errorTraces: Number(row.error_traces),
        logs: Number(row.logs),
        errorLogs: Number(row.error_logs),
        durations: new Map(),
      })
    }
    if (result.size === 0) return result
    const buckets = await db
      .selectFrom('otlp_durations')
      .select((eb) => ['version', 'bucket', eb.fn.sum<number | string>('count').as('count')])
      .where('application', '=', application)
      .where('version', 'in', [...result.keys()])
      .where('second', '>=', first)
      .where('second', '<=', last)
      .groupBy(['version', 'bucket'])
      .execute()
    for (const row of buckets) result.get(row.version)?.durations.set(Number(row.bucket), Number(row.count))
    return result
  }

  /** Deletes every second before `beforeMs`; returns the aggregate rows deleted. */
  async prune(beforeMs: number): Promise<number> {
    const before = Math.floor(beforeMs / 1000)
    await this.#db.kysely.deleteFrom('otlp_durations').where('second', '<', before).execute()
    const result = await this.#db.kysely.deleteFrom('otlp_aggregates').where('second', '<', before).executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}

function checkSecond(s: OtlpSecond): void {
  const counts = [s.spans, s.errorSpans, s.traces, s.errorTraces, s.logs, s.errorLogs, ...s.durations.values(), ...s.durations.keys()]
  if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`OTLP counts must be non-negative integers (${s.application} ${s.version} ${s.second})`)
  if (!Number.isSafeInteger(s.second)) throw new RangeError(`second must be an integer, got ${s.second}`)
  if (s.application.length === 0 || s.application.length > 63) throw new RangeError('application must be 1-63 characters')
  if (s.version.length === 0 || s.version.length > 64) throw new RangeError('version must be 1-64 characters')
}
