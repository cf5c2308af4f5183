/**
 * The webhook notifier: a worker inside each controller process.
 *
 * 1. Queue. On every `rollout.changed` event of kind `decision`, and on a periodic scan of
 *    recent decisions (pub/sub is at-most-once, so the scan catches what the bus lost), it
 *    writes one delivery per matching enabled subscription. The unique (subscription,
 *    decision) index makes that idempotent: however many notifiers see a decision, and
 *    however often, it is queued once per subscription.
 * 2. Deliver. It claims due deliveries with a conditional UPDATE (claim token + lease), so
 *    two notifiers never send the same attempt, POSTs them signed, and records the outcome
 *    under its claim token: 2xx DELIVERED; 410 Gone DEAD and the subscription disabled;
 *    anything else FAILED and retried with exponential backoff and jitter, DEAD after
 *    `maxAttempts`. A redelivery (graph) puts a DEAD one back to PENDING.
 */
import { randomUUID } from 'node:crypto'
import type { Bus, Unsubscribe } from '../../schema/events/bus.ts'
import type { Store } from '../../schema/store/index.ts'
import type { Decision } from '../../schema/store/models.ts'
import type { AttemptOutcome, ClaimedDelivery, NewDelivery, WebhookSubscription } from '../../schema/store/webhooks.ts'
import { eventForAction } from '../../schema/webhooks.ts'
import { retryDelayMs } from './backoff.ts'
import { renderBody } from './payload.ts'
import { postWebhook, WebhookRequestError } from './send.ts'
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signPayload } from './signature.ts'

/** The knobs, all optional; the defaults suit production. */
export interface NotifierSettings {
  /** Attempts before a delivery is DEAD. Default 8. */
  maxAttempts: number
  /** Backoff before the second attempt (doubling, jittered). Default 1000 ms. */
  baseDelayMs: number
  /** Backoff cap. Default 5 minutes. */
  maxDelayMs: number
  /** One attempt's deadline. Default 5000 ms. */
  timeoutMs: number
  /** How often due deliveries are looked for when nothing wakes the worker. Default 1000 ms. */
  pollIntervalMs: number
  /** How often recent decisions are scanned for ones not queued yet. Default 5000 ms. */
  scanIntervalMs: number
  /** How far back the first scan after start looks. Default 1 hour. */
  lookbackMs: number
  /** Attempts in flight at once. Default 4. */
  concurrency: number
  /** How long a claim holds before another notifier may retry the attempt. Default timeoutMs + 30 s. */
  leaseMs: number
  /** Uniform in [0, 1), for the jitter. */
  random: () => number
}

export interface NotifierOptions extends Partial<NotifierSettings> {
  store: Store
  bus: Bus
  log?: (line: string) => void
}

export interface NotifierStats {
  /** Deliveries this notifier queued. */
  enqueued: number
  /** Attempts this notifier made, by outcome. */
  delivered: number
  failed: number
  dead: number
}

/** Later scans look back this far past the previous one: a decision's `at` is set before its transaction commits. */
const SCAN_OVERLAP_MS = 60_000
const SCAN_BATCH = 1000
const USER_AGENT = 'Sentra-Webhooks/1'

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return '(invalid url)'
  }
}

export class Notifier {
  readonly #store: Store
  readonly #bus: Bus
  readonly #log: (line: string) => void
  readonly #settings: NotifierSettings
  readonly #stats: NotifierStats = { enqueued: 0, delivered: 0, failed: 0, dead: 0 }
  readonly #abort = new AbortController()
  readonly #inFlight = new Set<Promise<void>>()
  #unsubscribe: Unsubscribe | null = null
  #offReconnect: (() => void) | null = null
  #queueing: Promise<unknown> = Promise.resolve()
  #scanFrom: number | null = null
  #wake: (() => void) | null = null
  #loops: Promise<void>[] = []
  #started = false

