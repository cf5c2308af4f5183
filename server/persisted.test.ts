import { readFileSync } from 'node:fs'
import { createClient, type Client as WsClient } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { startControllerRuntime, type ControllerRuntime } from '../controller/runtime.ts'
import { createBus } from '../schema/events/index.ts'
import type { Bus } from '../schema/events/bus.ts'
import { createStore, type Store } from '../schema/store/index.ts'
import { createApi } from '../cli/api.ts'
import { connectionFor } from '../cli/connection.ts'
import { TypedDocumentString } from '../cli/gql/graphql.ts'
import { runCli, startCli, tempHome } from '../test/cli/run-cli.ts'
import { openTestStore } from '../test/support/databases.ts'
import { freePort, quickSpec } from '../test/support/rollouts.ts'
import { createApiServer, type ApiServer } from './app.ts'
import { ConfigError, readConfig } from './config.ts'
import { loadPersistedDocuments, parseManifest, PERSISTED_MANIFESTS, persistedHash, sha256Hex } from './persisted.ts'

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 })

/** The hash of a named operation in a committed manifest (the real documents the clients send). */
function hashOf(operation: string): string {
  for (const path of PERSISTED_MANIFESTS) {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>
    for (const [key, document] of Object.entries(manifest)) {
      if (new RegExp(`(query|mutation|subscription) ${operation}\\b`).test(document)) return key.slice('sha256:'.length)
    }
  }
  throw new Error(`no persisted operation ${operation}`)
}

const persisted = (hash: unknown) => ({ persistedQuery: { version: 1, sha256Hash: hash } })
const UNKNOWN = 'f'.repeat(64)

describe('persisted manifests', () => {
  it('accepts a manifest whose keys are the sha256 of their documents, and refuses anything else with the reason', () => {
    const document = 'query A { __typename }'
    expect(parseManifest(JSON.stringify({ [`sha256:${sha256Hex(document)}`]: document }), 'm.json').get(sha256Hex(document))).toBe(document)
    expect(() => parseManifest('{not json', 'm.json')).toThrow(/m\.json: not JSON/)
    expect(() => parseManifest('[]', 'm.json')).toThrow(/must be an object/)
    expect(() => parseManifest(JSON.stringify({ abc: document }), 'm.json')).toThrow(/is not "sha256:<64 hex digits>"/)
    expect(() => parseManifest(JSON.stringify({ [`sha256:${sha256Hex(document)}`]: 42 }), 'm.json')).toThrow(/not a document string/)
    // A document edited by hand after codegen no longer matches its hash.
    expect(() => parseManifest(JSON.stringify({ [`sha256:${sha256Hex(document)}`]: `${document} ` }), 'm.json')).toThrow(/not the sha256 of its document/)
    expect(() => loadPersistedDocuments(['/nonexistent/persisted-documents.json'])).toThrow(/cannot be read \(ENOENT\)/)
  })

  it('the committed manifests hold every operation the dashboard and the CLI send', () => {
    const documents = loadPersistedDocuments()
    for (const generated of ['../web/gql/graphql.ts', '../cli/gql/graphql.ts']) {
      const source = readFileSync(new URL(generated, import.meta.url), 'utf8')
      const hashes = [...source.matchAll(/"hash":"sha256:([0-9a-f]{64})"/g)].map((m) => m[1]!)
      expect(hashes.length, generated).toBeGreaterThan(5)
      for (const hash of hashes) expect(documents.get(hash), `${generated} ${hash}`).toBeDefined()
    }
  })

  it('reads the hash from extensions.persistedQuery (plain hex or sha256:hex), ignoring other shapes', () => {
    const hex = 'a'.repeat(64)
    expect(persistedHash(persisted(hex))).toBe(hex)
    expect(persistedHash(persisted(`sha256:${hex}`))).toBe(hex)
    expect(persistedHash({ persistedQuery: { version: 2, sha256Hash: hex } })).toBeNull()
    expect(persistedHash(persisted(42))).toBeNull()
    expect(persistedHash({ persistedQuery: 'x' })).toBeNull()
    expect(persistedHash(null)).toBeNull()
    expect(persistedHash('persistedQuery')).toBeNull()
  })

  it('SENTRA_PERSISTED_ONLY is off by default and must be a boolean', () => {
    expect(readConfig({}).persistedOnly).toBe(false)
    expect(readConfig({ SENTRA_PERSISTED_ONLY: 'true' }).persistedOnly).toBe(true)
    expect(readConfig({ SENTRA_PERSISTED_ONLY: '0' }).persistedOnly).toBe(false)
    expect(() => readConfig({ SENTRA_PERSISTED_ONLY: 'sometimes' })).toThrow(ConfigError)
  })
})

