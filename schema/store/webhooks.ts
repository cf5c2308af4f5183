import { randomUUID } from 'node:crypto'
import { sql, type Selectable, type Updateable } from 'kysely'
import { NOTIFIED_ACTIONS, type DeliveryStatus, type WebhookEvent, type WebhookFormat } from '../webhooks.ts'
import { checkLast, groupInKeyOrder } from './batch.ts'
import { toDecision } from './decisions.ts'
import { ConflictError, NotFoundError, isUniqueViolation } from './errors.ts'
import type { Executor } from './executor.ts'
import { newId } from './ids.ts'
import type { Decision, RolloutStatus } from './models.ts'
import type { WebhookDeliveriesTable, WebhookSubscriptionsTable } from './tables.ts'
import { monotonicNow, toDate, toDateOrNull } from './values.ts'

/** A webhook subscription as the graph shows it; the secret is never part of it. */
export interface WebhookSubscription {
  id: string
  /** Only this application's rollouts; null = every application. */
  application: string | null
  url: string
  format: WebhookFormat
  events: WebhookEvent[]
  enabled: boolean
  /** Why it was disabled (by a 410 Gone, or by an admin); null while enabled. */
  disabledReason: string | null
  /** Decisions made before this are never delivered: creation time, or when it was last re-enabled. */
  since: Date
  createdAt: Date
  updatedAt: Date
}

/** One notification of one decision to one subscription, and the state of its attempts. */
export interface WebhookDelivery {
  id: string
  subscriptionId: string
  rolloutId: string
  decisionId: string
  event: WebhookEvent
  status: DeliveryStatus
  /** Attempts started so far (an attempt counts from the moment it is claimed). */
  attempts: number
  nextAttemptAt: Date | null
  lastStatusCode: number | null
  /** The most recent failure; kept after a later success. */
  lastError: string | null
  createdAt: Date
  deliveredAt: Date | null
  updatedAt: Date
}

export interface NewWebhookSubscription {
  application: string | null
  url: string
  format: WebhookFormat
  events: readonly WebhookEvent[]
  secret: string
}

export interface WebhookSubscriptionPatch {
  url?: string
  events?: readonly WebhookEvent[]
  enabled?: boolean
}

export interface NewDelivery {
  /** Made by the caller, because the body names it. */
  id: string
  subscriptionId: string
  rolloutId: string
  decisionId: string
  event: WebhookEvent
  /** The request body (JSON text) every attempt sends. */
  body: string
}

/** A delivery a notifier claimed for one attempt, with what it needs to send it. */
export interface ClaimedDelivery {
  delivery: WebhookDelivery
  claimToken: string
  url: string
  secret: string
  format: WebhookFormat
  body: string
}

/** How an attempt ended. */
export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string; nextAttemptAt: number }
  | { kind: 'dead'; statusCode: number | null; error: string }

/** A decision with the rollout facts a notification carries. */
export interface NotifiableDecision {
  decision: Decision
  application: string
  rollout: { id: string; fromVersion: string | null; toVersion: string; status: RolloutStatus; canaryWeight: number }
}

const OPEN: DeliveryStatus[] = ['PENDING', 'FAILED']

/** Longest last_error kept. */
const MAX_ERROR_LENGTH = 1000

function parseEvents(text: string, id: string): WebhookEvent[] {
  try {
    return JSON.parse(text) as WebhookEvent[]
  } catch {
    throw new Error(`stored JSON in webhook_subscriptions.events of ${id} is not valid`)
  }
}

export function toWebhookSubscription(row: Selectable<WebhookSubscriptionsTable>): WebhookSubscription {
  return {
    id: row.id,
    application: row.application_name,
    url: row.url,
    format: row.format as WebhookFormat,
    events: parseEvents(row.events, row.id),
    enabled: Number(row.enabled) !== 0,
    disabledReason: row.disabled_reason,
    since: toDate(row.since),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  }
}

export function toWebhookDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    rolloutId: row.rollout_id,
    decisionId: row.decision_id,
    event: row.event as WebhookEvent,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: toDateOrNull(row.next_attempt_at),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    createdAt: toDate(row.created_at),
    deliveredAt: toDateOrNull(row.delivered_at),
    updatedAt: toDate(row.updated_at),
  }
}

function clip(error: string): string {
  return error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error
}

