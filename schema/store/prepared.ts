import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely'
import type { Executor } from './executor.ts'
import type { Database } from './tables.ts'

/** Where a compiled parameter comes from: one of the caller's values, or a constant of the statement itself (the 1 of `seq + 1`). */
type Slot = { readonly value: number } | { readonly constant: unknown }

interface Compiled {
  readonly sql: string
  readonly slots: readonly Slot[]
}

/** Shapes kept per process; a caller whose shapes outnumber this still works, compiling each time. */
export const MAX_PREPARED_SHAPES = 256

const STAND_IN = '\u0000sentra-value:'

function standIn(index: number): string {
  return `${STAND_IN}${index}\u0000`
}

/**
 * A statement whose shape is fixed and whose values change, built and compiled by Kysely once
 * per dialect and shape, then run with new values. Building and compiling the same few
 * statements again for every tick was about a tenth of the controller's CPU
 * (bench/controller); SQLite's statement cache (sqlite-statements.ts) already reuses the
 * compiled SQL text.
 *
 * `build` gets stand-ins in place of the values and must hand each one to Kysely as a value,
 * so that it becomes a parameter: it may not branch on them, inline them (`sql.lit`, `sql.raw`)
 * or drop one. Whatever else decides the SQL (a column present or not, a row count, a lock)
 * belongs in `shape`, and a shape names one statement: the first `build` run for a shape is the
 * SQL of every later run (the cache is per process, shared by every store). A stand-in that
 * does not come out as exactly one kind of parameter is a programming error, thrown at the
 * first run.
 */
export class PreparedStatements {
  readonly #compiled = new Map<string, Compiled>()
  readonly #capacity: number

  constructor(capacity = MAX_PREPARED_SHAPES) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`prepared statement capacity must be a non-negative integer (got ${capacity})`)
    this.#capacity = capacity
  }

  run<R, V extends readonly unknown[]>(db: Executor, shape: string, values: V, build: (kysely: Kysely<Database>, values: V) => Compilable<R>): Promise<QueryResult<R>> {
    const key = `${db.dialect}\u0000${shape}`
    let compiled = this.#compiled.get(key)
    if (compiled === undefined) {
      compiled = compile(db.kysely, values.length, (kysely, standIns) => build(kysely, standIns as unknown as V), shape)
      if (this.#compiled.size < this.#capacity) this.#compiled.set(key, compiled)
    }
    const parameters = compiled.slots.map((slot) => ('value' in slot ? values[slot.value] : slot.constant))
    return db.kysely.executeQuery(CompiledQuery.raw(compiled.sql, parameters)) as Promise<QueryResult<R>>
  }

  /** How many shapes are compiled (for tests). */
  get size(): number {
    return this.#compiled.size
  }
}

function compile(kysely: Kysely<Database>, count: number, build: (kysely: Kysely<Database>, standIns: readonly string[]) => Compilable<unknown>, shape: string): Compiled {
  const standIns = Array.from({ length: count }, (_, i) => standIn(i))
  const query = build(kysely, standIns).compile()
  if (query.sql.includes(STAND_IN)) throw new Error(`prepared statement "${shape}": a value was written into the SQL instead of passed as a parameter`)
  const used = new Set<number>()
  const slots = query.parameters.map((parameter): Slot => {
    const index = typeof parameter === 'string' ? standIns.indexOf(parameter) : -1
    if (index === -1) {
      if (typeof parameter === 'string' && parameter.includes(STAND_IN)) throw new Error(`prepared statement "${shape}": a value was changed before it became a parameter`)
      return { constant: parameter }
    }
    used.add(index)
    return { value: index }
  })
  if (used.size !== count) throw new Error(`prepared statement "${shape}": ${count - used.size} of its ${count} values are not parameters of the SQL`)
  return { sql: query.sql, slots }
}

/** The process's statements: one cache serves every store, keyed by dialect. */
export const prepared = new PreparedStatements()
