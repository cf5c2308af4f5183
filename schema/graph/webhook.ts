import DataLoader from 'dataloader'
import type { WebhookDelivery, WebhookSubscription } from '../store/webhooks.ts'
import {
  DELIVERY_STATUSES,
  WEBHOOK_EVENTS,
  generateWebhookSecret,
  webhookSecretProblem,
  webhookUrlProblem,
  type WebhookEvent,
  type WebhookFormat,
} from '../webhooks.ts'
import { builder } from './builder.ts'
import { badInput, invalidDocument, notFound, type FieldIssue } from './errors.ts'
import type { Loaders } from './loaders.ts'
import { RolloutRef } from './refs.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const DEFAULT_LOG_LENGTH = 20
const MAX_LOG_LENGTH = 1000

export const WebhookEventEnum = builder.enumType('WebhookEvent', {
  description: 'What a webhook is sent for; the body and `x-sentra-event` carry the lower-case name (rollout.started, ...).',
  values: {
    ROLLOUT_STARTED: { value: 'rollout.started', description: 'rollout.started: the canary is up (START).' },
    ROLLOUT_STEP_ADVANCED: { value: 'rollout.step_advanced', description: 'rollout.step_advanced: traffic moved or a step passed (SET_WEIGHT, ADVANCE).' },
    ROLLOUT_PAUSED: { value: 'rollout.paused', description: 'rollout.paused: waiting for a person (PAUSE).' },
    ROLLOUT_ROLLED_BACK: { value: 'rollout.rolled_back', description: 'rollout.rolled_back: all traffic is back on the stable version (ROLLED_BACK; the ROLLBACK decision is its cause).' },
    ROLLOUT_PROMOTED: { value: 'rollout.promoted', description: 'rollout.promoted: the new version is the stable one (PROMOTE, INITIAL_DEPLOY).' },
    ROLLOUT_FAILED: { value: 'rollout.failed', description: 'rollout.failed: the rollout ended without promotion or rollback (ABORT).' },
  } as const,
})

export const WebhookFormatEnum = builder.enumType('WebhookFormat', {
  values: {
    JSON: { value: 'json', description: "Sentra's JSON body (see docs/notifications.md)." },
    SLACK: { value: 'slack', description: 'A Slack incoming-webhook body: { text, blocks }.' },
  } as const,
})

export const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', { values: DELIVERY_STATUSES })

/** Per-operation loaders of the delivery log, one per value of `last`, kept beside the others. */
const deliveryLoaders = new WeakMap<Loaders, Map<number, DataLoader<string, WebhookDelivery[]>>>()

export const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One notification of one decision to one subscription, and how its attempts went.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Also the body\'s `id` and the `x-sentra-delivery` header.' }),
    event: t.expose('event', { type: WebhookEventEnum }),
    status: t.expose('status', { type: WebhookDeliveryStatusEnum }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true, description: 'When the next attempt is due; null once DELIVERED or DEAD.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true, description: 'The HTTP status of the last answer; null when there was none (timeout, refused connection).' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'The most recent failure, kept after a later success.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    rollout: t.field({ type: RolloutRef, nullable: true, resolve: (d, _args, ctx) => ctx.loaders.rollout.load(d.rolloutId) }),
  }),
})

export const WebhookSubscriptionRef = builder.objectRef<WebhookSubscription>('WebhookSubscription').implement({
  description: 'Where to send notifications of rollout decisions. The secret is shown once, when created.',
  fields: (t) => ({
    id: t.exposeID('id'),
    application: t.exposeString('application', { nullable: true, description: 'Only this application; null = every application.' }),
    url: t.exposeString('url'),
    format: t.expose('format', { type: WebhookFormatEnum }),
    events: t.field({ type: [WebhookEventEnum], resolve: (s) => s.events }),
    enabled: t.exposeBoolean('enabled'),
    disabledReason: t.exposeString('disabledReason', { nullable: true, description: 'Why it is disabled (an admin, or a 410 Gone from the receiver).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: `The delivery log, oldest first: the most recent \`last\` deliveries (default ${DEFAULT_LOG_LENGTH}, at most ${MAX_LOG_LENGTH}).`,
      args: { last: t.arg.int({ required: false }) },
      resolve: (s, args, ctx) => {
        const last = args.last ?? DEFAULT_LOG_LENGTH
        if (!Number.isInteger(last) || last < 1 || last > MAX_LOG_LENGTH) throw badInput(`last: must be between 1 and ${MAX_LOG_LENGTH}`, 'last')
        let byLast = deliveryLoaders.get(ctx.loaders)
        if (!byLast) deliveryLoaders.set(ctx.loaders, (byLast = new Map()))
        let loader = byLast.get(last)
        if (!loader) byLast.set(last, (loader = new DataLoader((ids) => ctx.store.webhooks.deliveriesFor(ids, { last }))))
        return loader.load(s.id)
      },
    }),
  }),
})

const CreatedWebhookSubscriptionRef = builder.objectRef<{ secret: string; subscription: WebhookSubscription }>('CreatedWebhookSubscription').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The HMAC key of `x-sentra-signature`. Shown only now; store it with the receiver.' }),
    subscription: t.field({ type: WebhookSubscriptionRef, resolve: (c) => c.subscription }),
  }),
})