/**
 * Webhook subscriptions and their deliveries. The deliveries table is both the log the graph
 * shows and the queue notifiers work from: several notifiers may share it, and
 * `claimDue` hands each attempt to exactly one of them.
 */
export class WebhookRepository {
  readonly #db: Executor

  constructor(db: Executor) {
    this.#db = db
  }

  async createSubscription(input: NewWebhookSubscription, now = Date.now()): Promise<WebhookSubscription> {
    const id = newId()
    await this.#db.kysely
      .insertInto('webhook_subscriptions')
      .values({
        id,
        application_name: input.application,
        url: input.url,
        secret: input.secret,
        format: input.format,
        events: JSON.stringify([...new Set(input.events)]),
        enabled: 1,
        disabled_reason: null,
        since: now,
        created_at: now,
        updated_at: now,
      })
      .execute()
    return (await this.subscription(id))!
  }

  async subscription(id: string): Promise<WebhookSubscription | null> {
    const row = await this.#db.kysely.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toWebhookSubscription(row) : null
  }

  /** Every subscription, oldest first. */
  async subscriptions({ enabledOnly = false }: { enabledOnly?: boolean } = {}): Promise<WebhookSubscription[]> {
    let query = this.#db.kysely.selectFrom('webhook_subscriptions').selectAll()
    if (enabledOnly) query = query.where('enabled', '=', 1)
    const rows = await query.orderBy('created_at').orderBy('id').execute()
    return rows.map(toWebhookSubscription)
  }

  /**
   * Changes a subscription; null when it does not exist. Re-enabling clears the disabled
   * reason and moves `since` to now, so decisions made while it was off are not sent.
   */
  async updateSubscription(id: string, patch: WebhookSubscriptionPatch, now = Date.now()): Promise<WebhookSubscription | null> {
    const current = await this.subscription(id)
    if (!current) return null
    const set: Updateable<WebhookSubscriptionsTable> = { updated_at: now }
    if (patch.url !== undefined) set.url = patch.url
    if (patch.events !== undefined) set.events = JSON.stringify([...new Set(patch.events)])
    if (patch.enabled === true && !current.enabled) Object.assign(set, { enabled: 1, disabled_reason: null, since: now })
    if (patch.enabled === false && current.enabled) Object.assign(set, { enabled: 0, disabled_reason: 'disabled by an admin' })
    await this.#db.kysely.updateTable('webhook_subscriptions').set(set).where('id', '=', id).execute()
    return this.subscription(id)
  }

