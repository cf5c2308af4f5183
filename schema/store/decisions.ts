import type { Kysely, Selectable } from 'kysely'
import { rowsPerRollout } from './batch.ts'
import { ChainVerifier, decisionHash, GENESIS_HASH, type ChainContent, type ChainPosition, type ChainReport, type ChainRow } from './decision-chain.ts'
import { ConflictError, NotFoundError, isForeignKeyViolation, isUniqueViolation } from './errors.ts'
import type { LastOption } from './evidence.ts'
import { inTransaction, type Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { Decision } from './models.ts'
import type { Database, DecisionsTable } from './tables.ts'
import { parseJsonObject, storedJson, toDate, toMs } from './values.ts'

/** How many times an append that owns its transaction tries again after losing a chain race. */
const CHAIN_ATTEMPTS = 3
/** Rows per page when verifying the log. */
const VERIFY_PAGE_SIZE = 500

export interface VerifyOptions {
  /** Only this rollout's chain. */
  rolloutId?: string
  /** Go on from where an earlier call stopped (its `next`). */
  after?: ChainPosition | null
  pageSize?: number
  /** Stop after about this many rows (at a page end) and return `next`. */
  maxRows?: number
  /** Stop after the page that ends past this many milliseconds and return `next`. */
  budgetMs?: number
}

export interface VerifyResult extends ChainReport {
  /** Where to go on (pass as `after`); null when the end of the log was reached. */
  next: ChainPosition | null
}

/** True when a unique violation is the (rollout_id, chain_seq) index rather than (rollout_id, seq). */
function isChainViolation(error: unknown): boolean {
  const message = error instanceof Error ? error.message : ''
  return /decisions_by_rollout_chain|decisions\.chain_seq/.test(message)
}

/** A stored row as the chain verifier reads it (numbers as numbers whatever the driver gives). */
export function toChainRow(row: Selectable<DecisionsTable>): ChainRow {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    seq: Number(row.seq),
    chainSeq: Number(row.chain_seq),
    at: Number(row.at),
    action: row.action,
    actor: row.actor,
    reason: row.reason,
    stepIndex: Number(row.step_index),
    fromWeight: Number(row.from_weight),
    toWeight: Number(row.to_weight),
    evidence: row.evidence,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

export type NewDecision = Omit<Decision, 'id' | 'at'> & { at?: Date }

export function toDecision(row: Selectable<DecisionsTable>): Decision {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    seq: Number(row.seq),
    at: toDate(row.at),
    action: row.action,
    actor: row.actor,
    reason: row.reason,
    stepIndex: Number(row.step_index),
    fromWeight: Number(row.from_weight),
    toWeight: Number(row.to_weight),
    evidence: parseJsonObject(row.evidence, `decisions.evidence of ${row.id}`),
  }
}

/**
 * The decision log: append-only (no method changes or removes a decision), one decision per
 * (rollout, seq), read in seq order, and hash-chained per rollout (docs/audit.md).
 */
export class DecisionRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /**
   * Writes a decision as the next link of its rollout's hash chain (decision-chain.ts): it
   * takes the rollout's row lock (MySQL; SQLite writes one at a time), reads the chain head,
   * and inserts with chain_seq = head + 1 and prev_hash = the head's hash, all in one
   * transaction (the caller's, if it has one). A second decision with the same rollout and
   * seq is a ConflictError; so is losing a race for the next chain link inside the caller's
   * transaction (outside one, the append retries).
   */
  async append(input: NewDecision): Promise<Decision> {
    const { text: evidence, copy } = storedJson(input.evidence, 'decision evidence')
    const decision: Decision = { ...input, id: newId(), evidence: copy, at: input.at ?? new Date() }
    const ownsTransaction = !this.#db.kysely.isTransaction
    for (let attempt = 1; ; attempt++) {
      try {
        await inTransaction(this.#db.kysely, (trx) => this.#insertLink(trx, decision, evidence))
        return decision
      } catch (error) {
        if (error instanceof NotFoundError) throw error
        if (isForeignKeyViolation(error)) throw new NotFoundError(`rollout ${decision.rolloutId} not found`)
        if (!isUniqueViolation(error)) throw error
        if (!isChainViolation(error)) throw new ConflictError(`rollout ${decision.rolloutId} already has a decision with seq ${decision.seq}`)
        if (!ownsTransaction || attempt >= CHAIN_ATTEMPTS) {
          throw new ConflictError(`another writer appended to the decision log of rollout ${decision.rolloutId} at the same time; nothing was written`)
        }
      }
    }
  }

  async #insertLink(trx: Kysely<Database>, decision: Decision, evidence: string): Promise<void> {
    const mysql = this.#db.dialect === 'mysql'
    // Appenders of one rollout queue on its row. The head is then read without a lock of its
    // own: a locking read of a rollout's (often empty) range of the chain index took a gap
    // lock, and two rollouts whose ids share a gap deadlocked on their first decisions
    // (test/faults/balance-processes.test.ts). A head read from an older REPEATABLE READ
    // snapshot cannot break the chain either: the unique (rollout, chain_seq) index refuses the
    // link, and the append fails as a concurrent write (retried here when it owns the transaction).
    if (mysql) {
      const owner = await trx.selectFrom('rollouts').select('id').where('id', '=', decision.rolloutId).forUpdate().executeTakeFirst()
      if (!owner) throw new NotFoundError(`rollout ${decision.rolloutId} not found`)
    }
    const headQuery = trx
      .selectFrom('decisions')
      .select(['chain_seq', 'hash'])
      .where('rollout_id', '=', decision.rolloutId)
      .orderBy('chain_seq', 'desc')
      .limit(1)
    const head = await headQuery.executeTakeFirst()
    const content: ChainContent = {
      id: decision.id,
      rolloutId: decision.rolloutId,
      seq: decision.seq,
      chainSeq: head ? Number(head.chain_seq) + 1 : 1,
      at: toMs(decision.at),
      action: decision.action,
      actor: decision.actor,
      reason: decision.reason,
      stepIndex: decision.stepIndex,
      fromWeight: decision.fromWeight,
      toWeight: decision.toWeight,
      evidence,
      prevHash: head?.hash ?? GENESIS_HASH,
    }
    const hash = decisionHash(content)
    await trx
      .insertInto('decisions')
      .values({
        id: content.id,
        rollout_id: content.rolloutId,
        seq: content.seq,
        at: content.at,
        action: content.action,
        actor: content.actor,
        reason: content.reason,
        step_index: content.stepIndex,
        from_weight: content.fromWeight,
        to_weight: content.toWeight,
        evidence: content.evidence,
        chain_seq: content.chainSeq,
        prev_hash: content.prevHash,
        hash,
      })
      .execute()
  }

  /**
   * Recomputes every rollout's hash chain (or one rollout's) and reports the first broken
   * link. Reads the log in pages of `pageSize` rows in (rollout_id, chain_seq) order, so a
   * large log never sits in memory. Decisions appended while it runs may or may not be
   * included; they never show as breaks.
   *
   * To spread a large log over several calls (requests with a deadline): `maxRows` and
   * `budgetMs` stop it after the page that reaches either, and `next` says where to go on;
   * pass it back as `after`. The counts of consecutive calls add up.
   */
  async verify({
    rolloutId,
    after = null,
    pageSize = VERIFY_PAGE_SIZE,
    maxRows = Number.POSITIVE_INFINITY,
    budgetMs = Number.POSITIVE_INFINITY,
  }: VerifyOptions = {}): Promise<VerifyResult> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`)
    if (!(maxRows >= 1)) throw new RangeError(`maxRows must be at least 1, got ${maxRows}`)
    if (after !== null && rolloutId !== undefined && after.rolloutId !== rolloutId) throw new RangeError('after belongs to another rollout')
    const started = performance.now()
    const verifier = new ChainVerifier(after)
    let checked = 0
    for (;;) {
      const limit = Math.min(pageSize, maxRows - checked)
      const from = verifier.position()
      let query = this.#db.kysely.selectFrom('decisions').selectAll()
      if (rolloutId !== undefined) query = query.where('rollout_id', '=', rolloutId)
      if (from !== null) {
        query = query.where((eb) =>
          eb.or([eb('rollout_id', '>', from.rolloutId), eb.and([eb('rollout_id', '=', from.rolloutId), eb('chain_seq', '>', from.chainSeq)])]),
        )
      }
      const rows = await query.orderBy('rollout_id').orderBy('chain_seq').limit(limit).execute()
      for (const row of rows) verifier.push(toChainRow(row))
      checked += rows.length
      if (rows.length < limit) return { ...verifier.report(), next: null }
      if (checked >= maxRows || performance.now() - started >= budgetMs) return { ...verifier.report(), next: verifier.position() }
    }
  }

  /** One query; per rollout in key order, in seq order (oldest first); `last` keeps the newest N. */
  async for(rolloutIds: readonly string[], { last }: LastOption = {}): Promise<Decision[][]> {
    const groups = await rowsPerRollout(this.#db.kysely, 'decisions', 'seq', rolloutIds, last)
    return groups.map((rows) => rows.map(toDecision))
  }

  /** One query; the latest decision of each rollout in key order, null where there is none. */
  async lastFor(rolloutIds: readonly string[]): Promise<(Decision | null)[]> {
    const groups = await this.for(rolloutIds, { last: 1 })
    return groups.map((decisions) => decisions[0] ?? null)
  }
}
