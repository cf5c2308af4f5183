import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signPayload, verifySignature } from './signature.ts'

const SECRET = 'whsec_test_secret_0123456789'
const BODY = '{"id":"d1","event":"rollout.started","note":"é ✓"}'

describe('webhook signatures', () => {
  it('is sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">', () => {
    const expected = createHmac('sha256', SECRET).update(`1700000000.${BODY}`).digest('hex')
    expect(signPayload(SECRET, 1700000000, BODY)).toBe(`sha256=${expected}`)
    expect(signPayload(SECRET, '1700000000', Buffer.from(BODY))).toBe(`sha256=${expected}`)
  })

  it('verifies a fresh signature over the raw body, with a Date or epoch ms as now', () => {
    const signature = signPayload(SECRET, '1700000000', BODY)
    expect(verifySignature(SECRET, '1700000000', BODY, signature, 1700000000_000)).toBe(true)
    expect(verifySignature(SECRET, '1700000000', Buffer.from(BODY), signature, new Date(1700000299_000))).toBe(true)
    expect(verifySignature(SECRET, '1700000000', BODY, signature, new Date(1699999701_000))).toBe(true)
  })

  it('refuses an old or future timestamp (replays), whatever the signature', () => {
    const signature = signPayload(SECRET, '1700000000', BODY)
    expect(verifySignature(SECRET, '1700000000', BODY, signature, 1700000301_000)).toBe(false)
    expect(verifySignature(SECRET, '1700000000', BODY, signature, 1699999699_000)).toBe(false)
    expect(verifySignature(SECRET, '1700000000', BODY, signature, 1700000030_000, 10)).toBe(false)
  })

  it('refuses a changed body, timestamp, secret or signature, and malformed headers', () => {
    const signature = signPayload(SECRET, '1700000000', BODY)
    const now = 1700000000_000
    expect(verifySignature(SECRET, '1700000000', `${BODY} `, signature, now)).toBe(false)
    expect(verifySignature(SECRET, '1700000001', BODY, signature, now)).toBe(false)
    expect(verifySignature(`${SECRET}x`, '1700000000', BODY, signature, now)).toBe(false)
    expect(verifySignature(SECRET, '1700000000', BODY, signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')), now)).toBe(false)
    expect(verifySignature(SECRET, '1700000000', BODY, signature.slice(0, -1), now)).toBe(false)
    expect(verifySignature(SECRET, '1700000000', BODY, signature.replace('sha256=', ''), now)).toBe(false)
    expect(verifySignature(SECRET, undefined, BODY, signature, now)).toBe(false)
    expect(verifySignature(SECRET, '1700000000', BODY, undefined, now)).toBe(false)
    expect(verifySignature(SECRET, '1.7e9', BODY, signature, now)).toBe(false)
    expect(verifySignature(SECRET, ' 1700000000', BODY, signature, now)).toBe(false)
  })
})