  /**
   * Disables a subscription for good reason (the receiver answered 410 Gone): its open
   * deliveries become DEAD with that reason. False when it was not enabled.
   */
  async disableSubscription(id: string, reason: string, now = Date.now()): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('webhook_subscriptions')
      .set({ enabled: 0, disabled_reason: clip(reason), updated_at: now })
      .where('id', '=', id)
      .where('enabled', '=', 1)
      .executeTakeFirst()
    await this.#db.kysely
      .updateTable('webhook_deliveries')
      .set({ status: 'DEAD', next_attempt_at: null, last_error: clip(reason), updated_at: now })
      .where('subscription_id', '=', id)
      .where('status', 'in', OPEN)
      // An attempt in flight records its own outcome.
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .execute()
    return Number(result.numUpdatedRows) > 0
  }

  /** Deletes a subscription and its delivery log; false when it does not exist. */
  async deleteSubscription(id: string): Promise<boolean> {
    // Deliveries first, so nothing is left behind where foreign keys are not enforced.
    await this.#db.kysely.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).execute()
    const result = await this.#db.kysely.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) === 1
  }

  /**
   * Decisions that fire an event, made at or after `since` (epoch ms), oldest first, with
   * their rollout's facts; of one rollout when `rolloutId` is given.
   */
  async notifiableDecisions({ since, rolloutId, limit = 1000 }: { since: number; rolloutId?: string; limit?: number }): Promise<NotifiableDecision[]> {
    let query = this.#db.kysely
      .selectFrom('decisions')
      .innerJoin('rollouts', 'rollouts.id', 'decisions.rollout_id')
      .selectAll('decisions')
      .select([
        'rollouts.application_name as r_application',
        'rollouts.from_version as r_from_version',
        'rollouts.to_version as r_to_version',
        'rollouts.status as r_status',
        'rollouts.canary_weight as r_canary_weight',
      ])
      .where('decisions.at', '>=', since)
      .where('decisions.action', 'in', [...NOTIFIED_ACTIONS])
    if (rolloutId !== undefined) query = query.where('decisions.rollout_id', '=', rolloutId)
    const rows = await query.orderBy('decisions.at').orderBy('decisions.rollout_id').orderBy('decisions.seq').limit(limit).execute()
    return rows.map((row) => ({
      decision: toDecision(row),
      application: row.r_application,
      rollout: {
        id: row.rollout_id,
        fromVersion: row.r_from_version,
        toVersion: row.r_to_version,
        status: row.r_status as RolloutStatus,
        canaryWeight: Number(row.r_canary_weight),
      },
    }))
  }

  /** The latest decision of a rollout with this action before `seq`, or null (the cause of a ROLLED_BACK). */
  async latestDecisionBefore(rolloutId: string, seq: number, action: string): Promise<Decision | null> {
    const row = await this.#db.kysely
      .selectFrom('decisions')
      .selectAll()
      .where('rollout_id', '=', rolloutId)
      .where('seq', '<', seq)
      .where('action', '=', action)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()
    return row ? toDecision(row) : null
  }

  /** `subscriptionId:decisionId` of every delivery already made for these decisions. */
  async existingKeys(decisionIds: readonly string[]): Promise<Set<string>> {
    if (decisionIds.length === 0) return new Set()
    const rows = await this.#db.kysely
      .selectFrom('webhook_deliveries')
      .select(['subscription_id', 'decision_id'])
      .where('decision_id', 'in', [...new Set(decisionIds)])
      .execute()
    return new Set(rows.map((r) => `${r.subscription_id}:${r.decision_id}`))
  }

  /**
   * Queues deliveries, due at once. One that already exists for its subscription and
   * decision (another notifier was first) is skipped; returns those written.
   */
  async enqueue(entries: readonly NewDelivery[]): Promise<WebhookDelivery[]> {
    const written: WebhookDelivery[] = []
    for (const entry of entries) {
      // Strictly increasing within a process so the log keeps the order they were queued in.
      const now = monotonicNow()
      const row: Selectable<WebhookDeliveriesTable> = {
        id: entry.id,
        subscription_id: entry.subscriptionId,
        rollout_id: entry.rolloutId,
        decision_id: entry.decisionId,
        event: entry.event,
        status: 'PENDING',
        attempts: 0,
        // Due by the wall clock (monotonicNow may run a few ms ahead of it).
        next_attempt_at: Math.min(now, Date.now()),
        claim_token: null,
        claimed_until: null,
        last_status_code: null,
        last_error: null,
        body: entry.body,
        created_at: now,
        delivered_at: null,
        updated_at: now,
      }
      try {
        await this.#db.kysely.insertInto('webhook_deliveries').values(row).execute()
        written.push(toWebhookDelivery(row))
      } catch (error) {
        if (!isUniqueViolation(error)) throw error
      }
    }
    return written
  }

  /**
   * Claims up to `limit` due deliveries of enabled subscriptions for one attempt each: a
   * conditional UPDATE (still open, due, and not claimed by a live lease) stamps a fresh
   * claim token, a lease until `now + leaseMs`, and counts the attempt. Two notifiers
   * racing never claim the same attempt; a notifier that dies mid-attempt loses its
   * claim when the lease runs out, and the delivery is retried.
   */
  async claimDue({ now = Date.now(), limit = 10, leaseMs }: { now?: number; limit?: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
    const candidates = await this.#db.kysely
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
      .select('d.id')
      .where('s.enabled', '=', 1)
      .where('d.status', 'in', OPEN)
      .where('d.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('d.claimed_until', 'is', null), eb('d.claimed_until', '<=', now)]))
      .orderBy('d.next_attempt_at')
      .orderBy('d.id')
      .limit(limit)
      .execute()
    if (candidates.length === 0) return []
    const token = randomUUID()
    await this.#db.kysely
      .updateTable('webhook_deliveries')
      .set((eb) => ({ claim_token: token, claimed_until: now + leaseMs, attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('id', 'in', candidates.map((c) => c.id))
      .where('status', 'in', OPEN)
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .execute()
    const rows = await this.#db.kysely
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
      .selectAll('d')
      .select(['s.url as s_url', 's.secret as s_secret', 's.format as s_format'])
      .where('d.claim_token', '=', token)
      .orderBy('d.next_attempt_at')
      .orderBy('d.id')
      .execute()
    return rows.map((row) => ({
      delivery: toWebhookDelivery(row),
      claimToken: token,
      url: row.s_url,
      secret: row.s_secret,
      format: row.s_format as WebhookFormat,
      body: row.body,
    }))
  }

  /** Records how a claimed attempt ended; false (and nothing written) when the claim was lost. */
  async finishAttempt(claim: { id: string; claimToken: string }, outcome: AttemptOutcome, now = Date.now()): Promise<boolean> {
    const base = { claim_token: null, claimed_until: null, last_status_code: outcome.statusCode, updated_at: now }
    const set =
      outcome.kind === 'delivered'
        ? { ...base, status: 'DELIVERED', next_attempt_at: null, delivered_at: now }
        : outcome.kind === 'retry'
          ? { ...base, status: 'FAILED', next_attempt_at: outcome.nextAttemptAt, last_error: clip(outcome.error) }
          : { ...base, status: 'DEAD', next_attempt_at: null, last_error: clip(outcome.error) }
    const result = await this.#db.kysely
      .updateTable('webhook_deliveries')
      .set(set)
      .where('id', '=', claim.id)
      .where('claim_token', '=', claim.claimToken)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /**
   * Puts a DEAD (or FAILED) delivery back to PENDING, due now, with a fresh count of
   * attempts. A PENDING one is returned as it is. DELIVERED, an attempt in flight, or a
   * disabled subscription is a ConflictError; an unknown id a NotFoundError.
   */
  async redeliver(id: string, now = Date.now()): Promise<WebhookDelivery> {
    const current = await this.delivery(id)
    if (!current) throw new NotFoundError(`webhook delivery ${id} not found`)
    const subscription = await this.subscription(current.subscriptionId)
    if (!subscription?.enabled) throw new ConflictError(`webhook delivery ${id}: its subscription is disabled; enable it first`)
    if (current.status === 'PENDING') return current
    if (current.status === 'DELIVERED') throw new ConflictError(`webhook delivery ${id} was delivered already`)
    const result = await this.#db.kysely
      .updateTable('webhook_deliveries')
      .set({ status: 'PENDING', attempts: 0, next_attempt_at: now, claim_token: null, claimed_until: null, updated_at: now })
      .where('id', '=', id)
      .where('status', 'in', ['DEAD', 'FAILED'])
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) throw new ConflictError(`webhook delivery ${id} is being attempted right now`)
    return (await this.delivery(id))!
  }

  async delivery(id: string): Promise<WebhookDelivery | null> {
    const row = await this.#db.kysely.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toWebhookDelivery(row) : null
  }

  /** The request body stored for a delivery (JSON text), or null. */
  async bodyOf(id: string): Promise<string | null> {
    const row = await this.#db.kysely.selectFrom('webhook_deliveries').select('body').where('id', '=', id).executeTakeFirst()
    return row?.body ?? null
  }

  /**
   * One query; the deliveries of each subscription in key order, oldest first; with `last`,
   * only the most recent `last` of each.
   */
  async deliveriesFor(subscriptionIds: readonly string[], { last }: { last?: number | null } = {}): Promise<WebhookDelivery[][]> {
    checkLast(last)
    if (subscriptionIds.length === 0) return []
    if (last === 0) return subscriptionIds.map(() => [])
    const ids = sql.join([...new Set(subscriptionIds)])
    const query =
      last == null
        ? sql<Selectable<WebhookDeliveriesTable>>`select * from webhook_deliveries where subscription_id in (${ids}) order by subscription_id, created_at, id`
        : sql<Selectable<WebhookDeliveriesTable>>`select * from (
            select t.*, row_number() over (partition by t.subscription_id order by t.created_at desc, t.id desc) as rn
            from webhook_deliveries t where t.subscription_id in (${ids})
          ) ranked where rn <= ${last} order by subscription_id, created_at, id`
    const { rows } = await query.execute(this.#db.kysely)
    return groupInKeyOrder(subscriptionIds, rows, (row) => row.subscription_id, toWebhookDelivery)
  }
}
