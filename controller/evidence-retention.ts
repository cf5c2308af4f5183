import type { Store } from '../schema/store/index.ts'
import { type LeaseManager, rolloutLeaseName } from './leases.ts'

/** How often a controller looks for finished rollouts whose evidence has expired. */
export const PRUNE_EVERY_MS = 10 * 60_000
/** Rollouts read per query while pruning. */
const ROLLOUTS_PER_READ = 100
/** A pass stops after this long and the next one goes on: the store serves ticks and the API meanwhile. */
const PASS_BUDGET_MS = 5_000

export interface EvidenceRetentionOptions {
  store: Store
  /** A rollout that finished longer ago than this loses its telemetry windows and gate results. */
  retentionMs: number
  /** Its Redis fencing counters go with the evidence (the store's lease and fence rows always do). */
  leases?: LeaseManager
  everyMs?: number
  log?: (line: string) => void
  clock?: () => number
}

export interface PruneResult {
  /** Rollouts whose evidence is now all deleted. */
  rollouts: number
  /** Windows and gate results deleted. */
  rows: number
  /** The pass stopped at its time budget with expired evidence left. */
  more: boolean
}

/**
 * Every tick of an analysis writes a telemetry window and a result per gate: a day-long
 * analysis at 5 s ticks leaves about 17,000 windows and 35,000 gate results, and a store kept
 * them all forever. A controller deletes those of rollouts that finished more than
 * `retentionMs` ago (SENTRA_EVIDENCE_RETENTION_DAYS), in small statements with the event
 * loop free between them, and with them the rollout's lease and fence rows. What a
 * decision rests on stays: the decisions (hash-chained, with their evidence and the numbers
 * in their reasons), the rollout and its steps, linked traces.
 * Every controller may run it: deletes of the same rows are idempotent.
 */
export class EvidencePruner {
  readonly #options: Required<Omit<EvidenceRetentionOptions, 'log' | 'leases'>> & Pick<EvidenceRetentionOptions, 'log' | 'leases'>
  #timer: NodeJS.Timeout | null = null
  #followUp: NodeJS.Timeout | null = null
  #running: Promise<PruneResult> | null = null
  #stopped = false

  constructor(options: EvidenceRetentionOptions) {
    if (!(options.retentionMs > 0)) throw new RangeError(`evidence retention must be positive (got ${options.retentionMs} ms)`)
    this.#options = { everyMs: PRUNE_EVERY_MS, clock: Date.now, ...options }
  }

  /** Prunes now and then every `everyMs`. */
  start(): void {
    if (this.#timer || this.#stopped) return
    const pass = (): void => {
      this.runOnce().then(
        ({ more }) => {
          // A backlog (months of evidence when retention is first turned on) goes on after a
          // pause as long as the pass, not ten minutes later.
          if (!more || this.#stopped || this.#followUp) return
          this.#followUp = setTimeout(() => {
            this.#followUp = null
            pass()
          }, PASS_BUDGET_MS)
          this.#followUp.unref()
        },
        (error: unknown) => this.#options.log?.(`evidence retention: pass failed, next in ${Math.round(this.#options.everyMs / 1000)} s: ${error instanceof Error ? error.message : String(error)}`),
      )
    }
    this.#timer = setInterval(pass, this.#options.everyMs)
    this.#timer.unref()
    pass()
  }

  /** One pass (joins the one running): deletes expired evidence until none is left, the budget is spent, or stop(). */
  runOnce(): Promise<PruneResult> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null
    })
    return this.#running
  }

  async #pass(): Promise<PruneResult> {
    const { store, retentionMs, clock, log } = this.#options
    const started = clock()
    const before = new Date(started - retentionMs)
    const result: PruneResult = { rollouts: 0, rows: 0, more: false }
    const spent = (): boolean => this.#stopped || clock() - started > PASS_BUDGET_MS
    for (;;) {
      const ids = await store.evidence.rolloutsToPrune(before, ROLLOUTS_PER_READ)
      for (const id of ids) {
        for (let deleted = await store.evidence.deleteEvidenceChunk(id); deleted > 0; deleted = await store.evidence.deleteEvidenceChunk(id)) {
          result.rows += deleted
          // better-sqlite3 is synchronous: let ticks and requests in between statements.
          await new Promise((resolve) => setImmediate(resolve))
          if (spent()) return this.#report(result)
        }
        await this.#forgetLeases(id)
        await store.evidence.markEvidencePruned(id, new Date(clock()))
        result.rollouts++
        if (spent()) return this.#report(result)
      }
      if (ids.length < ROLLOUTS_PER_READ) break
    }
    if (result.rollouts > 0) log?.(`evidence retention: deleted ${result.rows} windows and gate results of ${result.rollouts} rollouts finished before ${before.toISOString()}`)
    return result
  }

  /**
   * The rollout's lease and fence rows (and Redis counters) would otherwise stay forever, one
   * set per rollout ever run. Redis being down does not hold the evidence back: its counters
   * are a few bytes, and one left behind does no harm.
   */
  async #forgetLeases(rolloutId: string): Promise<void> {
    const { store, leases, log } = this.#options
    const names = [rolloutLeaseName(rolloutId)]
    await store.leases.forget(names)
    await leases?.forget?.(names).catch((error: unknown) => log?.(`evidence retention: cannot forget the Redis fencing counter of rollout ${rolloutId}: ${error instanceof Error ? error.message : String(error)}`))
  }

  #report(result: PruneResult): PruneResult {
    if (this.#stopped) return result
    this.#options.log?.(`evidence retention: deleted ${result.rows} windows and gate results (${result.rollouts} rollouts done); the next pass goes on`)
    return { ...result, more: true }
  }

  /** No pass starts any more; waits for the running one to stop after its current statement. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    if (this.#followUp) clearTimeout(this.#followUp)
    this.#timer = null
    this.#followUp = null
    await this.#running?.catch(() => undefined)
  }
}
