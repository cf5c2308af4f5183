import type { Insertable, Selectable, Updateable } from 'kysely'
import { groupInKeyOrder, inKeyOrder } from './batch.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { ConflictError, NotFoundError, isForeignKeyViolation, isUniqueViolation } from './errors.ts'
import { inTransaction, type Executor } from './executor.ts'
import { newId } from './ids.ts'
import { prepared } from './prepared.ts'
import {
  ACTIVE_STATUSES,
  type Application,
  type Page,
  type Rollout,
  type RolloutStatus,
  type RolloutStep,
  type StepKind,
  type StepStatus,
} from './models.ts'
import { checkFirst, pageOf } from './page.ts'
import type { RolloutStepsTable, RolloutsTable } from './tables.ts'
import { parseJsonObject, toDate, toDateOrNull, toJsonText, toMs, toMsOrNull } from './values.ts'

type Row = Selectable<RolloutsTable>
type StepRow = Selectable<RolloutStepsTable>

const LIST = 'rollouts'

export type RolloutPatch = Partial<
  Pick<Rollout, 'status' | 'desiredWeight' | 'canaryWeight' | 'currentStepIndex' | 'stepStartedAt' | 'startedAt' | 'finishedAt'>
>
export type RolloutStepPatch = Partial<Pick<RolloutStep, 'status' | 'startedAt' | 'finishedAt'>>

export interface CreateRolloutInput {
  application: Application
  toVersion: string
  steps: readonly { kind: StepKind; spec: object }[]
  now?: Date
}

export interface ListRolloutsInput {
  first: number
  after?: string | null
  /** Application name. */
  application?: string | null
  /** Any of these statuses; null or an empty list means every status. */
  statuses?: readonly RolloutStatus[] | null
  /** Only rollouts of these applications (a per-application token's); null = all, empty = none. */
  applications?: readonly string[] | null
}

export function isActiveStatus(status: RolloutStatus): boolean {
  return ACTIVE_STATUSES.includes(status)
}

export function toRollout(row: Row): Rollout {
  return {
    id: row.id,
    applicationId: row.application_id,
    applicationName: row.application_name,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    status: row.status as RolloutStatus,
    desiredWeight: Number(row.desired_weight),
    canaryWeight: Number(row.canary_weight),
    currentStepIndex: Number(row.current_step_index),
    stepStartedAt: toDateOrNull(row.step_started_at),
    seq: Number(row.seq),
    createdAt: toDate(row.created_at),
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    updatedAt: toDate(row.updated_at),
    // undefined too: a row read at a schema before migration 010 (the upgrade tests).
    evidencePrunedAt: row.evidence_pruned_at == null ? null : toDate(row.evidence_pruned_at),
  }
}

/** What `update` wrote, as `toRollout` would read it back (dates at the store's millisecond precision). */
function applyPatch(current: Rollout, patch: RolloutPatch, updatedAtMs: number): Rollout {
  const at = (date: Date | null | undefined, was: Date | null): Date | null => (date === undefined ? was : date === null ? null : new Date(date.getTime()))
  return {
    ...current,
    status: patch.status ?? current.status,
    desiredWeight: patch.desiredWeight ?? current.desiredWeight,
    canaryWeight: patch.canaryWeight ?? current.canaryWeight,
    currentStepIndex: patch.currentStepIndex ?? current.currentStepIndex,
    stepStartedAt: at(patch.stepStartedAt, current.stepStartedAt),
    startedAt: at(patch.startedAt, current.startedAt),
    finishedAt: at(patch.finishedAt, current.finishedAt),
    seq: current.seq + 1,
    updatedAt: new Date(updatedAtMs),
  }
}

export function toRolloutStep(row: StepRow): RolloutStep {
  return {
    rolloutId: row.rollout_id,
    index: Number(row.idx),
    kind: row.kind as StepKind,
    spec: parseJsonObject(row.spec, `rollout_steps.spec of ${row.rollout_id}[${row.idx}]`),
    status: row.status as StepStatus,
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
  }
}

