import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { createApiServer, type ApiServer } from '../../server/app.ts'
import { openTestStore } from '../support/databases.ts'

/**
 * The API server with a dashboard mounted (a stand-in handler here: Next.js itself is
 * exercised by dashboard.test.ts): which paths stay the API's, and the sign-in form and
 * sign-out routes the dashboard relies on.
 */
describe('the API server with a dashboard mounted', () => {
  let server: ApiServer
  let store: Store
  let bus: Bus
  let dispose: () => Promise<void>
  let url: string
  let token: string
  const seen: string[] = []

  beforeAll(async () => {
    const database = await openTestStore('sqlite')
    dispose = database.dispose
    store = createStore(database.db)
    bus = createBus(undefined)
    const dashboard = {
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        seen.push(`${req.method} ${req.url}`)
        res.writeHead(200, { 'content-type': 'text/html' })
        res.end('<p>dashboard</p>')
      },
      upgrade: async (req: IncomingMessage, socket: import('node:stream').Duplex) => {
        seen.push(`UPGRADE ${req.url}`)
        socket.end('HTTP/1.1 418 I am a dashboard\r\nConnection: close\r\n\r\n')
      },
    }
    server = createApiServer({ store, bus, dashboard })
    url = (await server.listen(0, '127.0.0.1')).url
    token = (await store.tokens.create('web routes', 'read')).token
  })
  afterAll(async () => {
    await server?.close()
    await bus?.close()
    await dispose?.()
  })

  const form = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body })

  it('keeps the API paths and gives every other path to the dashboard', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' })
    expect((await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{viewer{name}}"}' })).status).toBe(401)
    expect((await fetch(`${url}/metrics`)).status).toBe(401)
    for (const path of ['/', '/rollouts/abc', '/_next/static/x.js', '/login', '/login?error=invalid']) {
      const response = await fetch(`${url}${path}`, { redirect: 'manual' })
      expect(await response.text(), path).toBe('<p>dashboard</p>')
    }
    expect(seen).toContain('GET /login?error=invalid')
  })

  it('signs in from the login URL and the form, back to the sign-in page on a wrong token', async () => {
    const byUrl = await fetch(`${url}/login?token=${encodeURIComponent(token)}`, { redirect: 'manual' })
    expect(byUrl.status).toBe(303)
    expect(byUrl.headers.get('location')).toBe('/')
    expect(byUrl.headers.get('set-cookie')).toMatch(/^sentra_session=.+; Path=\/; HttpOnly; SameSite=Strict$/)

    const byForm = await form(`token=${encodeURIComponent(token)}`, { origin: url })
    expect(byForm.status).toBe(303)
    expect(byForm.headers.get('location')).toBe('/')
    expect(byForm.headers.get('set-cookie')).toContain(`sentra_session=${encodeURIComponent(token)};`)

    for (const wrong of [await form('token=nope', { origin: url }), await fetch(`${url}/login?token=nope`, { redirect: 'manual' })]) {
      expect(wrong.status).toBe(303)
      expect(wrong.headers.get('location')).toBe('/login?error=invalid')
      expect(wrong.headers.get('set-cookie')).toBeNull()
    }
  })

  it('refuses a sign-in or sign-out posted from another site, and odd bodies', async () => {
    const crossSite = await form(`token=${encodeURIComponent(token)}`, { origin: 'https://evil.example' })
    expect(crossSite.status).toBe(403)
    expect(crossSite.headers.get('set-cookie')).toBeNull()
    expect((await fetch(`${url}/logout`, { method: 'POST', redirect: 'manual', headers: { origin: 'https://evil.example' } })).status).toBe(403)
    expect((await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(415)
    expect((await form(`token=${'x'.repeat(5000)}`)).status).toBe(413)
  })

  it('signs out with POST only, forgetting the cookie', async () => {
    expect((await fetch(`${url}/logout`)).status).toBe(405)
    const out = await fetch(`${url}/logout`, { method: 'POST', redirect: 'manual', headers: { origin: url } })
    expect(out.status).toBe(303)
    expect(out.headers.get('location')).toBe('/login?status=signed-out')
    expect(out.headers.get('set-cookie')).toMatch(/^sentra_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/)
  })

  it('passes WebSocket upgrades other than /graphql to the dashboard', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/_next/hmr`)
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => resolve(-1))
    })
    expect(status).toBe(418)
    expect(seen).toContain('UPGRADE /_next/hmr')
  })
})
