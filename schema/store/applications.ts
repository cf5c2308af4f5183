import type { Selectable } from 'kysely'
import { inKeyOrder } from './batch.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { NotFoundError, isUniqueViolation } from './errors.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { Application, Page } from './models.ts'
import { checkFirst, pageOf } from './page.ts'
import type { ApplicationsTable } from './tables.ts'
import { parseJsonObject, toDate, toJsonText } from './values.ts'

type Row = Selectable<ApplicationsTable>

const LIST = 'applications'

export function toApplication(row: Row): Application {
  return {
    id: row.id,
    name: row.name,
    spec: parseJsonObject(row.spec, `applications.spec of ${row.name}`),
    stableVersion: row.stable_version,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  }
}

/** Applications by name; the spec is stored as given (validate it before, in schema/spec.ts). */
export class ApplicationRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /** Inserts the application, or replaces the spec of the one with this name (keeping its id and stable version). */
  async upsert(name: string, spec: object): Promise<Application> {
    const text = toJsonText(spec, 'application spec')
    const now = Date.now()
    const replace = async (): Promise<bigint> => {
      const result = await this.#db.kysely
        .updateTable('applications')
        .set({ spec: text, updated_at: now })
        .where('name', '=', name)
        .executeTakeFirst()
      return result.numUpdatedRows
    }
    if ((await replace()) === 0n) {
      try {
        await this.#db.kysely
          .insertInto('applications')
          .values({ id: newId(), name, spec: text, stable_version: null, created_at: now, updated_at: now })
          .execute()
      } catch (error) {
        // Someone inserted the same name between our update and insert: replace theirs.
        if (!isUniqueViolation(error)) throw error
        await replace()
      }
    }
    const application = await this.byName(name)
    if (!application) throw new NotFoundError(`application "${name}" disappeared while being written`)
    return application
  }

  async byName(name: string): Promise<Application | null> {
    const row = await this.#db.kysely.selectFrom('applications').selectAll().where('name', '=', name).executeTakeFirst()
    return row ? toApplication(row) : null
  }

  async byId(id: string): Promise<Application | null> {
    const [application] = await this.byIds([id])
    return application ?? null
  }

  /** One query; results in key order, null for unknown ids. */
  async byIds(ids: readonly string[]): Promise<(Application | null)[]> {
    if (ids.length === 0) return []
    const rows = await this.#db.kysely
      .selectFrom('applications')
      .selectAll()
      .where('id', 'in', [...new Set(ids)])
      .execute()
    return inKeyOrder(ids, rows, (row) => row.id, toApplication)
  }

  /** Ordered by name; `after` is the cursor of the last item seen. */
  /** `names`: only applications with one of these names (a per-application token's); null = all. */
  async list({ first, after, names = null }: { first: number; after?: string | null; names?: readonly string[] | null }): Promise<Page<Application>> {
    checkFirst(first)
    let query = this.#db.kysely.selectFrom('applications').selectAll()
    if (names !== null) query = names.length === 0 ? query.where((eb) => eb.lit(false)) : query.where('name', 'in', [...names])
    if (after != null) {
      const [name] = decodeCursor(LIST, after, ['string'])
      query = query.where('name', '>', name)
    }
    const rows = await query.orderBy('name').limit(first + 1).execute()
    return pageOf(rows, first, toApplication, (row) => encodeCursor(LIST, [row.name]))
  }

  async setStableVersion(id: string, version: string | null): Promise<void> {
    const result = await this.#db.kysely
      .updateTable('applications')
      .set({ stable_version: version, updated_at: Date.now() })
      .where('id', '=', id)
      .executeTakeFirst()
    if (result.numUpdatedRows === 0n) throw new NotFoundError(`application ${id} not found`)
  }
}
