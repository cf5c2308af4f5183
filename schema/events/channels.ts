/**
 * The bus contract: every channel Sentra publishes on, the payload each one carries, and a
 * runtime validator per channel. Both transports validate outgoing payloads (a bug that
 * publishes a bad payload throws at the publisher) and the Redis transport validates every
 * incoming message (garbage on the channel is dropped and counted, never handed to a handler).
 *
 * Pub/sub is at-most-once (see STACK.md, trap 5): an event can be lost while a subscriber is
 * reconnecting. `rollout.changed` therefore carries a per-rollout sequence number so that a
 * subscriber can see a gap and refetch; the bus's `onReconnect` hook says when to refetch.
 */
import { z } from 'zod'

/** What changed about a rollout. */
export const ROLLOUT_CHANGE_KINDS = ['created', 'state', 'weight', 'step', 'window', 'decision', 'command'] as const
export type RolloutChangeKind = (typeof ROLLOUT_CHANGE_KINDS)[number]

/** Operator commands, as recorded by the API and applied by the controller holding the rollout. */
export const ROLLOUT_COMMAND_KINDS = ['PROMOTE', 'PAUSE', 'RESUME', 'ROLLBACK', 'ABORT'] as const
export type RolloutCommandKind = (typeof ROLLOUT_COMMAND_KINDS)[number]

/** `rollout.changed`: something about a rollout changed; read it again from the store. */
export interface RolloutChangedEvent {
  rolloutId: string
  application: string
  /** Per-rollout sequence number (integer >= 0), increasing with every change; a gap means a lost event. */
  seq: number
  status: string
  kind: RolloutChangeKind
  /** ISO 8601 time of the change. */
  at: string
}

/** `rollout.command`: an operator asked for something; the controller holding the rollout applies it. */
export interface RolloutCommandEvent {
  commandId: string
  rolloutId: string
  application: string
  kind: RolloutCommandKind
  /** For PROMOTE: all the way (true) or only the next step (false). */
  full: boolean
  actor: string
  /** ISO 8601 time the command was recorded. */
  at: string
}

/** `application.changed`: an application was created or its spec changed. */
export interface ApplicationChangedEvent {
  applicationId: string
  name: string
  /** ISO 8601 time of the change. */
  at: string
}

/** `preflight.request`: before a rollout starts, the API asks a controller to try its provider gates. */
export interface PreflightRequestEvent {
  requestId: string
  application: string
  version: string
  at: string
}

/** One provider gate that failed its dry run: which gate, which provider, and the provider's own words. */
export interface PreflightIssue {
  gate: string
  provider: string
  message: string
}

/** `preflight.reply`: a controller's answer; `issues` is empty when every provider answered and every query parsed. */
export interface PreflightReplyEvent {
  requestId: string
  responder: string
  issues: PreflightIssue[]
  at: string
}

/** Channel name → payload type. */
export interface Payloads {
  'rollout.changed': RolloutChangedEvent
  'rollout.command': RolloutCommandEvent
  'application.changed': ApplicationChangedEvent
  'preflight.request': PreflightRequestEvent
  'preflight.reply': PreflightReplyEvent
}

export type Channel = keyof Payloads

/** Every channel, once. */
export const CHANNELS = ['rollout.changed', 'rollout.command', 'application.changed', 'preflight.request', 'preflight.reply'] as const satisfies readonly Channel[]

// Compile-time check that CHANNELS lists every key of Payloads.
type MissingChannels = Exclude<Channel, (typeof CHANNELS)[number]>
const everyChannelListed: MissingChannels extends never ? true : never = true
void everyChannelListed

/** The largest message (JSON, in UTF-8 bytes) the bus sends or accepts. */
export const MAX_MESSAGE_BYTES = 1024 * 1024

const id = z.string().min(1).max(200)
const isoTime = z.iso.datetime({ offset: true })

/**
 * The zod schema of each channel's payload. Unknown keys are stripped (a newer publisher may
 * add fields an older subscriber does not know); known keys must have the right type.
 */
