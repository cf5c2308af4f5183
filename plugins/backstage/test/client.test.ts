import { describe, expect, inject, it } from 'vitest'
import { SentraClient } from '../src/api/SentraClient'
import { SentraError } from '../src/api/errors'
import { freePort } from './support/ports'

const sentra = inject('sentra')

async function failure(promise: Promise<unknown>): Promise<SentraError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SentraError)
  return error as SentraError
}

describe('SentraClient against a real Sentra server', () => {
  const client = new SentraClient({ baseUrl: sentra.url, token: sentra.token })

  it('reads the application, its active rollout and its recent rollouts, newest first', async () => {
    const app = await client.getApplicationRollouts(sentra.application)
    expect(app).not.toBeNull()
    expect(app?.name).toBe(sentra.application)
    expect(app?.stableVersion).toBe('v1')

    expect(app?.active?.id).toBe(sentra.rollouts.v3)
    expect(app?.active).toMatchObject({ status: 'PAUSED', canaryWeight: 20, fromVersion: 'v1', toVersion: 'v3', finishedAt: null, currentStepIndex: 1 })
    expect(app?.active?.steps.map((s) => [s.kind, s.setWeight])).toEqual([
      ['SET_WEIGHT', 20],
      ['PAUSE', null],
    ])
    expect(app?.active?.lastDecision?.actor).toBe('controller')

    expect(app?.recent.map((r) => [r.id, r.status])).toEqual([
      [sentra.rollouts.v3, 'PAUSED'],
      [sentra.rollouts.v2, 'ABORTED'],
      [sentra.rollouts.v1, 'SUCCEEDED'],
    ])
    const aborted = app?.recent[1]
    expect(aborted?.finishedAt).not.toBeNull()
    expect(aborted?.lastDecision?.reason).toContain('not today')
    expect(app?.recent[2]?.fromVersion).toBeNull()
  })

  it('reads only as many recent rollouts as asked', async () => {
    const app = await client.getApplicationRollouts(sentra.application, { recent: 1 })
    expect(app?.recent.map((r) => r.toVersion)).toEqual(['v3'])
    expect(app?.active?.toVersion).toBe('v3')
  })

  it('answers null for an application Sentra does not have', async () => {
    expect(await client.getApplicationRollouts('no-such-app')).toBeNull()
  })

  it('turns a bad token into a clear "not signed in" error', async () => {
    const error = await failure(new SentraClient({ baseUrl: sentra.url, token: 'wrong-token-0123456789abcdef' }).getApplicationRollouts(sentra.application))
    expect(error.kind).toBe('unauthenticated')
    expect(error.status).toBe(401)
    expect(error.code).toBe('UNAUTHENTICATED')
    expect(error.message).toContain('not signed in')
    expect(error.message).toContain('a valid API token is required')
    expect(error.message).toContain('token given to the client')
  })

  it('turns no token at all into the same error', async () => {
    const error = await failure(new SentraClient({ baseUrl: sentra.url }).getApplicationRollouts(sentra.application))
    expect(error.kind).toBe('unauthenticated')
    expect(error.message).toContain("Backstage's proxy")
  })

  it('says so when nothing listens at the URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`
    const error = await failure(new SentraClient({ baseUrl: url, token: sentra.token }).getApplicationRollouts(sentra.application))
    expect(error.kind).toBe('network')
    expect(error.message).toContain(`Cannot reach Sentra at ${url}/graphql`)
    expect(error.message).toContain('ECONNREFUSED')
  })

  it('refuses bad application names and page sizes before sending anything', async () => {
    let sent = 0
    const counting = new SentraClient({ baseUrl: sentra.url, token: sentra.token, fetch: (input, init) => (sent++, fetch(input, init)) })
    for (const name of ['', 'Checkout', '1app', 'app-', 'a'.repeat(64), 'app/../x', 'app"){}', ' checkout']) {
      const error = await failure(counting.getApplicationRollouts(name))
      expect(error.kind).toBe('invalid-input')
      expect(error.message).toContain('is not a Sentra application name')
    }
    for (const recent of [0, -1, 101, 2.5, Number.NaN]) {
      expect((await failure(counting.getApplicationRollouts(sentra.application, { recent }))).message).toContain('recent: must be a whole number from 1 to 100')
    }
    expect(sent).toBe(0)
  })

  it('refuses a base URL that is neither http(s) nor a path, and a dashboard URL that is not http(s)', async () => {
    for (const baseUrl of ['javascript:alert(1)', 'ftp://sentra', 'sentra.example.com', '']) {
      expect((await failure(new SentraClient({ baseUrl }).getApplicationRollouts(sentra.application))).message).toContain("Sentra's URL must be an http(s) URL or a path")
    }
    expect(() => new SentraClient({ baseUrl: sentra.url, dashboardUrl: 'javascript:alert(1)' })).toThrow(/must be an http\(s\) URL/)
    expect(() => new SentraClient({ baseUrl: sentra.url, dashboardUrl: 'not a url' })).toThrow(/is not a URL/)
    expect(new SentraClient({ baseUrl: sentra.url, dashboardUrl: 'https://sentra.example.com///' }).dashboardUrl).toBe('https://sentra.example.com')
  })

  it('refuses a timeout or size limit that is not a positive whole number', () => {
    for (const timeoutMs of [0, -5, 1.5, Number.NaN, 600_001]) expect(() => new SentraClient({ baseUrl: sentra.url, timeoutMs })).toThrow(/timeoutMs: must be a whole number of milliseconds from 1 to 600000/)
    for (const maxResponseBytes of [0, -1, 0.5]) expect(() => new SentraClient({ baseUrl: sentra.url, maxResponseBytes })).toThrow(/maxResponseBytes: must be a positive whole number/)
  })

  it('accepts a base URL with a trailing slash', async () => {
    const app = await new SentraClient({ baseUrl: `${sentra.url}/`, token: sentra.token }).getApplicationRollouts(sentra.application)
    expect(app?.name).toBe(sentra.application)
  })
})
