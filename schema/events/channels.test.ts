import { describe, expect, it } from 'vitest'
import { rolloutChanged } from '../../test/support/events.ts'
import {
  CHANNELS,
  InvalidPayloadError,
  MAX_MESSAGE_BYTES,
  VALIDATORS,
  decodeMessage,
  encodePayload,
  isChannel,
  isPayload,
  type Payloads,
} from './channels.ts'

const command: Payloads['rollout.command'] = {
  commandId: 'c1',
  rolloutId: 'r1',
  application: 'checkout',
  kind: 'ROLLBACK',
  full: false,
  actor: 'token:ci',
  at: '2026-03-01T12:00:00.000Z',
}

describe('the channel contract', () => {
  it('lists every channel once, each with a validator', () => {
    expect([...CHANNELS].sort()).toEqual(['application.changed', 'preflight.reply', 'preflight.request', 'rollout.changed', 'rollout.command'])
    expect(Object.keys(VALIDATORS).sort()).toEqual([...CHANNELS].sort())
    expect(isChannel('rollout.changed')).toBe(true)
    expect(isChannel('rollout.deleted')).toBe(false)
    expect(isChannel(42)).toBe(false)
  })

  it('accepts valid payloads', () => {
    expect(isPayload('rollout.changed', rolloutChanged(0))).toBe(true)
    expect(isPayload('rollout.command', command)).toBe(true)
    expect(isPayload('application.changed', { applicationId: 'a', name: 'b', at: '2026-03-01T12:00:00+01:00' })).toBe(true)
    for (const kind of ['created', 'state', 'weight', 'step', 'window', 'decision', 'command'] as const) {
      expect(isPayload('rollout.changed', rolloutChanged(3, { kind }))).toBe(true)
    }
  })

  it('names the offending field', () => {
    const cases: [unknown, string][] = [
      [{ ...rolloutChanged(0), seq: -1 }, 'seq'],
      [{ ...rolloutChanged(0), seq: 2 ** 53 }, 'seq'],
      [{ ...rolloutChanged(0), seq: '1' }, 'seq'],
      [{ ...rolloutChanged(0), kind: 'STATE' }, 'kind'],
      [{ ...rolloutChanged(0), at: '2026-03-01' }, 'at'],
      [{ ...rolloutChanged(0), status: 7 }, 'status'],
      [{ ...rolloutChanged(0), application: undefined }, 'application'],
    ]
    for (const [value, field] of cases) {
      const result = VALIDATORS['rollout.changed'](value)
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.error).toMatch(new RegExp(`^${field}: `))
    }
    const wrongCommand = VALIDATORS['rollout.command']({ ...command, full: 'yes', kind: 'STOP' })
    expect(wrongCommand.ok).toBe(false)
    if (!wrongCommand.ok) {
      expect(wrongCommand.error).toMatch(/kind: /)
      expect(wrongCommand.error).toMatch(/full: /)
    }
    const notAnObject = VALIDATORS['application.changed']('hello')
    expect(notAnObject.ok).toBe(false)
    if (!notAnObject.ok) expect(notAnObject.error).toMatch(/^\(payload\): /)
  })

  it('encodes the validated value, stripped of unknown keys', () => {
    const text = encodePayload('rollout.command', { ...command, extra: true } as Payloads['rollout.command'])
    expect(JSON.parse(text)).toEqual(command)
    expect(() => encodePayload('rollout.command', { ...command, actor: '' })).toThrow(InvalidPayloadError)
    expect(() => encodePayload('nope' as 'rollout.command', command)).toThrow(/unknown channel/)
  })

  it('decodes without throwing, saying why a message was rejected', () => {
    expect(decodeMessage('rollout.changed', JSON.stringify(rolloutChanged(1)))).toEqual({ ok: true, value: rolloutChanged(1) })
    expect(decodeMessage('rollout.changed', Buffer.from(JSON.stringify(rolloutChanged(1))))).toEqual({ ok: true, value: rolloutChanged(1) })
    expect(decodeMessage('rollout.changed', '{oops')).toMatchObject({ ok: false, reason: 'not-json' })
    expect(decodeMessage('rollout.changed', '{"seq":1}')).toMatchObject({ ok: false, reason: 'invalid' })
    const huge = JSON.stringify({ ...rolloutChanged(1), padding: 'é'.repeat(MAX_MESSAGE_BYTES / 2) })
    expect(decodeMessage('rollout.changed', huge)).toMatchObject({ ok: false, reason: 'too-large' })
  })
})

describe('the preflight channels', () => {
  it('accept a well-formed request and reply, and refuse malformed ones naming the field', () => {
    const at = new Date().toISOString()
    expect(VALIDATORS['preflight.request']({ requestId: 'r1', application: 'shop', version: 'v2', at }).ok).toBe(true)
    expect(VALIDATORS['preflight.reply']({ requestId: 'r1', responder: 'c1', issues: [{ gate: 'p95', provider: 'prometheus', message: 'parse error' }], at }).ok).toBe(true)
    const bad = VALIDATORS['preflight.reply']({ requestId: 'r1', responder: 'c1', issues: [{ gate: 'p95', provider: 'prometheus', message: 7 }], at })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error).toMatch(/issues\.0\.message/)
    expect(VALIDATORS['preflight.reply']({ requestId: 'r1', responder: 'c1', issues: Array.from({ length: 101 }, () => ({ gate: 'g', provider: 'p', message: 'm' })), at }).ok).toBe(false)
    expect(VALIDATORS['preflight.request']({ requestId: '', application: 'shop', version: 'v2', at }).ok).toBe(false)
  })
})
