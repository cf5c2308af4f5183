import type { LookupAddress } from 'node:dns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../test/support/rollouts.ts'
import { startReceiver, type WebhookReceiver } from '../../test/support/webhook-receiver.ts'
import { guardedLookup, postWebhook, WebhookRequestError } from './send.ts'

function lookup(host: string, all: boolean): Promise<string | LookupAddress[]> {
  return new Promise((resolve, reject) => {
    guardedLookup(host, { all }, (error, address) => (error ? reject(error) : resolve(address)))
  })
}

describe('postWebhook', () => {
  let receiver: WebhookReceiver
  beforeAll(async () => {
    receiver = await startReceiver({ respond: (_req, i) => (i === 0 ? { status: 201, body: 'created\n  fine' } : { status: 302, body: '' }) })
  })
  afterAll(async () => receiver?.close())

  it('POSTs the body with the headers and a content-length, and reports the answer', async () => {
    const result = await postWebhook(receiver.url, { headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: '{"é":1}', timeoutMs: 2000 })
    expect(result).toEqual({ statusCode: 201, snippet: 'created fine' })
    expect(receiver.requests[0]).toMatchObject({ method: 'POST', path: '/hooks/sentra', body: '{"é":1}' })
    expect(receiver.requests[0]?.headers).toMatchObject({ 'x-test': 'yes', 'content-length': '8' })
    // Redirects are answers, never followed.
    expect((await postWebhook(receiver.url, { headers: {}, body: '{}', timeoutMs: 2000 })).statusCode).toBe(302)
    expect(receiver.requests).toHaveLength(2)
  })

  it('fails with a clear error on a closed port, a timeout, and an abort', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/`
    await expect(postWebhook(closed, { headers: {}, body: '{}', timeoutMs: 2000 })).rejects.toMatchObject({ kind: 'network', message: expect.stringMatching(/connection refused.*ECONNREFUSED/) })
    const slow = await startReceiver({ respond: () => ({ status: 200, delayMs: 5000 }) })
    try {
      const started = Date.now()
      await expect(postWebhook(slow.url, { headers: {}, body: '{}', timeoutMs: 200 })).rejects.toMatchObject({ kind: 'timeout', message: expect.stringMatching(/timed out/) })
      expect(Date.now() - started).toBeLessThan(2000)
      const controller = new AbortController()
      const pending = postWebhook(slow.url, { headers: {}, body: '{}', timeoutMs: 5000, signal: controller.signal })
      setTimeout(() => controller.abort(), 50)
      await expect(pending).rejects.toMatchObject({ kind: 'aborted' })
    } finally {
      await slow.close()
    }
  })

  it('never connects to a link-local or metadata address, by literal or by name resolution', async () => {
    await expect(postWebhook('http://169.254.169.254/latest/meta-data/', { headers: {}, body: '{}', timeoutMs: 1000 })).rejects.toBeInstanceOf(WebhookRequestError)
    await expect(postWebhook('http://[fe80::1]/', { headers: {}, body: '{}', timeoutMs: 1000 })).rejects.toMatchObject({ kind: 'refused-address' })
    // The lookup guard filters what DNS answers (dns.lookup answers a literal with itself).
    await expect(lookup('169.254.169.254', false)).rejects.toMatchObject({ kind: 'refused-address' })
    await expect(lookup('169.254.169.254', true)).rejects.toMatchObject({ kind: 'refused-address' })
    expect(await lookup('127.0.0.1', false)).toBe('127.0.0.1')
    expect(await lookup('127.0.0.1', true)).toEqual([{ address: '127.0.0.1', family: 4 }])
  })
})
