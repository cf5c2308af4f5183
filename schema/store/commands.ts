import type { Selectable } from 'kysely'
import { groupInKeyOrder } from './batch.ts'
import { ConflictError, NotFoundError, insertingChildOf } from './errors.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { CommandKind, OperatorCommand } from './models.ts'
import type { OperatorCommandsTable } from './tables.ts'
import { monotonicNow, toDate, toDateOrNull } from './values.ts'

export interface RecordCommandInput {
  rolloutId: string
  kind: CommandKind
  /** PROMOTE only: all the way rather than to the next step. */
  full?: boolean
  actor: string
  reason?: string | null
}

export function toOperatorCommand(row: Selectable<OperatorCommandsTable>): OperatorCommand {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    kind: row.kind as CommandKind,
    full: Number(row.full) !== 0,
    actor: row.actor,
    reason: row.reason,
    createdAt: toDate(row.created_at),
    appliedAt: toDateOrNull(row.applied_at),
    outcome: row.outcome,
  }
}

/**
 * Operator commands (promote, pause, ...): recorded by the API, applied by the controller
 * that holds the rollout, oldest first.
 */
export class CommandRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  async record({ rolloutId, kind, full = false, actor, reason = null }: RecordCommandInput): Promise<OperatorCommand> {
    // Strictly increasing within a process so two quick commands keep their order.
    const command: OperatorCommand = {
      id: newId(),
      rolloutId,
      kind,
      full,
      actor,
      reason,
      createdAt: new Date(monotonicNow()),
      appliedAt: null,
      outcome: null,
    }
    await insertingChildOf(rolloutId, () =>
      this.#db.kysely
        .insertInto('operator_commands')
        .values({
          id: command.id,
          rollout_id: rolloutId,
          kind,
          full: full ? 1 : 0,
          actor,
          reason,
          created_at: command.createdAt.getTime(),
          applied_at: null,
          outcome: null,
        })
        .execute(),
    )
    return command
  }

  /** Commands not applied yet (of one rollout, or of all), oldest first. */
  async pending(rolloutId?: string): Promise<OperatorCommand[]> {
    let query = this.#db.kysely.selectFrom('operator_commands').selectAll().where('applied_at', 'is', null)
    if (rolloutId !== undefined) query = query.where('rollout_id', '=', rolloutId)
    const rows = await query.orderBy('created_at').orderBy('id').execute()
    return rows.map(toOperatorCommand)
  }

  /** Marks a pending command applied with what came of it; applying one twice is a ConflictError. */
  async markApplied(id: string, outcome: string): Promise<void> {
    const result = await this.#db.kysely
      .updateTable('operator_commands')
      .set({ applied_at: Date.now(), outcome })
      .where('id', '=', id)
      .where('applied_at', 'is', null)
      .executeTakeFirst()
    if (result.numUpdatedRows > 0n) return
    const found = await this.#db.kysely.selectFrom('operator_commands').select('id').where('id', '=', id).executeTakeFirst()
    if (!found) throw new NotFoundError(`command ${id} not found`)
    throw new ConflictError(`command ${id} was already applied`)
  }

  /** One query; every command per rollout in key order, oldest first. */
  async for(rolloutIds: readonly string[]): Promise<OperatorCommand[][]> {
    if (rolloutIds.length === 0) return []
    const rows = await this.#db.kysely
      .selectFrom('operator_commands')
      .selectAll()
      .where('rollout_id', 'in', [...new Set(rolloutIds)])
      .orderBy('rollout_id')
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return groupInKeyOrder(rolloutIds, rows, (row) => row.rollout_id, toOperatorCommand)
  }
}
