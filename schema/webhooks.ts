/**
 * Webhook notifications: the vocabulary every process shares (events, formats, delivery
 * statuses), which decision fires which event, and the checks a subscription's URL and
 * secret must pass. Pure: no I/O. See docs/notifications.md.
 */
import { randomBytes } from 'node:crypto'
import { BlockList, isIP } from 'node:net'

/** Every event a subscription can ask for, as named in the body and the `x-sentra-event` header. */
export const WEBHOOK_EVENTS = [
  'rollout.started',
  'rollout.step_advanced',
  'rollout.paused',
  'rollout.rolled_back',
  'rollout.promoted',
  'rollout.failed',
] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

/** `json`: Sentra's signed JSON body. `slack`: `{ text, blocks }` for a Slack incoming webhook (also signed). */
export const WEBHOOK_FORMATS = ['json', 'slack'] as const
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number]

/**
 * PENDING: waiting for its first attempt (or put back by a redelivery). FAILED: the last
 * attempt failed; another follows at `nextAttemptAt`. DELIVERED: a 2xx answer. DEAD: no
 * more attempts (max attempts reached, or the receiver answered 410 Gone).
 */
export const DELIVERY_STATUSES = ['PENDING', 'FAILED', 'DELIVERED', 'DEAD'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

/**
 * The decision action (controller/rollout/types.ts `ACTIONS`) that fires each event.
 * - ROLLBACK is not notified: `rollout.rolled_back` fires on ROLLED_BACK, once all traffic
 *   is back on the stable version, and carries the ROLLBACK decision (the why) as `cause`.
 * - INITIAL_DEPLOY is `rollout.promoted` (the version became the stable one directly).
 * - ABORT is `rollout.failed`, and so is a FAILED action should the controller ever record one.
 * - RESUME and COMPLETE fire nothing.
 */
export const EVENT_OF_ACTION: { readonly [action: string]: WebhookEvent } = {
  START: 'rollout.started',
  SET_WEIGHT: 'rollout.step_advanced',
  ADVANCE: 'rollout.step_advanced',
  PAUSE: 'rollout.paused',
  ROLLED_BACK: 'rollout.rolled_back',
  PROMOTE: 'rollout.promoted',
  INITIAL_DEPLOY: 'rollout.promoted',
  ABORT: 'rollout.failed',
  FAILED: 'rollout.failed',
}

/** The actions that fire an event, for queries that look for them. */
export const NOTIFIED_ACTIONS: readonly string[] = Object.keys(EVENT_OF_ACTION)

/** The event a decision with this action fires, or null when it fires none. */
export function eventForAction(action: string): WebhookEvent | null {
  return Object.hasOwn(EVENT_OF_ACTION, action) ? (EVENT_OF_ACTION[action] ?? null) : null
}

export function isWebhookEvent(value: unknown): value is WebhookEvent {
  return typeof value === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(value)
}

export const MAX_URL_LENGTH = 2048
export const MIN_SECRET_LENGTH = 16
export const MAX_SECRET_LENGTH = 256

/**
 * Addresses a webhook may never reach: link-local ranges (where clouds serve instance
 * metadata and credentials, e.g. 169.254.169.254) and the metadata addresses outside them.
 * Loopback and private ranges stay allowed: Sentra is self-hosted and receivers are often
 * on the same network. IPv4-mapped IPv6 forms are caught too.
 */
const REFUSED = new BlockList()
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4') // IPv4 link-local: AWS, GCP, Azure, OpenStack metadata
REFUSED.addSubnet('fe80::', 10, 'ipv6') // IPv6 link-local
REFUSED.addAddress('fd00:ec2::254', 'ipv6') // AWS metadata over IPv6
REFUSED.addAddress('100.100.100.200', 'ipv4') // Alibaba Cloud metadata
const REFUSED_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata'])

/** True when an IP address (v4 or v6, without brackets) is one a webhook must never reach. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  return REFUSED.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Why a host name or address literal is refused, or null. */
function refusedHost(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
  if (REFUSED_HOSTS.has(host) || isRefusedAddress(host)) {
    return `${host} is a link-local or cloud metadata address; webhooks may not call it`
  }
  return null
}

/** The problem with a webhook URL, or null when it is acceptable. */
export function webhookUrlProblem(url: string): string | null {
  if (url.length === 0) return 'must not be empty'
  if (url.length > MAX_URL_LENGTH) return `at most ${MAX_URL_LENGTH} characters`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'not a valid URL (e.g. https://hooks.example.com/sentra)'
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `must be http or https, not ${parsed.protocol.replace(/:$/, '')}`
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials (user:password@); receivers check the signature instead'
  if (parsed.hostname === '') return 'needs a host'
  return refusedHost(parsed.hostname)
}

/** The problem with a secret chosen by the caller, or null. */
export function webhookSecretProblem(secret: string): string | null {
  if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH) {
    return `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`
  }
  // Control characters (newlines included) break copy-pasting into a receiver's config.
  if (/[\u0000-\u001f\u007f]/.test(secret)) return 'must not contain control characters'
  return null
}

/** A new random secret: `whsec_` + 32 random bytes, base64url. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`
}
