/**
 * Webhook signatures. Every request carries
 *
 *   x-sentra-timestamp: <unix seconds>
 *   x-sentra-signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with the secret>
 *
 * A receiver recomputes the HMAC over the raw body bytes it received, compares it in
 * constant time, and refuses a timestamp that is not recent (a replayed request carries an
 * old timestamp, and changing the timestamp breaks the signature). `verifySignature` does
 * all three; it depends on node:crypto only, so receivers can copy this file as it is.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-sentra-signature'
export const TIMESTAMP_HEADER = 'x-sentra-timestamp'
export const EVENT_HEADER = 'x-sentra-event'
export const DELIVERY_HEADER = 'x-sentra-delivery'

/** How far a timestamp may be from the receiver's clock, by default: five minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300

/** `sha256=<hex>`: the HMAC-SHA256 of `<timestamp>.<body>` with `secret`. */
export function signPayload(secret: string, timestamp: string | number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret)
  hmac.update(`${timestamp}.`, 'utf8')
  hmac.update(body)
  return `sha256=${hmac.digest('hex')}`
}

/**
 * Whether a request really comes from Sentra and is recent.
 *
 * @param secret the subscription's secret
 * @param timestamp the `x-sentra-timestamp` header (unix seconds)
 * @param body the raw request body, exactly as received (not re-serialized JSON)
 * @param signature the `x-sentra-signature` header
 * @param now the receiver's clock: a Date or epoch milliseconds (default: now)
 * @param toleranceSeconds how far the timestamp may be from `now` (default 300)
 *
 * @example
 * const ok = verifySignature(secret, req.headers['x-sentra-timestamp'], rawBody, req.headers['x-sentra-signature'])
 * if (!ok) return res.writeHead(401).end()
 */
export function verifySignature(
  secret: string,
  timestamp: string | null | undefined,
  body: string | Uint8Array,
  signature: string | null | undefined,
  now: Date | number = Date.now(),
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(timestamp)) return false
  const nowSeconds = Math.floor((typeof now === 'number' ? now : now.getTime()) / 1000)
  if (!(Math.abs(nowSeconds - Number(timestamp)) <= toleranceSeconds)) return false
  const expected = Buffer.from(signPayload(secret, timestamp, body), 'utf8')
  const given = Buffer.from(signature, 'utf8')
  // timingSafeEqual needs equal lengths; the length of a well-formed signature is no secret.
  return expected.length === given.length && timingSafeEqual(expected, given)
}
