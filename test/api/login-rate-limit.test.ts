import { afterEach, describe, expect, it } from 'vitest'
import { createBus } from '../../schema/events/index.ts'
import { createStore } from '../../schema/store/index.ts'
import { createApiServer, type ApiServer } from '../../server/app.ts'
import type { RateLimit } from '../../server/rate-limit.ts'
import { openTestStore } from '../support/databases.ts'

/**
 * /login (the sign-in form and the token URL) is charged to the same per-address bucket as
 * failed token checks on /graphql (docs/security.md, "Rate limit"): every attempt that does
 * not sign in takes one, and an address out of it is answered 429 with Retry-After before
 * its token is hashed or its form read. Slow refill (one every 5 s) so a slow machine cannot
 * refill a bucket between two requests of a test.
 */
const LIMIT: RateLimit = { perSecond: 0.2, burst: 3 }

const running: { server: ApiServer; dispose(): Promise<void> }[] = []
afterEach(async () => {
  for (const { server, dispose } of running.splice(0)) {
    await server.close()
    await dispose()
  }
})

async function start(rateLimit: RateLimit | null = LIMIT) {
  const database = await openTestStore('sqlite')
  const store = createStore(database.db)
  const server = createApiServer({ store, bus: createBus(undefined), rateLimit })
  const { url } = await server.listen(0, '127.0.0.1')
  running.push({ server, dispose: database.dispose })
  const token = (await store.tokens.create('login test', 'read')).token
  const form = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body })
  const byUrl = (value: string) => fetch(`${url}/login?token=${encodeURIComponent(value)}`, { redirect: 'manual' })
  const graphql = (bearer: string | null) =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    })
  return { url, token, form, byUrl, graphql }
}

/** A 429 as /login answers it: Retry-After in whole seconds, a plain reason, no cookie. */
async function expectHeldOff(response: Response): Promise<number> {
  expect(response.status).toBe(429)
  const retryAfter = Number(response.headers.get('retry-after'))
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true)
  expect(response.headers.get('set-cookie')).toBeNull()
  expect(await response.text()).toMatch(/too many failed sign-ins.*retry in \d+ s/i)
  return retryAfter
}

describe('/login rate limit', () => {
  it('holds an address off after failed sign-ins (form and URL), then lets a valid one in after Retry-After', async () => {
    const api = await start()
    expect((await api.form('token=wrong-1')).status).toBe(401)
    expect((await api.byUrl('wrong-2')).status).toBe(401)
    expect((await api.form('token=wrong-3')).status).toBe(401)
    // Out of attempts: refused before the token is checked, even a valid one, by form or URL.
    await expectHeldOff(await api.form('token=wrong-4'))
    await expectHeldOff(await api.form(`token=${encodeURIComponent(api.token)}`))
    const retryAfter = await expectHeldOff(await api.byUrl(api.token))
    expect(retryAfter).toBeLessThanOrEqual(5)

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000))
    const signedIn = await api.form(`token=${encodeURIComponent(api.token)}`)
    expect(signedIn.status).toBe(303)
    expect(signedIn.headers.get('set-cookie')).toMatch(/^sentra_session=/)
    // A valid sign-in costs nothing: the next one works at once too.
    expect((await api.byUrl(api.token)).status).toBe(303)
  }, 30_000)

  it('charges malformed, token-less and oversized forms, and holds them off too', async () => {
    const api = await start()
    expect((await api.form('{"token":"x"}', { 'content-type': 'application/json' })).status).toBe(415)
    expect((await api.form('other=field')).status).toBe(401)
    expect((await api.form(`token=${'x'.repeat(5000)}`)).status).toBe(413)
    await expectHeldOff(await api.form('token=%E0%A4%A')) // also a body that is not valid percent-encoding
    await expectHeldOff(await api.form('x'.repeat(5000)))
    await expectHeldOff(await api.byUrl(''))
  })

  it('shares the bucket with failed token checks on /graphql, both ways', async () => {
    const api = await start()
    for (let i = 0; i < 3; i++) expect((await api.graphql('not-a-token')).status).toBe(401)
    await expectHeldOff(await api.form(`token=${encodeURIComponent(api.token)}`))
    const other = await start()
    for (let i = 0; i < 3; i++) expect((await other.form('token=wrong')).status).toBe(401)
    const graphql = await other.graphql(other.token)
    expect(graphql.status).toBe(429)
    expect(Number(graphql.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })

  it('does not charge cross-site posts (another site could lock a visitor out with them)', async () => {
    const api = await start()
    for (let i = 0; i < 5; i++) expect((await api.form('token=wrong', { origin: 'https://evil.example' })).status).toBe(403)
    expect((await api.form(`token=${encodeURIComponent(api.token)}`, { origin: api.url })).status).toBe(303)
  })

  it('never holds off with the rate limit off (rateLimit: null)', async () => {
    const api = await start(null)
    for (let i = 0; i < 10; i++) expect((await api.form('token=wrong')).status).toBe(401)
    expect((await api.form(`token=${encodeURIComponent(api.token)}`)).status).toBe(303)
  })
})