export const PAYLOAD_SCHEMAS = {
  'rollout.changed': z.object({
    rolloutId: id,
    application: z.string().min(1).max(200),
    seq: z.number().int().nonnegative(),
    status: z.string().min(1).max(100),
    kind: z.enum(ROLLOUT_CHANGE_KINDS),
    at: isoTime,
  }) satisfies z.ZodType<RolloutChangedEvent>,
  'rollout.command': z.object({
    commandId: id,
    rolloutId: id,
    application: z.string().min(1).max(200),
    kind: z.enum(ROLLOUT_COMMAND_KINDS),
    full: z.boolean(),
    actor: z.string().min(1).max(500),
    at: isoTime,
  }) satisfies z.ZodType<RolloutCommandEvent>,
  'application.changed': z.object({
    applicationId: id,
    name: z.string().min(1).max(200),
    at: isoTime,
  }) satisfies z.ZodType<ApplicationChangedEvent>,
  'preflight.request': z.object({
    requestId: id,
    application: z.string().min(1).max(200),
    version: z.string().min(1).max(200),
    at: isoTime,
  }) satisfies z.ZodType<PreflightRequestEvent>,
  'preflight.reply': z.object({
    requestId: id,
    responder: z.string().min(1).max(500),
    issues: z.array(z.object({ gate: z.string().max(200), provider: z.string().max(200), message: z.string().max(4000) })).max(100),
    at: isoTime,
  }) satisfies z.ZodType<PreflightReplyEvent>,
} as const satisfies { [C in Channel]: z.ZodType<Payloads[C]> }

/** The outcome of validating a value against a channel's contract. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: string }

/** A channel's validator: the value with unknown keys stripped, or a message naming the bad fields. */
export type Validator<T> = (value: unknown) => ValidationResult<T>

function validatorFor<C extends Channel>(channel: C): Validator<Payloads[C]> {
  // Each entry is checked against its payload type where PAYLOAD_SCHEMAS is defined.
  const schema = PAYLOAD_SCHEMAS[channel] as unknown as z.ZodType<Payloads[C]>
  return (value) => {
    const result = schema.safeParse(value)
    if (result.success) return { ok: true, value: result.data }
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(payload)'
      return `${path}: ${issue.message}`
    })
    return { ok: false, error: problems.join('; ') }
  }
}

/** One validator per channel, used on publish and on receive. */
export const VALIDATORS: { readonly [C in Channel]: Validator<Payloads[C]> } = {
  'rollout.changed': validatorFor('rollout.changed'),
  'rollout.command': validatorFor('rollout.command'),
  'application.changed': validatorFor('application.changed'),
  'preflight.request': validatorFor('preflight.request'),
  'preflight.reply': validatorFor('preflight.reply'),
}

/** Whether `value` is a known channel name. */
export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value)
}

/** Type guard form of the channel's validator. */
export function isPayload<C extends Channel>(channel: C, value: unknown): value is Payloads[C] {
  return VALIDATORS[channel](value).ok
}

/** Thrown at the publisher when a payload breaks its channel's contract or is too large. */
export class InvalidPayloadError extends Error {
  override readonly name = 'InvalidPayloadError'
  readonly channel: Channel
  constructor(channel: Channel, detail: string) {
    super(`invalid payload for channel "${channel}": ${detail}`)
    this.channel = channel
  }
}

/**
 * Validates an outgoing payload and serializes it: the JSON text of the validated value
 * (unknown keys stripped). Throws `InvalidPayloadError` on a contract violation or when the
 * message is larger than `MAX_MESSAGE_BYTES`.
 */
export function encodePayload<C extends Channel>(channel: C, payload: Payloads[C]): string {
  if (!isChannel(channel)) throw new TypeError(`unknown channel: ${String(channel)}`)
  const checked = VALIDATORS[channel](payload)
  if (!checked.ok) throw new InvalidPayloadError(channel, checked.error)
  const text = JSON.stringify(checked.value)
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new InvalidPayloadError(channel, `message is ${bytes} bytes, more than the ${MAX_MESSAGE_BYTES}-byte limit`)
  }
  return text
}

/** Why an incoming message was rejected. */
export type DecodeFailure = 'too-large' | 'not-json' | 'invalid'

/**
 * Parses and validates an incoming message. Never throws: a bad message comes back as a
 * failure with its reason, for the transport to drop and count.
 */
export function decodeMessage<C extends Channel>(
  channel: C,
  message: string | Buffer,
): { ok: true; value: Payloads[C] } | { ok: false; reason: DecodeFailure; error: string } {
  const bytes = typeof message === 'string' ? Buffer.byteLength(message, 'utf8') : message.length
  if (bytes > MAX_MESSAGE_BYTES) {
    return { ok: false, reason: 'too-large', error: `message is ${bytes} bytes, more than the ${MAX_MESSAGE_BYTES}-byte limit` }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(typeof message === 'string' ? message : message.toString('utf8'))
  } catch (error) {
    return { ok: false, reason: 'not-json', error: error instanceof Error ? error.message : String(error) }
  }
  const checked = VALIDATORS[channel](parsed)
  if (!checked.ok) return { ok: false, reason: 'invalid', error: checked.error }
  return { ok: true, value: checked.value }
}