  constructor({ store, bus, log, ...settings }: NotifierOptions) {
    this.#store = store
    this.#bus = bus
    this.#log = log ?? (() => undefined)
    const timeoutMs = settings.timeoutMs ?? 5000
    this.#settings = {
      maxAttempts: settings.maxAttempts ?? 8,
      baseDelayMs: settings.baseDelayMs ?? 1000,
      maxDelayMs: settings.maxDelayMs ?? 300_000,
      timeoutMs,
      pollIntervalMs: settings.pollIntervalMs ?? 1000,
      scanIntervalMs: settings.scanIntervalMs ?? 5000,
      lookbackMs: settings.lookbackMs ?? 3_600_000,
      concurrency: settings.concurrency ?? 4,
      leaseMs: settings.leaseMs ?? timeoutMs + 30_000,
      random: settings.random ?? Math.random,
    }
    const s = this.#settings
    if (!Number.isInteger(s.maxAttempts) || s.maxAttempts < 1) throw new RangeError(`maxAttempts must be an integer >= 1, got ${s.maxAttempts}`)
    if (!Number.isInteger(s.concurrency) || s.concurrency < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${s.concurrency}`)
    if (!(s.leaseMs > s.timeoutMs)) throw new RangeError('leaseMs must be longer than timeoutMs, or a slow attempt could be sent twice')
  }

  get stats(): NotifierStats {
    return { ...this.#stats }
  }

  /** Subscribes to decisions, then runs the scan and delivery loops until `stop`. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('the notifier is already started')
    this.#started = true
    this.#unsubscribe = await this.#bus.subscribe('rollout.changed', (event) => {
      if (event.kind !== 'decision') return
      void this.#serially(() => this.#queue({ rolloutId: event.rolloutId })).catch((error: unknown) =>
        this.#log(`notifications: could not queue the decision of rollout ${event.rolloutId}: ${message(error)}`),
      )
    })
    // Events published while the bus was reconnecting are lost: look at the store again.
    this.#offReconnect = this.#bus.onReconnect(() => void this.scan().catch(() => undefined))
    this.#loops = [this.#scanLoop(), this.#deliveryLoop()]
  }

  /** Stops both loops; attempts in flight are cut short and recorded as failed (they are retried). */
  async stop(): Promise<void> {
    if (this.#abort.signal.aborted) return
    this.#abort.abort()
    this.#wake?.()
    this.#offReconnect?.()
    // The bus may be closed already (it ends every subscription itself).
    await this.#unsubscribe?.().catch(() => undefined)
    await Promise.allSettled(this.#loops)
    await Promise.allSettled([...this.#inFlight])
    await this.#queueing.catch(() => undefined)
  }

  /**
   * Queues deliveries for the decisions made since the last scan (the first one looks back
   * `lookbackMs`) that have none yet. Returns how many it queued.
   */
  scan(): Promise<number> {
    return this.#serially(async () => {
      const started = Date.now()
      let since = this.#scanFrom ?? started - this.#settings.lookbackMs
      let queued = 0
      for (;;) {
        const { count, last, full } = await this.#queue({ since })
        queued += count
        // A full batch: go on from where it ended (unless it cannot move on).
        if (!full || last === null || last <= since) break
        since = last
      }
      this.#scanFrom = started - SCAN_OVERLAP_MS
      return queued
    })
  }

  /** One round of delivery: claims what is due (up to the free slots) and sends it. Resolves when those attempts end. */
  async deliverDue(): Promise<number> {
    const started = await this.#launchDue()
    await Promise.allSettled(started)
    return started.length
  }

  /** Queue work runs one at a time per notifier; the unique index covers other notifiers. */
  #serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queueing.then(fn, fn)
    this.#queueing = run.catch(() => undefined)
    return run
  }

  async #queue({ since, rolloutId }: { since?: number; rolloutId?: string }): Promise<{ count: number; last: number | null; full: boolean }> {
    const subscriptions = await this.#store.webhooks.subscriptions({ enabledOnly: true })
    if (subscriptions.length === 0) return { count: 0, last: null, full: false }
    const earliest = Math.min(...subscriptions.map((s) => s.since.getTime()))
    const decisions = await this.#store.webhooks.notifiableDecisions({
      since: Math.max(earliest, since ?? earliest),
      ...(rolloutId !== undefined ? { rolloutId } : {}),
      limit: SCAN_BATCH,
    })
    if (decisions.length === 0) return { count: 0, last: null, full: false }
    const existing = await this.#store.webhooks.existingKeys(decisions.map((d) => d.decision.id))
    const entries: NewDelivery[] = []
    for (const notifiable of decisions) {
      const { decision } = notifiable
      const event = eventForAction(decision.action)
      if (event === null) continue
      const wanted = subscriptions.filter((s) => matches(s, notifiable.application, event, decision) && !existing.has(`${s.id}:${decision.id}`))
      if (wanted.length === 0) continue
      let cause: Decision | null = null
      if (event === 'rollout.rolled_back') cause = await this.#store.webhooks.latestDecisionBefore(decision.rolloutId, decision.seq, 'ROLLBACK')
      for (const subscription of wanted) {
        const id = randomUUID()
        const body = renderBody(subscription.format, {
          deliveryId: id,
          event,
          application: notifiable.application,
          rollout: notifiable.rollout,
          decision,
          cause,
        })
        entries.push({ id, subscriptionId: subscription.id, rolloutId: decision.rolloutId, decisionId: decision.id, event, body })
      }
    }
    const written = await this.#store.webhooks.enqueue(entries)
    this.#stats.enqueued += written.length
    if (written.length > 0) this.#wake?.()
    return { count: written.length, last: decisions.at(-1)?.decision.at.getTime() ?? null, full: decisions.length >= SCAN_BATCH }
  }

  async #scanLoop(): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      try {
        await this.scan()
      } catch (error) {
        if (!signal.aborted) this.#log(`notifications: scan failed, will retry: ${message(error)}`)
      }
      await sleep(this.#settings.scanIntervalMs, signal)
    }
  }

  /** Claims up to the free slots and starts those attempts; returns their promises. */
  async #launchDue(): Promise<Promise<void>[]> {
    const free = this.#settings.concurrency - this.#inFlight.size
    if (free <= 0 || this.#abort.signal.aborted) return []
    const claimed = await this.#store.webhooks.claimDue({ limit: free, leaseMs: this.#settings.leaseMs })
    return claimed.map((claim) => {
      const attempt = this.#attempt(claim)
        .catch((error: unknown) => this.#log(`notifications: delivery ${claim.delivery.id}: ${message(error)}`))
        .finally(() => {
          this.#inFlight.delete(attempt)
          this.#wake?.()
        })
      this.#inFlight.add(attempt)
      return attempt
    })
  }

  async #deliveryLoop(): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      let started = 0
      try {
        started = (await this.#launchDue()).length
      } catch (error) {
        if (!signal.aborted) this.#log(`notifications: could not claim deliveries, will retry: ${message(error)}`)
      }
      // Slots still free and work was found: look again at once; otherwise wait to be woken.
      if (started > 0 && this.#inFlight.size < this.#settings.concurrency) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#settings.pollIntervalMs)
        function done(): void {
          clearTimeout(timer)
          resolve()
        }
        this.#wake = done
        if (signal.aborted) done()
      })
      this.#wake = null
    }
  }

  async #attempt(claim: ClaimedDelivery): Promise<void> {
    const { delivery } = claim
    const timestamp = Math.floor(Date.now() / 1000)
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      [EVENT_HEADER]: delivery.event,
      [DELIVERY_HEADER]: delivery.id,
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signPayload(claim.secret, timestamp, claim.body),
    }
    const where = `${delivery.event} → ${originOf(claim.url)}`
    const attempt = delivery.attempts
    let outcome: AttemptOutcome
    let gone = false
    try {
      const { statusCode, snippet } = await postWebhook(claim.url, { headers, body: claim.body, timeoutMs: this.#settings.timeoutMs, signal: this.#abort.signal })
      if (statusCode >= 200 && statusCode < 300) {
        outcome = { kind: 'delivered', statusCode }
      } else if (statusCode === 410) {
        gone = true
        outcome = { kind: 'dead', statusCode, error: 'HTTP 410 Gone: the receiver asked to stop; the subscription is disabled' }
      } else {
        const redirect = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : ''
        outcome = this.#failure(attempt, statusCode, `HTTP ${statusCode}${redirect}${snippet ? `: ${snippet}` : ''}`)
      }
    } catch (error) {
      const refusedAddress = error instanceof WebhookRequestError && error.kind === 'refused-address'
      outcome = refusedAddress ? { kind: 'dead', statusCode: null, error: message(error) } : this.#failure(attempt, null, message(error))
    }
    const kept = await this.#store.webhooks.finishAttempt({ id: delivery.id, claimToken: claim.claimToken }, outcome)
    if (!kept) {
      this.#log(`notifications: ${where}: attempt ${attempt} ended after its claim expired; its outcome was not recorded`)
      return
    }
    if (outcome.kind === 'delivered') {
      this.#stats.delivered += 1
      this.#log(`notifications: ${where}: delivered (attempt ${attempt}, HTTP ${outcome.statusCode})`)
    } else if (outcome.kind === 'retry') {
      this.#stats.failed += 1
      this.#log(`notifications: ${where}: attempt ${attempt} of ${this.#settings.maxAttempts} failed: ${outcome.error}; retrying in ${Math.max(0, outcome.nextAttemptAt - Date.now())} ms`)
    } else {
      this.#stats.dead += 1
      this.#log(`notifications: ${where}: dead after ${attempt} attempt(s): ${outcome.error}`)
    }
    if (gone) await this.#store.webhooks.disableSubscription(delivery.subscriptionId, `the receiver answered 410 Gone (delivery ${delivery.id})`)
  }

  #failure(attempt: number, statusCode: number | null, error: string): AttemptOutcome {
    if (attempt >= this.#settings.maxAttempts) return { kind: 'dead', statusCode, error }
    return { kind: 'retry', statusCode, error, nextAttemptAt: Date.now() + retryDelayMs(attempt, this.#settings) }
  }
}

function matches(subscription: WebhookSubscription, application: string, event: string, decision: Decision): boolean {
  if (subscription.application !== null && subscription.application !== application) return false
  if (!(subscription.events as readonly string[]).includes(event)) return false
  return decision.at.getTime() >= subscription.since.getTime()
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** A started notifier. */
export async function startNotifier(options: NotifierOptions): Promise<Notifier> {
  const notifier = new Notifier(options)
  await notifier.start()
  return notifier
}
