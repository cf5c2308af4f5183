import { describe, expect, it } from 'vitest'
import {
  EVENT_OF_ACTION,
  WEBHOOK_EVENTS,
  eventForAction,
  generateWebhookSecret,
  isRefusedAddress,
  webhookSecretProblem,
  webhookUrlProblem,
} from './webhooks.ts'

describe('webhook events', () => {
  it('maps decision actions to events as documented', () => {
    expect(
      Object.fromEntries(['INITIAL_DEPLOY', 'START', 'SET_WEIGHT', 'ADVANCE', 'PAUSE', 'RESUME', 'ROLLBACK', 'ROLLED_BACK', 'ABORT', 'PROMOTE', 'COMPLETE', 'FAILED'].map((a) => [a, eventForAction(a)])),
    ).toEqual({
      INITIAL_DEPLOY: 'rollout.promoted',
      START: 'rollout.started',
      SET_WEIGHT: 'rollout.step_advanced',
      ADVANCE: 'rollout.step_advanced',
      PAUSE: 'rollout.paused',
      RESUME: null,
      ROLLBACK: null,
      ROLLED_BACK: 'rollout.rolled_back',
      ABORT: 'rollout.failed',
      PROMOTE: 'rollout.promoted',
      COMPLETE: null,
      FAILED: 'rollout.failed',
    })
    expect(eventForAction('toString')).toBeNull()
    expect(new Set(Object.values(EVENT_OF_ACTION))).toEqual(new Set(WEBHOOK_EVENTS))
  })
})

describe('webhook URLs', () => {
  it.each([
    'http://127.0.0.1:8080/hook',
    'https://hooks.slack.com/services/T000/B000/XXXX',
    'http://[::1]:9000/',
    'http://10.1.2.3/x',
    'http://receiver.internal:81/a?b=c',
    `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`,
  ])('accepts %s', (url) => {
    expect(webhookUrlProblem(url)).toBeNull()
  })

  it.each([
    ['', /empty/],
    ['not a url', /not a valid URL/],
    ['/relative/path', /not a valid URL/],
    ['ftp://example.com/x', /http or https, not ftp/],
    ['file:///etc/passwd', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['https://user:pass@example.com/x', /credentials/],
    ['https://token@example.com/x', /credentials/],
    [`https://example.com/${'a'.repeat(2048)}`, /at most 2048/],
    ['http://169.254.169.254/latest/meta-data/', /link-local or cloud metadata/],
    ['http://169.254.1.1:8080/', /link-local/],
    ['http://2852039166/', /link-local/], // 169.254.169.254 as one number
    ['http://0xa9.0xfe.0xa9.0xfe/', /link-local/],
    ['http://[::ffff:169.254.169.254]/', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[fd00:ec2::254]/', /metadata/],
    ['http://100.100.100.200/', /metadata/],
    ['http://metadata.google.internal/computeMetadata/v1/', /metadata/],
    ['http://METADATA.google.internal./', /metadata/],
  ])('refuses %j', (url, problem) => {
    expect(webhookUrlProblem(url)).toMatch(problem)
  })

  it('tells refused addresses from others', () => {
    expect(['169.254.169.254', '::ffff:169.254.169.254', 'fe80::abcd', 'fd00:ec2::254'].map(isRefusedAddress)).toEqual([true, true, true, true])
    expect(['127.0.0.1', '::1', '10.0.0.1', '192.168.1.1', 'example.com'].map(isRefusedAddress)).toEqual([false, false, false, false, false])
  })
})

describe('webhook secrets', () => {
  it('takes 16 to 256 characters without control characters', () => {
    expect(webhookSecretProblem('a'.repeat(16))).toBeNull()
    expect(webhookSecretProblem('a'.repeat(256))).toBeNull()
    expect(webhookSecretProblem('a'.repeat(15))).toMatch(/16 to 256/)
    expect(webhookSecretProblem('a'.repeat(257))).toMatch(/16 to 256/)
    expect(webhookSecretProblem(`${'a'.repeat(16)}\n`)).toMatch(/control/)
  })

  it('generates long random ones that pass the check', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()]
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
    expect(a).not.toBe(b)
    expect(webhookSecretProblem(a)).toBeNull()
  })
})
