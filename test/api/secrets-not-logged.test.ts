import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { demoSpec } from '../support/api.ts'
import { startSentra, type SentraProcess } from '../support/processes.ts'

/**
 * A realistic session against `npm run server` (a real process), with everything it
 * writes to stdout and stderr captured: tokens created and used over HTTP and WebSocket,
 * revoked and expired ones, failed sign-ins, a webhook secret and provider credentials.
 * No token or secret may appear in the output. The one exception is by design (as
 * Jupyter does): the admin token generated at start, printed once in the login URL.
 */

interface Answer {
  status: number
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }
}

async function gql(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  return { status: response.status, body: (await response.json()) as Answer['body'] }
}

/** Subscribes over graphql-ws; resolves with the first result, the error or the close (closing the client either way). */
function subscribeOnce(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve({ timeout: true })
      void client.dispose()
    }, 20_000)
    const client = createClient({
      url: `${url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      // Refused connections are the point here; the client need not print them.
      onNonLazyError: () => undefined,
      connectionParams: { token },
      on: {
        closed: (event) => {
          clearTimeout(timer)
          resolve({ closed: (event as { code: number }).code })
        },
      },
    })
    client.subscribe(
      { query, variables },
      {
        next: (value) => {
          clearTimeout(timer)
          resolve(value)
          void client.dispose()
        },
        error: (error) => {
          clearTimeout(timer)
          resolve({ error })
          void client.dispose()
        },
        complete: () => undefined,
      },
    )
  })
}

describe('no token or secret is ever written to the server output', () => {
  let dir: string
  let server: SentraProcess | null = null

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentra-secrets-'))
  })
  afterAll(async () => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  async function start(env: Record<string, string>): Promise<{ process: SentraProcess; url: string }> {
    const process = startSentra('server/main.ts', { SENTRA_DATABASE_URL: join(dir, 'sentra.db'), SENTRA_PORT: '0', SENTRA_HOST: '127.0.0.1', ...env })
    server = process
    const line = await process.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\/graphql/)
    const url = /(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(line)![1]!
    await process.waitFor(/admin token/)
    return { process, url }
  }

  it('a session with a generated admin token: printed once, in the login URL, and nothing else ever', async () => {
    const { process, url } = await start({})
    const loginLine = await process.waitFor(/sign in with the generated admin token/)
    const admin = decodeURIComponent(/token=([^\s&]+)/.exec(loginLine)![1]!)
    expect(admin).toMatch(/^sentra_[0-9a-f]{32}_/)
    const secrets: string[] = []

    // Tokens of every kind, made and used.
    const made: string[] = []
    for (const [name, scope, extra] of [
      ['ci', 'OPERATE', ''],
      ['reader', 'READ', ', expiresIn: "1h"'],
      ['team', 'ADMIN', ', applications: ["secret-app"]'],
    ] as const) {
      const created = await gql(url, admin, `mutation { createApiToken(name: "${name}", scope: ${scope}${extra}) { token apiToken { id } } }`)
      expect(created.body.errors).toBeUndefined()
      made.push((created.body.data?.createApiToken as { token: string }).token)
    }
    secrets.push(...made)
    const [operate, read, team] = made as [string, string, string]
    expect((await gql(url, operate, `{ viewer { name } }`)).status).toBe(200)
    expect((await gql(url, read, `{ applications { edges { node { name } } } }`)).status).toBe(200)
    expect((await gql(url, team, `mutation($s: JSON!) { applyApplication(spec: $s) { name } }`, { s: demoSpec('secret-app') })).body.errors).toBeUndefined()
    await gql(url, team, `mutation { createApiToken(name: "escalate", scope: ADMIN) { token } }`) // FORBIDDEN

    // A webhook with a chosen secret, and a provider with credentials.
    const webhookSecret = 'whsec-do-not-print-0123456789abcdef'
    secrets.push(webhookSecret)
    const hook = await gql(url, admin, `mutation($s: String!) { createWebhookSubscription(input: { url: "https://hooks.example.com/sentra", secret: $s }) { secret } }`, { s: webhookSecret })
    expect(hook.body.errors).toBeUndefined()
    const generated = await gql(url, admin, `mutation { createWebhookSubscription(input: { url: "https://hooks.example.com/other" }) { secret } }`)
    secrets.push((generated.body.data?.createWebhookSubscription as { secret: string }).secret)
    const bearer = 'prom-bearer-do-not-print-9876543210'
    const password = 'basic-password-do-not-print-5555'
    secrets.push(bearer, password)
    const provider = await gql(url, admin, `mutation($s: JSON!) { applyProvider(spec: $s) { name } }`, {
      s: { name: 'prom', kind: 'prometheus', url: 'http://127.0.0.1:1', bearerToken: bearer },
    })
    expect(provider.body.errors).toBeUndefined()
    // A bad provider spec carrying credentials: an error answer, and still nothing printed.
    await gql(url, admin, `mutation($s: JSON!) { applyProvider(spec: $s) { name } }`, {
      s: { name: 'bad', kind: 'prometheus', url: 'not a url', basicAuth: { username: 'u', password } },
    })

    // WebSocket: a valid token, then bad ones.
    const CHANGED = `subscription($id: ID!) { rolloutChanged(id: $id) { id } }`
    const missing = { id: Buffer.from('Rollout:00000000-0000-4000-8000-000000000000').toString('base64') }
    expect(await subscribeOnce(url, read, CHANGED, missing)).toMatchObject({ error: [{ extensions: { code: 'NOT_FOUND' } }] })
    expect(await subscribeOnce(url, `${operate.slice(0, -4)}AAAA`, CHANGED, missing)).toEqual({ closed: 4403 })
    expect(await subscribeOnce(url, 'garbage-token-do-not-print', CHANGED, missing)).toEqual({ closed: 4403 })
    secrets.push('garbage-token-do-not-print')

    // Failed sign-ins and requests with wrong, revoked, expired and hostile tokens.
    const wrongSecret = `${operate.slice(0, -6)}ZZZZZZ`
    const chosenGarbage = 'not-a-token-but-sensitive-anyway-42'
    const huge = `sentra_${'h'.repeat(5000)}`
    secrets.push(wrongSecret, chosenGarbage, huge.slice(0, 300))
    for (const token of [wrongSecret, chosenGarbage, huge]) {
      expect((await gql(url, token, `{ viewer { name } }`)).status).toBe(401)
      await fetch(`${url}/login?token=${encodeURIComponent(token)}`, { redirect: 'manual' })
      await fetch(`${url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` })
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
      await fetch(`${url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
      await fetch(`${url}/graphql`, { headers: { cookie: `sentra_session=${encodeURIComponent(token)}` } })
    }
    // A good sign-in (the cookie carries the token) and a session cookie request.
    const signIn = await fetch(`${url}/login?token=${encodeURIComponent(read)}`, { redirect: 'manual' })
    expect(signIn.status).toBe(303)
    const revokeTarget = await gql(url, admin, `mutation { createApiToken(name: "short-lived", scope: READ) { token apiToken { id } } }`)
    const revoked = revokeTarget.body.data?.createApiToken as { token: string; apiToken: { id: string } }
    secrets.push(revoked.token)
    await gql(url, revoked.token, `{ viewer { name } }`)
    await gql(url, admin, `mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: revoked.apiToken.id })
    expect((await gql(url, revoked.token, `{ viewer { name } }`)).status).toBe(401)
    // Tokens and secrets inside bad GraphQL: parse and validation errors, bad arguments.
    await gql(url, admin, `{ viewer { name ${operate} } }`)
    await gql(url, admin, `mutation { createApiToken(name: "${read}", scope: READ) { token } }`)
    await gql(url, operate, `mutation($s: JSON!) { applyApplication(spec: $s) { name } }`, { s: { name: 'x', token: operate } })

    await process.stop()
    server = null
    const output = process.output()
    for (const secret of secrets) {
      expect(output, `the output holds ${secret.slice(0, 24)}…`).not.toContain(secret)
      // Nor the secret part of an issued token on its own.
      if (/^sentra_[0-9a-f]{32}_/.test(secret)) expect(output).not.toContain(secret.slice(40))
    }
    // The generated admin token: exactly once, on the login line printed at start.
    const lines = output.split('\n').filter((l) => l.includes(encodeURIComponent(admin)) || l.includes(admin) || l.includes(admin.slice(40)))
    expect(lines).toEqual([loginLine])
  }, 120_000)

  it('a chosen SENTRA_ADMIN_TOKEN is never printed', async () => {
    const chosen = 'chosen-admin-token-do-not-print-7f3a9c1e5b'
    const { process, url } = await start({ SENTRA_ADMIN_TOKEN: chosen })
    expect((await gql(url, chosen, `{ viewer { name scope } }`)).body.data).toEqual({ viewer: { name: 'admin (SENTRA_ADMIN_TOKEN)', scope: 'ADMIN' } })
    expect((await gql(url, `${chosen}x`, `{ viewer { name } }`)).status).toBe(401)
    await process.stop()
    server = null
    expect(process.output()).toContain('admin token: the one in SENTRA_ADMIN_TOKEN')
    expect(process.output()).not.toContain(chosen)
  }, 120_000)
})
