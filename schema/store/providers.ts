import type { ProviderSpec } from '../provider-spec.ts'
import type { Executor } from './executor.ts'

export interface StoredProvider {
  spec: ProviderSpec
  createdAt: Date
  updatedAt: Date
}

function toStored(row: { config: string; created_at: number; updated_at: number }): StoredProvider {
  return { spec: JSON.parse(row.config) as ProviderSpec, createdAt: new Date(Number(row.created_at)), updatedAt: new Date(Number(row.updated_at)) }
}

/** Declared telemetry providers, by name. */
export class ProviderRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /** Creates or replaces the provider of that name. */
  async upsert(spec: ProviderSpec, now = Date.now()): Promise<StoredProvider> {
    const config = JSON.stringify(spec)
    const updated = await this.#db.kysely
      .updateTable('providers')
      .set({ kind: spec.kind, config, updated_at: now })
      .where('name', '=', spec.name)
      .executeTakeFirst()
    if (Number(updated.numUpdatedRows) === 0) {
      await this.#db.kysely.insertInto('providers').values({ name: spec.name, kind: spec.kind, config, created_at: now, updated_at: now }).execute()
    }
    return (await this.byName(spec.name))!
  }

  async byName(name: string): Promise<StoredProvider | null> {
    const row = await this.#db.kysely.selectFrom('providers').selectAll().where('name', '=', name).executeTakeFirst()
    return row ? toStored(row) : null
  }

  async list(): Promise<StoredProvider[]> {
    const rows = await this.#db.kysely.selectFrom('providers').selectAll().orderBy('name').execute()
    return rows.map(toStored)
  }

  /** The newest change time, so a controller can tell cheaply whether to reload. */
  async version(): Promise<string> {
    const row = await this.#db.kysely
      .selectFrom('providers')
      .select((eb) => [eb.fn.max('updated_at').as('latest'), eb.fn.countAll().as('count')])
      .executeTakeFirst()
    return `${Number(row?.latest ?? 0)}:${Number(row?.count ?? 0)}`
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.#db.kysely.deleteFrom('providers').where('name', '=', name).executeTakeFirst()
    return Number(result.numDeletedRows) === 1
  }
}
