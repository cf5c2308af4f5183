import { decodeGlobalID } from '@pothos/plugin-relay'
import { describe, expect, it } from 'vitest'
import type { Decision } from '../../schema/store/models.ts'
import { jsonBody, renderBody, slackBody, summaryOf, type NotificationInput } from './payload.ts'

const ROLLOUT_ID = '6f1c1a6e-3f59-4c38-9f53-0f3f3b0b8e11'

function decision(action: string, reason: string, extra: Partial<Decision> = {}): Decision {
  return {
    id: `d-${action}`,
    rolloutId: ROLLOUT_ID,
    seq: 3,
    at: new Date('2026-05-01T10:00:00.000Z'),
    action,
    actor: 'controller',
    reason,
    stepIndex: 1,
    fromWeight: 20,
    toWeight: 0,
    evidence: { gates: [] },
    ...extra,
  }
}

const rolledBack: NotificationInput = {
  deliveryId: 'delivery-1',
  event: 'rollout.rolled_back',
  application: 'checkout',
  rollout: { id: ROLLOUT_ID, fromVersion: 'v1', toVersion: 'v2', status: 'ROLLED_BACK', canaryWeight: 0 },
  decision: decision('ROLLED_BACK', 'rolled back: all traffic is on the stable version', { fromWeight: 0, seq: 4, at: new Date('2026-05-01T10:00:01.000Z') }),
  cause: decision('ROLLBACK', 'error rate 7.9 % vs 0.4 %'),
}

describe('webhook bodies', () => {
  it('json: the delivery, the event, the rollout with its Relay id, the decision, and the cause of a rollback', () => {
    const body = jsonBody(rolledBack)
    expect(body).toEqual({
      id: 'delivery-1',
      event: 'rollout.rolled_back',
      at: '2026-05-01T10:00:01.000Z',
      application: 'checkout',
      rollout: { id: expect.any(String), fromVersion: 'v1', toVersion: 'v2', status: 'ROLLED_BACK', canaryWeight: 0 },
      decision: { action: 'ROLLED_BACK', actor: 'controller', reason: 'rolled back: all traffic is on the stable version', at: '2026-05-01T10:00:01.000Z', stepIndex: 1, fromWeight: 0, toWeight: 0 },
      cause: { action: 'ROLLBACK', actor: 'controller', reason: 'error rate 7.9 % vs 0.4 %', at: '2026-05-01T10:00:00.000Z', stepIndex: 1, fromWeight: 20, toWeight: 0 },
    })
    expect(decodeGlobalID(body.rollout.id)).toEqual({ typename: 'Rollout', id: ROLLOUT_ID })
    expect(JSON.parse(renderBody('json', rolledBack))).toEqual(body)
    // No cause key on other events; no evidence in any body.
    const started = jsonBody({ ...rolledBack, event: 'rollout.started', decision: decision('START', 'rollout started'), cause: null })
    expect(Object.keys(started)).toEqual(['id', 'event', 'at', 'application', 'rollout', 'decision'])
    expect(renderBody('json', rolledBack)).not.toContain('evidence')
  })

  it('slack: a readable summary as text, and blocks', () => {
    expect(summaryOf(rolledBack)).toBe('checkout v2 rolled back: error rate 7.9 % vs 0.4 %')
    const body = slackBody(rolledBack)
    expect(body.text).toBe('checkout v2 rolled back: error rate 7.9 % vs 0.4 %')
    expect(body.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: ':rewind: *checkout* `v2` rolled back: error rate 7.9 % vs 0.4 %' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'stable v1 · weight 0 % → 0 % · by controller · rollout.rolled_back' }] },
    ])
    expect(JSON.parse(renderBody('slack', rolledBack))).toEqual(body)
  })

  it('slack: one phrase per event, escapes Slack control characters, clips long reasons', () => {
    const base = { ...rolledBack, cause: null }
    const say = (event: NotificationInput['event'], d: Decision) => summaryOf({ ...base, event, decision: d })
    expect(say('rollout.started', decision('START', 'rollout started'))).toBe('checkout v2 started: rollout started')
    expect(say('rollout.step_advanced', decision('SET_WEIGHT', 'weight 0 % → 20 %', { toWeight: 20 }))).toBe('checkout v2 now at 20 %: weight 0 % → 20 %')
    expect(say('rollout.step_advanced', decision('ADVANCE', 'analysis passed'))).toBe('checkout v2 passed step 2: analysis passed')
    expect(say('rollout.paused', decision('PAUSE', 'paused by alice'))).toBe('checkout v2 paused: paused by alice')
    expect(say('rollout.promoted', decision('PROMOTE', 'all 4 steps done'))).toBe('checkout v2 promoted: all 4 steps done')
    expect(say('rollout.promoted', decision('INITIAL_DEPLOY', 'initial deploy'))).toBe('checkout v2 deployed as the first stable version: initial deploy')
    expect(say('rollout.failed', decision('ABORT', 'aborted by bob'))).toBe('checkout v2 aborted: aborted by bob')

    const tricky = slackBody({ ...base, event: 'rollout.paused', decision: decision('PAUSE', '<!channel> a & b > c') })
    expect(tricky.text).toBe('checkout v2 paused: &lt;!channel&gt; a &amp; b &gt; c')
    expect(JSON.stringify(tricky.blocks)).not.toContain('<!channel>')
    const long = slackBody({ ...base, event: 'rollout.paused', decision: decision('PAUSE', 'x'.repeat(10_000)) })
    expect((long.blocks[0] as { text: { text: string } }).text.text.length).toBeLessThan(3000)
  })
})
