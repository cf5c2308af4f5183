import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApi, type TestApi } from '../support/api.ts'

/** GraphQL-over-HTTP conventions, limits and the operational endpoints. One dialect is enough: nothing here touches storage paths. */
describe('HTTP surface', () => {
  let api: TestApi

  beforeAll(async () => {
    api = await startTestApi('sqlite', { production: true })
  })
  afterAll(async () => {
    await api?.close()
  })

  const auth = () => ({ authorization: `Bearer ${api.tokens.read}` })

  it('serves queries over GET with the graphql-response content type', async () => {
    const response = await fetch(`${api.graphqlUrl}?query=${encodeURIComponent('{ viewer { name } }')}`, {
      headers: { ...auth(), accept: 'application/graphql-response+json' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/application\/graphql-response\+json/)
    expect(await response.json()).toEqual({ data: { viewer: { name: 'test reader' } } })
  })

  it('refuses mutations over GET (405)', async () => {
    const query = encodeURIComponent('mutation { startRollout(application: "a", version: "v1") { id } }')
    const response = await fetch(`${api.graphqlUrl}?query=${query}`, { headers: { authorization: `Bearer ${api.tokens.admin}` } })
    expect(response.status).toBe(405)
  })

  it('answers a syntax error with 400 and a parse error', async () => {
    const response = await fetch(api.graphqlUrl, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ viewer { name ' }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { errors: { message: string }[] }
    expect(body.errors[0]?.message).toMatch(/Syntax Error/)
  })

  it('refuses malformed JSON bodies and unsupported content types', async () => {
    const malformed = await fetch(api.graphqlUrl, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"query": ' })
    expect(malformed.status).toBe(400)
    const form = await fetch(api.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `sentra_session=${api.tokens.read}` },
      body: 'query=%7Bviewer%7Bname%7D%7D',
    })
    // A cross-site form post carrying the session cookie is stopped by CSRF prevention.
    expect(form.status).toBeGreaterThanOrEqual(400)
  })

  it('refuses oversized bodies (413) and documents past the token limit', async () => {
    const huge = await fetch(api.graphqlUrl, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ viewer { name } } # ${'x'.repeat(2 << 20)}` }),
    })
    expect(huge.status).toBe(413)
    const many = await api.gql(`{ ${Array.from({ length: 3000 }, () => 'viewer { name }').join(' ')} }`, {}, api.tokens.read)
    expect(many.errors?.[0]?.message).toMatch(/more th\w+ 4000 tokens/)
  })

  it('limits query depth and aliases', async () => {
    const deep = await api.gql(
      `{ rollouts { edges { node { application { rollouts { edges { node { application { rollouts { edges { node { id } } } } } } } } } } } }`,
      {},
      api.tokens.read,
    )
    expect(deep.errors?.[0]?.message).toMatch(/levels deep/)
    const aliases = await api.gql(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`, {}, api.tokens.read)
    expect(aliases.errors?.[0]?.message).toMatch(/aliases/)
  })

  it('gives no field suggestions in production and masks unexpected errors', async () => {
    const typo = await api.gql(`{ rollout { idd } }`, {}, api.tokens.read)
    expect(JSON.stringify(typo.errors)).not.toMatch(/Did you mean/)
  })

  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${api.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, checks: { store: 'ok', bus: 'ok' } })
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401)
    await api.gql(`query CountMe { viewer { name } }`, {}, api.tokens.read)
    const metrics = await fetch(`${api.url}/metrics`, { headers: auth() })
    expect(metrics.status).toBe(200)
    const text = await metrics.text()
    expect(text).toMatch(/sentra_http_requests_total\{route="\/graphql",method="POST",status="200"\} \d+/)
    expect(text).toMatch(/sentra_graphql_operations_total\{type="query",name="CountMe",outcome="ok"\} 1/)
    expect(text).toMatch(/sentra_graphql_subscriptions_active 0/)
  })

  it('signs a browser in through the login URL with an httpOnly SameSite=Strict cookie', async () => {
    const bad = await fetch(`${api.url}/login?token=wrong`, { redirect: 'manual' })
    expect(bad.status).toBe(401)
    const good = await fetch(`${api.url}/login?token=${encodeURIComponent(api.tokens.read)}`, { redirect: 'manual' })
    expect(good.status).toBe(303)
    const cookie = good.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const viaCookie = await fetch(api.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookie.split(';')[0]! },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    })
    expect(await viaCookie.json()).toEqual({ data: { viewer: { name: 'test reader' } } })
  })

  it('does not serve GraphiQL unless enabled', async () => {
    const response = await fetch(api.graphqlUrl, { headers: { ...auth(), accept: 'text/html' } })
    expect(response.headers.get('content-type') ?? '').not.toMatch(/text\/html/)
  })

  it('reports unready with the reason when the store is gone', async () => {
    const other = await startTestApi('sqlite')
    await other.store.db.close()
    const ready = await fetch(`${other.url}/readyz`)
    expect(ready.status).toBe(503)
    const body = (await ready.json()) as { checks: { store: string } }
    expect(body.checks.store).not.toBe('ok')
    await other.server.close()
    await other.bus.close()
  })
})