interface Api {
  url: string
  server: ApiServer
  post(body: unknown, token?: string): Promise<{ status: number; data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }>
  ws(): WsClient
}

describe.each([
  { only: true, name: 'with SENTRA_PERSISTED_ONLY' },
  { only: false, name: 'without SENTRA_PERSISTED_ONLY' },
])('the API $name', ({ only }) => {
  let database: Awaited<ReturnType<typeof openTestStore>>
  let store: Store
  let bus: Bus
  let api: Api
  let admin = ''
  const clients: WsClient[] = []

  beforeAll(async () => {
    database = await openTestStore('sqlite')
    store = createStore(database.db)
    bus = createBus(undefined)
    const server = createApiServer({ store, bus, persistedOnly: only })
    const { url } = await server.listen(0, '127.0.0.1')
    admin = (await store.tokens.create('test admin', 'admin')).token
    api = {
      url,
      server,
      post: async (body, token = admin) => {
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        })
        return { status: response.status, ...((await response.json()) as object) }
      },
      ws: () => {
        const client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { token: admin }, retryAttempts: 0 })
        clients.push(client)
        return client
      },
    }
  })
  afterAll(async () => {
    for (const client of clients) await client.dispose()
    await api?.server.close()
    await bus?.close()
    await database?.dispose()
  })

  it('runs a persisted query by its hash', async () => {
    const result = await api.post({ operationName: 'CliViewer', extensions: persisted(hashOf('CliViewer')) })
    expect(result.errors).toBeUndefined()
    expect(result.data).toMatchObject({ viewer: { name: 'test admin' } })
  })

  it('answers an unknown hash with PersistedQueryNotFound and a hint, whatever the hash looks like', async () => {
    for (const hash of [UNKNOWN, `sha256:${UNKNOWN}`, 'F'.repeat(64), 'x'.repeat(100_000), '../../etc/passwd', '']) {
      const result = await api.post({ extensions: persisted(hash) })
      expect(result.data ?? null, hash.slice(0, 20)).toBeNull()
      expect(result.errors).toEqual([
        { message: 'PersistedQueryNotFound', extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_NOT_FOUND', hint: expect.stringMatching(/npm run codegen/) }) },
      ])
    }
  })

  it('says what is missing when a request has neither a document nor a usable hash', async () => {
    for (const body of [{}, { extensions: persisted(42) }, { extensions: { persistedQuery: { version: 2, sha256Hash: UNKNOWN } } }, { extensions: 'persistedQuery' }]) {
      const result = await api.post(body)
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe('PERSISTED_QUERY_ID_REQUIRED')
    }
  })

  it(only ? 'refuses any other document over HTTP, and changes nothing' : 'still runs any document over HTTP (scripts, Grafana)', async () => {
    const applied = await api.post({ query: `mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, variables: { spec: quickSpec('refused', 18001) } })
    const viewer = await api.post({ query: '{ viewer { name } }' })
    if (only) {
      for (const result of [applied, viewer]) {
        expect(result.data ?? null).toBeNull()
        expect(result.errors).toEqual([{ message: expect.stringMatching(/persisted operations only/), extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_ONLY' }) }])
      }
      expect(await store.applications.byName('refused')).toBeNull()
      // A document with a hash beside it is still a document.
      const both = await api.post({ query: '{ viewer { name } }', extensions: persisted(hashOf('CliViewer')) })
      expect(both.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY')
    } else {
      expect(applied.errors).toBeUndefined()
      expect(viewer.data).toEqual({ viewer: { name: 'test admin' } })
    }
  })

  it(only ? 'a CLI built from other documents is refused with the reason' : 'a CLI built from other documents falls back to sending the text', async () => {
    const stale = new TypedDocumentString<{ viewer: { name: string } }, Record<string, never>>('query CliStaleViewer { viewer { name } }', { hash: `sha256:${UNKNOWN}` })
    const request = createApi(connectionFor(api.url, admin)).request(stale, {})
    if (only) await expect(request).rejects.toMatchObject({ errors: [expect.objectContaining({ code: 'PERSISTED_QUERY_ONLY' })] })
    else await expect(request).resolves.toEqual({ viewer: { name: 'test admin' } })
  })

  it('applies the same rules to subscriptions over the WebSocket, without closing it', async () => {
    const client = api.ws()
    const errorsOf = (payload: Parameters<WsClient['subscribe']>[0]) =>
      new Promise<unknown>((resolve) => {
        client.subscribe(payload, { next: (value) => resolve(value), error: resolve, complete: () => resolve('complete') })
      })
    const unknown = await errorsOf({ query: '', extensions: persisted(UNKNOWN) })
    expect(unknown).toEqual([expect.objectContaining({ message: 'PersistedQueryNotFound', extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_NOT_FOUND' }) })])
    const none = await errorsOf({ query: '' })
    expect(none).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_ID_REQUIRED' }) })])

    // The dashboard's own subscription, by hash, delivers events on the same socket.
    const rolloutId = await startRollout(api, only ? 'ws-only' : 'ws-open')
    const events: { data?: unknown; errors?: unknown }[] = []
    const live = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: '', operationName: 'RolloutLive', variables: { id: rolloutId }, extensions: persisted(hashOf('RolloutLive')) },
        {
          next: (value) => {
            events.push(value)
            resolve()
          },
          error: reject,
          complete: () => undefined,
        },
      )
    })
    await live
    expect(events[0]?.errors).toBeUndefined()
    expect(events[0]?.data).toMatchObject({ rolloutChanged: { id: rolloutId, __typename: 'Rollout' } })

    const arbitrary = await errorsOf({ query: `subscription($id: ID!) { rolloutChanged(id: $id) { id } }`, variables: { id: rolloutId } })
    if (only) expect(arbitrary).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'PERSISTED_QUERY_ONLY' }) })])
    else expect(arbitrary).toMatchObject({ data: { rolloutChanged: { id: rolloutId } } })
  })
})

/** An application and a PENDING rollout (no controller runs here), through the CLI's persisted mutations. */
async function startRollout(api: Api, name: string): Promise<string> {
  const applied = await api.post({ variables: { spec: quickSpec(name, await freePort()) }, extensions: persisted(hashOf('CliApplyApplication')) })
  expect(applied.errors).toBeUndefined()
  const started = await api.post({ variables: { application: name, version: 'v1' }, extensions: persisted(hashOf('CliStartRollout')) })
  expect(started.errors).toBeUndefined()
  return (started.data as { startRollout: { id: string } }).startRollout.id
}

describe('the CLI against a server that runs persisted operations only', () => {
  let database: Awaited<ReturnType<typeof openTestStore>>
  let bus: Bus
  let server: ApiServer
  let url = ''
  let token = ''
  let home: Awaited<ReturnType<typeof tempHome>>
  let runtime: ControllerRuntime

  beforeAll(async () => {
    database = await openTestStore('sqlite')
    const store = createStore(database.db)
    bus = createBus(undefined)
    server = createApiServer({ store, bus, persistedOnly: true })
    url = (await server.listen(0, '127.0.0.1')).url
    token = (await store.tokens.create('cli operator', 'admin')).token
    home = await tempHome()
    // The controller carries out the commands the CLI records.
    runtime = await startControllerRuntime({ store, bus, scanIntervalMs: 200, notifications: false })
  })
  afterAll(async () => {
    await runtime?.stop()
    await server?.close()
    await bus?.close()
    await database?.dispose()
    await home?.dispose()
  })

  // Seven CLI processes, each starting Node and tsx: generous, for a busy machine.
  it('applies, starts, lists, pauses and watches a rollout live until it is aborted', { timeout: 240_000 }, async () => {
    const env = { HOME: home.home, SENTRA_URL: url, SENTRA_TOKEN: token }
    const applied = await runCli(['apply', '-f', '-'], { env, input: JSON.stringify(quickSpec('persisted-shop', await freePort())) })
    expect(applied, applied.stderr).toMatchObject({ code: 0 })
    // A first deploy, watched to its end; then the canary this test steers.
    const first = await runCli(['start', 'persisted-shop', 'v1', '--watch'], { env })
    expect(first.code, first.stderr).toBe(0)
    const started = await runCli(['start', 'persisted-shop', 'v2', '-o', 'json'], { env })
    expect(started.code, started.stderr).toBe(0)
    const id = (JSON.parse(started.stdout) as { id: string }).id
    const listed = await runCli(['rollouts', '-o', 'json'], { env })
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain(id)

    // watch subscribes over the WebSocket by hash; the abort arrives live and ends it (exit 1: not successful).
    const watch = startCli(['watch', id], { env })
    await watch.waitFor(/PROGRESSING/)
    const paused = await runCli(['pause', id, '--reason', 'persisted check'], { env })
    expect(paused.code, paused.stderr).toBe(0)
    await watch.waitFor(/PAUSED/)
    const aborted = await runCli(['abort', id, '--reason', 'done checking'], { env })
    expect(aborted.code, aborted.stderr).toBe(0)
    const watched = await watch.done
    expect(watched.stdout).toMatch(/ABORTED/)
    expect(watched.code).toBe(1)
    expect(watched.stderr).not.toMatch(/PERSISTED_QUERY/)
  })
})
