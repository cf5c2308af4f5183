import { sql, type Kysely } from 'kysely'
import { ApplicationRepository } from './applications.ts'
import { CommandRepository } from './commands.ts'
import { connect, type Db } from './connect.ts'
import { DecisionRepository } from './decisions.ts'
import { EvidenceRepository } from './evidence.ts'
import { LeaseRepository } from './leases.ts'
import { OtlpRepository } from './otlp.ts'
import { PolicyRepository } from './policies.ts'
import { ProviderRepository } from './providers.ts'
import type { Executor } from './executor.ts'
import { migrate as runMigrations } from './migrate.ts'
import { RolloutRepository } from './rollouts.ts'
import type { Database } from './tables.ts'
import { TokenRepository } from './tokens.ts'
import { WebhookRepository } from './webhooks.ts'

export { ApplicationRepository } from './applications.ts'
export { CommandRepository } from './commands.ts'
export { connect, DEFAULT_DATABASE_URL, type Db, type DialectName } from './connect.ts'
export { BadCursorError } from './cursor.ts'
export { DecisionRepository } from './decisions.ts'
export { ConflictError, NotFoundError, isUniqueViolation } from './errors.ts'
export {
  EvidenceRepository,
  InvalidTraceError,
  isValidSpanId,
  isValidTraceId,
  MAX_SPANS_PER_TRACE,
  type NewLinkedTrace,
  type StepKey,
  type TracePageOptions,
  type TraceRef,
} from './evidence.ts'
export { LeaseRepository, type Lease } from './leases.ts'
export { OtlpRepository, type OtlpCounts, type OtlpSecond, type OtlpWindow } from './otlp.ts'
export { PolicyRepository, type PolicyKind, type StoredPolicy } from './policies.ts'
export { ProviderRepository, type StoredProvider } from './providers.ts'
export type { Executor } from './executor.ts'
export { migrate } from './migrate.ts'
export * from './models.ts'
export { RolloutRepository } from './rollouts.ts'
export { TokenRepository, hashToken } from './tokens.ts'
export {
  WebhookRepository,
  type AttemptOutcome,
  type ClaimedDelivery,
  type NewDelivery,
  type NewWebhookSubscription,
  type NotifiableDecision,
  type WebhookDelivery,
  type WebhookSubscription,
  type WebhookSubscriptionPatch,
} from './webhooks.ts'

/** Every repository over one database, plus transactions across them. */
export interface Store {
  readonly db: Db
  readonly applications: ApplicationRepository
  readonly rollouts: RolloutRepository
  readonly evidence: EvidenceRepository
  readonly decisions: DecisionRepository
  readonly commands: CommandRepository
  readonly tokens: TokenRepository
  readonly leases: LeaseRepository
  readonly providers: ProviderRepository
  readonly policies: PolicyRepository
  readonly webhooks: WebhookRepository
  /** The OTLP receiver's per-second aggregates (controller/telemetry/otlp.ts writes, the built-in provider reads). */
  readonly otlp: OtlpRepository
  /**
   * Runs `fn` with a store whose repositories all use one transaction: committed when `fn`
   * resolves, rolled back when it throws. Inside, use only the store `fn` receives (on SQLite
   * the outer store waits for the transaction's connection). Nested calls join the open
   * transaction.
   *
   * @example
   * await store.transaction(async (tx) => {
   *   await tx.decisions.append(decision)
   *   await tx.rollouts.update(id, { desiredWeight: 25 }, { expectSeq: decision.seq })
   * })
   */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T>
  /**
   * Inside a transaction: runs `fn` under a savepoint, so that when it throws, its writes
   * are undone and the transaction's other writes stay (the error is rethrown). A savepoint
   * that cannot be rolled back to (MySQL rolled the whole transaction back on a deadlock, or
   * the connection was dropped) throws that error instead: the transaction is lost, and its
   * owner must not commit the rest as if only `fn` had failed. Outside a transaction it is
   * `transaction(fn)`.
   */
  savepoint<T>(fn: (store: Store) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** A store over an open connection. */
export function createStore(db: Db): Store {
  return bind(db, db.kysely)
}

/**
 * Connects to `url` (see `connect`; the caller passes SENTRA_DATABASE_URL) and, unless told
 * not to, brings the schema up to date.
 */
export async function openStore(url?: string, { migrate = true }: { migrate?: boolean } = {}): Promise<Store> {
  const db = connect(url)
  try {
    if (migrate) await runMigrations(db)
  } catch (error) {
    await db.close()
    throw error
  }
  return createStore(db)
}

/**
 * Savepoints open in each transaction. A savepoint is named by its depth, so siblings reuse
 * one name (and one cached statement: unique names would fill the SQLite statement cache
 * with statements run once) while a nested one never shadows its parent.
 */
const savepointDepth = new WeakMap<Kysely<Database>, number>()

async function underSavepoint<T>(kysely: Kysely<Database>, store: Store, fn: (store: Store) => Promise<T>): Promise<T> {
  const depth = (savepointDepth.get(kysely) ?? 0) + 1
  savepointDepth.set(kysely, depth)
  const name = sql.raw(`sentra_sp_${depth}`)
  try {
    await sql`savepoint ${name}`.execute(kysely)
    let result: T
    try {
      result = await fn(store)
    } catch (error) {
      // Throws, instead of `error`, when the transaction is already gone.
      await sql`rollback to savepoint ${name}`.execute(kysely)
      await sql`release savepoint ${name}`.execute(kysely)
      throw error
    }
    await sql`release savepoint ${name}`.execute(kysely)
    return result
  } finally {
    savepointDepth.set(kysely, depth - 1)
  }
}

function bind(db: Db, kysely: Kysely<Database>): Store {
  const executor: Executor = { kysely, dialect: db.dialect }
  const store: Store = {
    db,
    applications: new ApplicationRepository(executor),
    rollouts: new RolloutRepository(executor),
    evidence: new EvidenceRepository(executor),
    decisions: new DecisionRepository(executor),
    commands: new CommandRepository(executor),
    tokens: new TokenRepository(executor),
    leases: new LeaseRepository(executor),
    providers: new ProviderRepository(executor),
    policies: new PolicyRepository(executor),
    webhooks: new WebhookRepository(executor),
    otlp: new OtlpRepository(executor),
    transaction: (fn) => (kysely.isTransaction ? fn(store) : kysely.transaction().execute((trx) => fn(bind(db, trx)))),
    savepoint: (fn) => (kysely.isTransaction ? underSavepoint(kysely, store, fn) : store.transaction(fn)),
    close: async () => {
      if (kysely.isTransaction) throw new Error('cannot close the store from inside one of its transactions')
      await db.close()
    },
  }
  return store
}
