/**
 * What a webhook request says: Sentra's JSON body, or a Slack-compatible `{ text, blocks }`.
 * Both are rendered once, when the delivery is queued, so every attempt sends the same bytes.
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { Decision, RolloutStatus } from '../../schema/store/models.ts'
import type { WebhookEvent, WebhookFormat } from '../../schema/webhooks.ts'

/** What one notification is about. */
export interface NotificationInput {
  deliveryId: string
  event: WebhookEvent
  application: string
  rollout: { id: string; fromVersion: string | null; toVersion: string; status: RolloutStatus; canaryWeight: number }
  decision: Decision
  /** For `rollout.rolled_back`: the ROLLBACK decision that started it (it says why); otherwise null. */
  cause: Decision | null
}

export interface DecisionView {
  action: string
  actor: string
  reason: string
  /** ISO 8601. */
  at: string
  stepIndex: number
  fromWeight: number
  toWeight: number
}

/** The `json` format's body. */
export interface WebhookBody {
  /** The delivery id (also `x-sentra-delivery`): the same on every attempt, so receivers can drop repeats. */
  id: string
  event: WebhookEvent
  /** When the decision was made, ISO 8601. */
  at: string
  application: string
  rollout: {
    /** Relay global id: use it with `rollout(id:)` in the graph. */
    id: string
    fromVersion: string | null
    toVersion: string
    /** The rollout's status when the notification was queued. */
    status: RolloutStatus
    /** The weight the target reported when the notification was queued; `decision.toWeight` is what was decided. */
    canaryWeight: number
  }
  decision: DecisionView
  /** Only on `rollout.rolled_back`: the ROLLBACK decision, with the reason the rollout was rolled back. */
  cause?: DecisionView
}

/** The `slack` format's body (Slack incoming webhooks accept it as it is). */
export interface SlackBody {
  text: string
  blocks: SlackBlock[]
}

export type SlackBlock =
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }

function view(decision: Decision): DecisionView {
  return {
    action: decision.action,
    actor: decision.actor,
    reason: decision.reason,
    at: decision.at.toISOString(),
    stepIndex: decision.stepIndex,
    fromWeight: decision.fromWeight,
    toWeight: decision.toWeight,
  }
}

export function jsonBody(input: NotificationInput): WebhookBody {
  const { rollout } = input
  return {
    id: input.deliveryId,
    event: input.event,
    at: input.decision.at.toISOString(),
    application: input.application,
    rollout: {
      id: encodeGlobalID('Rollout', rollout.id),
      fromVersion: rollout.fromVersion,
      toVersion: rollout.toVersion,
      status: rollout.status,
      canaryWeight: rollout.canaryWeight,
    },
    decision: view(input.decision),
    ...(input.cause ? { cause: view(input.cause) } : {}),
  }
}

/** What happened, in a few words: "rolled back", "now at 20 %", "promoted", ... */
function verbOf({ event, decision }: NotificationInput): string {
  switch (event) {
    case 'rollout.started':
      return 'started'
    case 'rollout.step_advanced':
      return decision.action === 'SET_WEIGHT' ? `now at ${decision.toWeight} %` : `passed step ${decision.stepIndex + 1}`
    case 'rollout.paused':
      return 'paused'
    case 'rollout.rolled_back':
      return 'rolled back'
    case 'rollout.promoted':
      return decision.action === 'INITIAL_DEPLOY' ? 'deployed as the first stable version' : 'promoted'
    case 'rollout.failed':
      return decision.action === 'ABORT' ? 'aborted' : 'failed'
  }
}

const EMOJI: Record<WebhookEvent, string> = {
  'rollout.started': ':rocket:',
  'rollout.step_advanced': ':arrow_forward:',
  'rollout.paused': ':double_vertical_bar:',
  'rollout.rolled_back': ':rewind:',
  'rollout.promoted': ':white_check_mark:',
  'rollout.failed': ':x:',
}

/** Slack section text stops at 3000 characters. */
const MAX_REASON = 2500

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** Slack's three control characters; everything else is shown as written. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** One readable line: "checkout v2 rolled back: error rate 7.9 % vs 0.4 % …". */
export function summaryOf(input: NotificationInput): string {
  const reason = (input.cause ?? input.decision).reason
  return `${input.application} ${input.rollout.toVersion} ${verbOf(input)}: ${clip(reason, MAX_REASON)}`
}

export function slackBody(input: NotificationInput): SlackBody {
  const { application, rollout, decision, event } = input
  const reason = clip((input.cause ?? decision).reason, MAX_REASON)
  const details = [
    rollout.fromVersion ? `stable ${rollout.fromVersion}` : 'no stable version before',
    `weight ${decision.fromWeight} % → ${decision.toWeight} %`,
    `by ${(input.cause ?? decision).actor}`,
    event,
  ]
  return {
    text: escapeSlack(summaryOf(input)),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `${EMOJI[event]} *${escapeSlack(application)}* \`${escapeSlack(rollout.toVersion)}\` ${verbOf(input)}: ${escapeSlack(reason)}` },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(details.join(' · ')) }] },
    ],
  }
}

/** The request body for a subscription's format, as JSON text. */
export function renderBody(format: WebhookFormat, input: NotificationInput): string {
  return JSON.stringify(format === 'slack' ? slackBody(input) : jsonBody(input))
}
