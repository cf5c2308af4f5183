export { Notifier, startNotifier, type NotifierOptions, type NotifierSettings, type NotifierStats } from './notifier.ts'
export { jsonBody, renderBody, slackBody, summaryOf, type NotificationInput, type SlackBody, type WebhookBody } from './payload.ts'
export { retryDelayMs } from './backoff.ts'
export { postWebhook, WebhookRequestError } from './send.ts'
export {
  DEFAULT_TOLERANCE_SECONDS,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signPayload,
  verifySignature,
} from './signature.ts'
