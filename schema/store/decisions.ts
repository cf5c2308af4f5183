import type { Selectable } from 'kysely'
import { rowsPerRollout } from './batch.ts'
import { ConflictError, NotFoundError, isForeignKeyViolation, isUniqueViolation } from './errors.ts'
import type { LastOption } from './evidence.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { Decision } from './models.ts'
import type { DecisionsTable } from './tables.ts'
import { jsonCopy, parseJsonObject, toDate, toJsonText, toMs } from './values.ts'

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

/** The decision log: append-only, one decision per (rollout, seq), read in seq order. */
export class DecisionRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /** Writes a decision; a second one with the same rollout and seq is a ConflictError. */
  async append(input: NewDecision): Promise<Decision> {
    const decision: Decision = { ...input, id: newId(), evidence: jsonCopy(input.evidence), at: input.at ?? new Date() }
    try {
      await this.#db.kysely
        .insertInto('decisions')
        .values({
          id: decision.id,
          rollout_id: decision.rolloutId,
          seq: decision.seq,
          at: toMs(decision.at),
          action: decision.action,
          actor: decision.actor,
          reason: decision.reason,
          step_index: decision.stepIndex,
          from_weight: decision.fromWeight,
          to_weight: decision.toWeight,
          evidence: toJsonText(decision.evidence, 'decision evidence'),
        })
        .execute()
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError(`rollout ${decision.rolloutId} not found`)
      if (!isUniqueViolation(error)) throw error
      throw new ConflictError(`rollout ${decision.rolloutId} already has a decision with seq ${decision.seq}`)
    }
    return decision
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