/** Rollouts and their steps. Only the controller changes a rollout after `create`. */
export class RolloutRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  /**
   * Creates a PENDING rollout and its steps in one transaction. An application holds one
   * active rollout at a time (unique `active_key`); a second one is a ConflictError and
   * writes nothing.
   */
  async create({ application, toVersion, steps, now = new Date() }: CreateRolloutInput): Promise<Rollout> {
    const at = toMs(now)
    const row: Insertable<RolloutsTable> & Omit<Row, 'evidence_pruned_at'> = {
      id: newId(),
      application_id: application.id,
      application_name: application.name,
      from_version: application.stableVersion,
      to_version: toVersion,
      status: 'PENDING',
      desired_weight: 0,
      canary_weight: 0,
      current_step_index: 0,
      step_started_at: null,
      seq: 0,
      active_key: application.id,
      created_at: at,
      started_at: null,
      finished_at: null,
      updated_at: at,
    }
    const stepRows: Insertable<RolloutStepsTable>[] = steps.map((step, idx) => ({
      rollout_id: row.id,
      idx,
      kind: step.kind,
      spec: toJsonText(step.spec, `step ${idx}`),
      status: 'PENDING',
      started_at: null,
      finished_at: null,
    }))
    try {
      await inTransaction(this.#db.kysely, async (trx) => {
        await trx.insertInto('rollouts').values(row).execute()
        if (stepRows.length > 0) await trx.insertInto('rollout_steps').values(stepRows).execute()
      })
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError(`application "${application.name}" (${application.id}) not found`)
      if (!isUniqueViolation(error)) throw error
      const active = await this.#db.kysely
        .selectFrom('rollouts')
        .select('id')
        .where('active_key', '=', application.id)
        .executeTakeFirst()
      throw new ConflictError(`application "${application.name}" already has an active rollout${active ? ` ${active.id}` : ''}`)
    }
    return toRollout({ ...row, evidence_pruned_at: null })
  }

  async byId(id: string): Promise<Rollout | null> {
    const [rollout] = await this.byIds([id])
    return rollout ?? null
  }

  /**
   * What a controller tick reads first, in one query: the rollout, its application's spec as
   * stored (JSON text), and how many operator commands for it are not yet applied (the tick
   * reads those only when there are some). null when the rollout or its application is gone.
   */
  async forTick(id: string): Promise<{ rollout: Rollout; specText: string; pendingCommands: number } | null> {
    const { rows } = await prepared.run(this.#db, 'rollouts.forTick', [id] as const, (kysely, [rolloutId]) =>
      kysely
        .selectFrom('rollouts')
        .innerJoin('applications', 'applications.id', 'rollouts.application_id')
        .selectAll('rollouts')
        .select('applications.spec as application_spec')
        .select((eb) =>
          eb
            .selectFrom('operator_commands')
            .select(eb.fn.countAll().as('n'))
            .whereRef('operator_commands.rollout_id', '=', 'rollouts.id')
            .where('operator_commands.applied_at', 'is', null)
            .as('pending_commands'),
        )
        .where('rollouts.id', '=', rolloutId),
    )
    const row = rows[0]
    return row ? { rollout: toRollout(row), specText: row.application_spec, pendingCommands: Number(row.pending_commands ?? 0) } : null
  }

  /** One query; results in key order, null for unknown ids. */
  async byIds(ids: readonly string[]): Promise<(Rollout | null)[]> {
    if (ids.length === 0) return []
    const rows = await this.#db.kysely
      .selectFrom('rollouts')
      .selectAll()
      .where('id', 'in', [...new Set(ids)])
      .execute()
    return inKeyOrder(ids, rows, (row) => row.id, toRollout)
  }

  /** Newest first (created_at, then id, descending); keyset cursor. */
  async list({ first, after, application, statuses, applications = null }: ListRolloutsInput): Promise<Page<Rollout>> {
    checkFirst(first)
    let query = this.#db.kysely.selectFrom('rollouts').selectAll()
    if (applications !== null) query = applications.length === 0 ? query.where((eb) => eb.lit(false)) : query.where('application_name', 'in', [...applications])
    if (application != null) query = query.where('application_name', '=', application)
    if (statuses != null && statuses.length > 0) query = query.where('status', 'in', [...statuses])
    if (after != null) {
      const [createdAt, id] = decodeCursor(LIST, after, ['number', 'string'])
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
      )
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(first + 1).execute()
    return pageOf(rows, first, toRollout, (row) => encodeCursor(LIST, [Number(row.created_at), row.id]))
  }

  /** Ids of the rollouts in an active status, oldest first. */
  async activeIds(): Promise<string[]> {
    const rows = await this.#db.kysely
      .selectFrom('rollouts')
      .select('id')
      .where('status', 'in', [...ACTIVE_STATUSES])
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map((row) => row.id)
  }

  /** One query; steps per rollout in key order, each sorted by index; [] for unknown ids. */
  async stepsFor(rolloutIds: readonly string[]): Promise<RolloutStep[][]> {
    if (rolloutIds.length === 0) return []
    const rows = await this.#db.kysely
      .selectFrom('rollout_steps')
      .selectAll()
      .where('rollout_id', 'in', [...new Set(rolloutIds)])
      .orderBy('rollout_id')
      .orderBy('idx')
      .execute()
    return groupInKeyOrder(rolloutIds, rows, (row) => row.rollout_id, toRolloutStep)
  }

  /**
   * Applies the patch, bumps seq by one and updated_at, and returns the rollout as written.
   * A status outside ACTIVE_STATUSES releases the application (active_key NULL) so another
   * rollout can start. With `expectSeq`, writes only if seq still equals it; otherwise a
   * ConflictError and nothing changes. `current`, the row as the caller read it at
   * `expectSeq`, spares reading the row back: every change of a rollout goes through here
   * and bumps seq, so the row that matched `expectSeq` was `current`, and the result is
   * `current` with the patch applied.
   */
  async update(id: string, patch: RolloutPatch, opts: { expectSeq?: number; current?: Rollout } = {}): Promise<Rollout> {
    const { current } = opts
    if (current !== undefined && (current.id !== id || current.seq !== opts.expectSeq)) {
      throw new Error(`rollouts.update: current must be rollout ${id} at the expected seq ${opts.expectSeq} (got ${current.id} at ${current.seq})`)
    }
    const set: Updateable<RolloutsTable> = { updated_at: Date.now() }
    if (patch.status !== undefined) set.status = patch.status
    if (patch.desiredWeight !== undefined) set.desired_weight = patch.desiredWeight
    if (patch.canaryWeight !== undefined) set.canary_weight = patch.canaryWeight
    if (patch.currentStepIndex !== undefined) set.current_step_index = patch.currentStepIndex
    if (patch.stepStartedAt !== undefined) set.step_started_at = toMsOrNull(patch.stepStartedAt)
    if (patch.startedAt !== undefined) set.started_at = toMsOrNull(patch.startedAt)
    if (patch.finishedAt !== undefined) set.finished_at = toMsOrNull(patch.finishedAt)
    const { status } = patch
    const columns = Object.keys(set) as (keyof typeof set)[]
    const activeKey = status === undefined ? 'kept' : isActiveStatus(status) ? 'application' : 'null'
    const expectSeq = opts.expectSeq
    // Run on every tick: prepared once per set of columns (prepared.ts).
    const shape = `rollouts.update:${columns.join(',')}:${activeKey}:${expectSeq === undefined ? 'any' : 'seq'}`
    const values = [...columns.map((column) => set[column]), id, ...(expectSeq === undefined ? [] : [expectSeq])]
    return inTransaction(this.#db.kysely, async (trx) => {
      let updated: bigint
      try {
        const result = await prepared.run({ kysely: trx, dialect: this.#db.dialect }, shape, values, (kysely, v) => {
          const query = kysely
            .updateTable('rollouts')
            .set((eb) => ({
              ...Object.fromEntries(columns.map((column, i) => [column, v[i]])),
              seq: eb('seq', '+', 1),
              ...(activeKey === 'kept' ? {} : { active_key: activeKey === 'application' ? eb.ref('application_id') : null }),
            }))
            .where('id', '=', v[columns.length] as string)
          return expectSeq === undefined ? query : query.where('seq', '=', v[columns.length + 1] as number)
        })
        updated = result.numAffectedRows ?? 0n
      } catch (error) {
        if (!isUniqueViolation(error)) throw error
        throw new ConflictError(`rollout ${id} cannot become ${status}: its application already has another active rollout`)
      }
      if (updated === 0n) {
        const found = await trx.selectFrom('rollouts').select('seq').where('id', '=', id).executeTakeFirst()
        if (!found) throw new NotFoundError(`rollout ${id} not found`)
        throw new ConflictError(`rollout ${id} was changed concurrently: expected seq ${opts.expectSeq}, found ${Number(found.seq)}`)
      }
      if (current !== undefined) return applyPatch(current, patch, Number(set.updated_at))
      return toRollout(await trx.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow())
    })
  }

  async updateStep(rolloutId: string, index: number, patch: RolloutStepPatch): Promise<void> {
    const set: Updateable<RolloutStepsTable> = {}
    if (patch.status !== undefined) set.status = patch.status
    if (patch.startedAt !== undefined) set.started_at = toMsOrNull(patch.startedAt)
    if (patch.finishedAt !== undefined) set.finished_at = toMsOrNull(patch.finishedAt)
    const kysely = this.#db.kysely
    const found =
      Object.keys(set).length === 0
        ? (await kysely
            .selectFrom('rollout_steps')
            .select('idx')
            .where('rollout_id', '=', rolloutId)
            .where('idx', '=', index)
            .executeTakeFirst()) !== undefined
        : (await kysely
            .updateTable('rollout_steps')
            .set(set)
            .where('rollout_id', '=', rolloutId)
            .where('idx', '=', index)
            .executeTakeFirst()).numUpdatedRows > 0n
    if (!found) throw new NotFoundError(`step ${index} of rollout ${rolloutId} not found`)
  }
}
