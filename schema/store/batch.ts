import { sql, type Kysely, type Selectable } from 'kysely'
import type { Database } from './tables.ts'

/** Helpers for the batched readers dataloaders call: one query for many keys, results in key order. */

/** One result per key, in key order; null where no row has that key. */
export function inKeyOrder<R, T>(keys: readonly string[], rows: readonly R[], keyOf: (row: R) => string, toModel: (row: R) => T): (T | null)[] {
  const byKey = new Map<string, T>()
  for (const row of rows) byKey.set(keyOf(row), toModel(row))
  return keys.map((key) => byKey.get(key) ?? null)
}

/** Rows grouped per key, in key order (each group keeps the rows' order); [] for unknown keys. */
export function groupInKeyOrder<R, T>(keys: readonly string[], rows: readonly R[], keyOf: (row: R) => string, toModel: (row: R) => T): T[][] {
  const groups = new Map<string, T[]>()
  for (const row of rows) {
    const key = keyOf(row)
    const group = groups.get(key)
    if (group) group.push(toModel(row))
    else groups.set(key, [toModel(row)])
  }
  return keys.map((key) => groups.get(key) ?? [])
}

/** Throws unless `last` is absent or a non-negative integer. */
export function checkLast(last: number | null | undefined): void {
  if (last != null && (!Number.isInteger(last) || last < 0)) throw new RangeError(`last must be a non-negative integer, got ${last}`)
}

/** Tables whose rows belong to a rollout, have an `id`, and are read newest-last. */
export type PerRolloutTable = 'gate_results' | 'telemetry_windows' | 'traces' | 'decisions'

/**
 * The rows of several rollouts in ONE query, grouped in key order, chronological (by
 * `orderColumn`, then id) within each group. With `last`, only the most recent `last` rows of
 * each rollout, chosen by `ROW_NUMBER() OVER (PARTITION BY rollout_id ...)`.
 */
export async function rowsPerRollout<T extends PerRolloutTable>(
  kysely: Kysely<Database>,
  table: T,
  orderColumn: keyof Database[T] & string,
  rolloutIds: readonly string[],
  last?: number | null,
): Promise<Selectable<Database[T]>[][]> {
  type Row = Selectable<Database[T]> & { rollout_id: string }
  checkLast(last)
  if (rolloutIds.length === 0) return []
  if (last === 0) return rolloutIds.map(() => [])
  const unique = [...new Set(rolloutIds)]
  const order = sql.ref(orderColumn)
  if (last != null && unique.length === 1) {
    // One rollout (every controller tick): walk the (rollout_id, orderColumn) index backwards
    // and stop after `last` rows. The window function below ranks every row of the rollout
    // first, which grows with the analysis (1,440 gate results after an hour of 5 s ticks:
    // ~10x slower; bench/controller, docs/benchmarks.md).
    const { rows } = await sql<Row>`select * from ${sql.table(table)} where rollout_id = ${unique[0]} order by ${order} desc, id desc limit ${last}`.execute(kysely)
    return groupInKeyOrder(rolloutIds, rows.reverse(), (row) => row.rollout_id, (row): Selectable<Database[T]> => row)
  }
  const ids = sql.join(unique)
  const query =
    last == null
      ? sql<Row>`select * from ${sql.table(table)} where rollout_id in (${ids}) order by rollout_id, ${order}, id`
      : sql<Row>`select * from (
          select t.*, row_number() over (partition by t.rollout_id order by ${sql.ref(`t.${orderColumn}`)} desc, t.id desc) as rn
          from ${sql.table(table)} t where t.rollout_id in (${ids})
        ) ranked where rn <= ${last} order by rollout_id, ${order}, id`
  const { rows } = await query.execute(kysely)
  return groupInKeyOrder(rolloutIds, rows, (row) => row.rollout_id, (row): Selectable<Database[T]> => row)
}
