/**
 * What "no state changed" means for the fuzz test: a digest of every row a request could
 * write (applications, rollouts and their steps, decisions, commands, tokens, providers,
 * policies, webhooks), and row counts for the failure message. Token `last_used_at` is left
 * out: authenticating a request may stamp it, by design.
 *
 * On SQLite the connection's `total_changes()` tells cheaply whether anything was written
 * at all, so the digest is computed only when it moved.
 */
import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import type { Store } from '../../schema/store/index.ts'

const TABLES = [
  'applications',
  'rollouts',
  'rollout_steps',
  'gate_results',
  'telemetry_windows',
  'traces',
  'decisions',
  'operator_commands',
  'api_tokens',
  'providers',
  'policies',
  'webhook_subscriptions',
  'webhook_deliveries',
] as const

const IGNORED_COLUMNS: Partial<Record<(typeof TABLES)[number], readonly string[]>> = { api_tokens: ['last_used_at'] }

export interface Snapshot {
  digest: string
  counts: Record<string, number>
}

export async function snapshot(store: Store): Promise<Snapshot> {
  const hash = createHash('sha256')
  const counts: Record<string, number> = {}
  for (const table of TABLES) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(store.db.kysely)).rows
    const ignored = IGNORED_COLUMNS[table] ?? []
    const lines = rows
      .map((row) => JSON.stringify(Object.keys(row).sort().filter((k) => !ignored.includes(k)).map((k) => [k, normal(row[k])])))
      .sort()
    counts[table] = rows.length
    hash.update(`${table}\n${lines.join('\n')}\n`)
  }
  return { digest: hash.digest('hex'), counts }
}

function normal(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return value.toString('base64')
  if (value instanceof Date) return value.getTime()
  return value
}

/** Tracks the store across requests: `changed()` says whether anything was written since the last call. */
export class StateProbe {
  readonly #store: Store
  #marker: string | null = null
  #last: Snapshot | null = null

  constructor(store: Store) {
    this.#store = store
  }

  get last(): Snapshot | null {
    return this.#last
  }

  async #readMarker(): Promise<string | null> {
    if (this.#store.db.dialect !== 'sqlite') return null
    const result = await sql<{ n: number }>`select total_changes() as n`.execute(this.#store.db.kysely)
    return String(result.rows[0]?.n)
  }

  /** Takes the baseline. */
  async reset(): Promise<Snapshot> {
    this.#marker = await this.#readMarker()
    this.#last = await snapshot(this.#store)
    return this.#last
  }

  /** Whether the store differs from the baseline; the baseline moves to now either way. */
  async changed(): Promise<{ changed: boolean; before: Snapshot; after: Snapshot }> {
    const before = this.#last ?? (await this.reset())
    const marker = await this.#readMarker()
    if (marker !== null && marker === this.#marker) return { changed: false, before, after: before }
    this.#marker = marker
    const after = await snapshot(this.#store)
    this.#last = after
    return { changed: after.digest !== before.digest, before, after }
  }
}
