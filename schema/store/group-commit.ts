import type { DialectName } from './connect.ts'
import type { Store } from './index.ts'

/** Writes committed together at most: bounds how long one batch holds the database's write lock (SQLite) or its rows' locks (MySQL). */
export const DEFAULT_GROUP_COMMIT_BATCH = 64

export interface GroupCommitStats {
  /** Transactions committed (or attempted). */
  batches: number
  /** Writes run in them. */
  runs: number
}

/**
 * Whether a controller groups its ticks' commits on this store by default. On SQLite every
 * write goes through one connection anyway, and a batch saves most of each commit (about a
 * third of the controller's time per tick, docs/benchmarks.md). On MySQL a batch runs its
 * writes one after another on one pooled connection, where ticks committing alone use the
 * whole pool at once: on loopback it measured no better, and with a database a millisecond
 * away it would cap the ticks per second at one connection's round trips.
 */
export function groupsCommitsByDefault(dialect: DialectName): boolean {
  return dialect === 'sqlite'
}

/** What one run's own `fn` threw, told apart from an error of the savepoint around it. */
class OwnFailure {
  constructor(readonly error: unknown) {}
}

interface Pending {
  fn: (tx: Store) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Commits the writes of several callers in one transaction. Each caller's `run(fn)` is what
 * `store.transaction(fn)` is to it: `fn`'s writes are all committed or none, and the promise
 * settles only once they are durable (or known not to be). What changes is the cost: a
 * commit (SQLite: the log frames of every page it changed, and now and then a checkpoint's
 * fsync; MySQL: a round trip and the redo log's flush) is paid once per batch, and writes
 * that land on the same pages (the evidence tables' newest index pages) share them.
 *
 * How a batch forms: `run` queues `fn` and schedules a flush after the current turn of the
 * event loop, so that the other ticks due now reach their writes first; writes queued while
 * a batch commits go into the next one. Nobody waits for a batch to fill.
 *
 * Isolation: each `fn` runs under its own savepoint, so one that throws has its writes undone
 * and its caller gets its error, while the rest of the batch commits. If the batch itself is
 * lost (the commit fails, MySQL rolls the transaction back on a deadlock, the connection is
 * dropped) every caller in it gets that error and nothing of the batch is stored, as when a
 * single transaction fails. Callers must not depend on each other's writes in a batch: each
 * sees the others' writes that ran before it, uncommitted.
 */
export class GroupCommit {
  readonly #store: Store
  readonly #maxBatch: number
  #queue: Pending[] = []
  #scheduled = false
  #flushing = false
  readonly #stats: GroupCommitStats = { batches: 0, runs: 0 }

  constructor(store: Store, { maxBatch = DEFAULT_GROUP_COMMIT_BATCH }: { maxBatch?: number } = {}) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a whole number ≥ 1, got ${maxBatch}`)
    this.#store = store
    this.#maxBatch = maxBatch
  }

  get stats(): GroupCommitStats {
    return { ...this.#stats }
  }

  run<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    this.#flushing = true
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch)
        await this.#commit(batch)
      }
    } finally {
      this.#flushing = false
    }
  }

  async #commit(batch: readonly Pending[]): Promise<void> {
    this.#stats.batches++
    this.#stats.runs += batch.length
    if (batch.length === 1) {
      // Alone: its own transaction, without the savepoint's two extra statements.
      const [only] = batch as [Pending]
      await this.#store.transaction(only.fn).then(only.resolve, only.reject)
      return
    }
    const settled: (() => void)[] = []
    try {
      await this.#store.transaction(async (tx) => {
        for (const entry of batch) {
          try {
            const value = await tx.savepoint((inner) => entry.fn(inner).catch((error: unknown) => Promise.reject(new OwnFailure(error))))
            settled.push(() => entry.resolve(value))
          } catch (error) {
            // Its own error, its writes undone: the rest of the batch goes on. Anything else
            // (the savepoint could not be rolled back to) means the transaction is lost.
            if (!(error instanceof OwnFailure)) throw error
            entry.reject(error.error)
          }
        }
      })
    } catch (error) {
      for (const entry of batch) entry.reject(error)
      return
    }
    for (const settle of settled) settle()
  }
}