const CreateWebhookSubscriptionInput = builder.inputType('CreateWebhookSubscriptionInput', {
  fields: (t) => ({
    application: t.string({ required: false, description: 'Only this application (it must exist); leave it out for every application.' }),
    url: t.string({ required: true, description: 'http(s); no credentials; at most 2048 characters; never a link-local or cloud metadata address.' }),
    format: t.field({ type: WebhookFormatEnum, required: false, description: 'JSON unless told.' }),
    events: t.field({ type: [WebhookEventEnum], required: false, description: 'Every event unless told.' }),
    secret: t.string({ required: false, description: '16 to 256 characters; a random one is generated when left out.' }),
  }),
})

function parseId(raw: string, argument: string, what: string): string {
  if (!UUID.test(raw)) throw badInput(`${argument}: not a valid ${what} id`, argument)
  return raw
}

function urlIssue(url: string, path: string): FieldIssue | null {
  const problem = webhookUrlProblem(url)
  return problem === null ? null : { path, message: problem }
}

function eventsIssue(events: readonly WebhookEvent[], path: string): FieldIssue | null {
  return events.length === 0 ? { path, message: 'name at least one event, or leave it out for every event' } : null
}

builder.queryFields((t) => ({
  webhookSubscriptions: t.field({
    type: [WebhookSubscriptionRef],
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.store.webhooks.subscriptions(),
  }),
}))

builder.mutationFields((t) => ({
  createWebhookSubscription: t.field({
    type: CreatedWebhookSubscriptionRef,
    description: 'Starts sending notifications of rollout decisions to a URL. Returns the signing secret, once.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateWebhookSubscriptionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const issues: FieldIssue[] = []
      const application = input.application ?? null
      if (application !== null && (application.length === 0 || application.length > 63)) {
        issues.push({ path: 'input.application', message: 'an application name (1 to 63 characters)' })
      }
      const url = urlIssue(input.url, 'input.url')
      if (url) issues.push(url)
      const events: WebhookEvent[] | null = input.events ?? null
      const badEvents = events === null ? null : eventsIssue(events, 'input.events')
      if (badEvents) issues.push(badEvents)
      if (input.secret != null) {
        const problem = webhookSecretProblem(input.secret)
        if (problem) issues.push({ path: 'input.secret', message: problem })
      }
      if (issues.length > 0) throw invalidDocument('webhook subscription', issues)
      if (application !== null && !(await ctx.store.applications.byName(application))) {
        throw notFound(`input.application: application "${application}" does not exist`)
      }
      const secret = input.secret ?? generateWebhookSecret()
      const format: WebhookFormat = input.format ?? 'json'
      const subscription = await ctx.store.webhooks.createSubscription({
        application,
        url: input.url,
        format,
        events: events ?? [...WEBHOOK_EVENTS],
        secret,
      })
      return { secret, subscription }
    },
  }),
  updateWebhookSubscription: t.field({
    type: WebhookSubscriptionRef,
    description: 'Changes the URL or the events, or turns a subscription off and on (on again: only decisions from then are sent).',
    authScopes: { admin: true },
    args: {
      id: t.arg.id({ required: true }),
      enabled: t.arg.boolean({ required: false }),
      events: t.arg({ type: [WebhookEventEnum], required: false }),
      url: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const id = parseId(args.id, 'id', 'webhook subscription')
      const issues: FieldIssue[] = []
      const url = args.url == null ? null : urlIssue(args.url, 'url')
      if (url) issues.push(url)
      const events = args.events == null ? null : eventsIssue(args.events, 'events')
      if (events) issues.push(events)
      if (issues.length > 0) throw invalidDocument('webhook subscription change', issues)
      if (args.enabled == null && args.events == null && args.url == null) throw badInput('nothing to change: give enabled, events or url')
      const updated = await ctx.store.webhooks.updateSubscription(id, {
        ...(args.url != null ? { url: args.url } : {}),
        ...(args.events != null ? { events: args.events } : {}),
        ...(args.enabled != null ? { enabled: args.enabled } : {}),
      })
      if (!updated) throw notFound(`webhook subscription ${id} does not exist`)
      return updated
    },
  }),
  deleteWebhookSubscription: t.field({
    type: 'Boolean',
    description: 'Deletes a subscription and its delivery log.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = parseId(args.id, 'id', 'webhook subscription')
      if (!(await ctx.store.webhooks.deleteSubscription(id))) throw notFound(`webhook subscription ${id} does not exist`)
      return true
    },
  }),
  redeliverWebhook: t.field({
    type: WebhookDeliveryRef,
    description: 'Puts a DEAD (or FAILED) delivery back to PENDING, due now, with a fresh count of attempts.',
    authScopes: { admin: true },
    args: { deliveryId: t.arg.id({ required: true }) },
    // NotFoundError and ConflictError from the store become NOT_FOUND and CONFLICT.
    resolve: (_root, args, ctx) => ctx.store.webhooks.redeliver(parseId(args.deliveryId, 'deliveryId', 'webhook delivery')),
  }),
}))
