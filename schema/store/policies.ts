import type { Executor } from './executor.ts'

export type PolicyKind = 'policy' | 'guardrail'

export interface StoredPolicy<T = Record<string, unknown>> {
  kind: PolicyKind
  /** The policy's name, or the guardrail's environment. */
  name: string
  spec: T
  createdAt: Date
  updatedAt: Date
}

function toStored<T>(row: { kind: string; name: string; spec: string; created_at: number; updated_at: number }): StoredPolicy<T> {
  return {
    kind: row.kind as PolicyKind,
    name: row.name,
    spec: JSON.parse(row.spec) as T,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  }
}

/** Named policies and per-environment guardrails (validated documents; see schema/policy.ts). */
export class PolicyRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /** Creates or replaces the document of that kind and name. */
  async upsert<T extends object>(kind: PolicyKind, name: string, spec: T, now = Date.now()): Promise<StoredPolicy<T>> {
    const text = JSON.stringify(spec)
    const updated = await this.#db.kysely
      .updateTable('policies')
      .set({ spec: text, updated_at: now })
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst()
    if (Number(updated.numUpdatedRows) === 0) {
      await this.#db.kysely.insertInto('policies').values({ kind, name, spec: text, created_at: now, updated_at: now }).execute()
    }
    return (await this.byName<T>(kind, name))!
  }

  async byName<T = Record<string, unknown>>(kind: PolicyKind, name: string): Promise<StoredPolicy<T> | null> {
    const row = await this.#db.kysely.selectFrom('policies').selectAll().where('kind', '=', kind).where('name', '=', name).executeTakeFirst()
    return row ? toStored<T>(row) : null
  }

  async list<T = Record<string, unknown>>(kind: PolicyKind): Promise<StoredPolicy<T>[]> {
    const rows = await this.#db.kysely.selectFrom('policies').selectAll().where('kind', '=', kind).orderBy('name').execute()
    return rows.map((row) => toStored<T>(row))
  }

  async delete(kind: PolicyKind, name: string): Promise<boolean> {
    const result = await this.#db.kysely.deleteFrom('policies').where('kind', '=', kind).where('name', '=', name).executeTakeFirst()
    return Number(result.numDeletedRows) === 1
  }
}
