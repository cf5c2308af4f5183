/**
 * Merging a list query's rows with the rollouts that subscription events carry: the newer
 * (by per-rollout sequence number) wins, rollouts created since the query appear, and the
 * list keeps its order (newest first). Pure; unit-tested in test/web.
 */
export interface Sequenced {
  id: string
  seq: number
  createdAt: string
}

/** Keeps the newest version of each rollout an event carried. */
export function overlayEvent<T extends Sequenced>(overlay: ReadonlyMap<string, T> | undefined, rollout: T): Map<string, T> {
  const next = new Map(overlay ?? [])
  const known = next.get(rollout.id)
  if (!known || rollout.seq >= known.seq) next.set(rollout.id, rollout)
  return next
}

export function mergeRows<T extends Sequenced>(rows: readonly T[], overlay: ReadonlyMap<string, T> | undefined, keep: (row: T) => boolean = () => true): T[] {
  const byId = new Map<string, T>()
  for (const row of rows) byId.set(row.id, row)
  for (const [id, live] of overlay ?? []) {
    const known = byId.get(id)
    if (!known || live.seq >= known.seq) byId.set(id, live)
  }
  return [...byId.values()].filter(keep).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : -1))
}

/** The fresher of two views of one rollout (the query's and the subscription's). */
export function newer<T extends { seq: number }>(a: T | null | undefined, b: T | null | undefined): T | null {
  if (!a) return b ?? null
  if (!b) return a
  return b.seq >= a.seq ? b : a
}
