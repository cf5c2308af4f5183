import { createClient, type Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'
import { DIALECTS } from '../support/databases.ts'

/**
 * A token limited to one application, against a server holding two: it must see and
 * change nothing of the other, through every root field, node(id), every mutation and
 * both subscriptions, and the other's objects must answer exactly as missing ones do.
 */

const MINE = 'mine-app'
const HIDDEN = 'hidden-app'
// Values only the hidden application's data holds: none may appear in any answer.
const HIDDEN_VERSION = 'v9hidden'
const HIDDEN_REASON = 'hidden-decision-reason'
const HIDDEN_TRACE = 'feedfacefeedfacefeedfacefeedface'
const HIDDEN_COMMAND_REASON = 'hidden-command-reason'

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64')
const MISSING_ROLLOUT = gid('Rollout', '00000000-0000-4000-8000-000000000000')
const MISSING_APP = gid('Application', '00000000-0000-4000-8000-000000000000')

const ROLLOUT_FIELDS = /* GraphQL */ `
  id applicationName fromVersion toVersion status seq
  application { id name spec stableVersion rollouts { edges { node { id toVersion } } } }
  steps { index kind spec traces { edges { node { traceId } } } }
  currentStep { index }
  gates { name lastResult { reason value } }
  gateResults { gate reason }
  windows { id canary { signal value } }
  traces { edges { node { traceId application spans { name } step { index } } } }
  decisions { id reason evidence traces { traceId } logLines { line } }
  lastDecision { reason }
  commands { kind reason actor }
`

const QUERIES: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  {
    name: 'applications',
    query: `{ applications(first: 100) { edges { node { id name spec rollouts { edges { node { id toVersion decisions { reason evidence } commands { reason } windows { id } } } } } } } }`,
  },
  { name: 'application(hidden)', query: `query($n: String!) { application(name: $n) { id name } }`, variables: { n: HIDDEN } },
  { name: 'rollouts', query: `{ rollouts(first: 10) { edges { node { ${ROLLOUT_FIELDS} } } } }` },
  { name: 'rollouts(application: hidden)', query: `query($n: String) { rollouts(application: $n) { edges { node { id } } } }`, variables: { n: HIDDEN } },
  {
    name: 'rollouts(status)',
    query: `{ rollouts(status: [PENDING, PROGRESSING, PAUSED, SUCCEEDED, ROLLING_BACK, ROLLED_BACK, ABORTED, FAILED]) { edges { node { id applicationName } } } }`,
  },
]

interface Next {
  data?: Record<string, unknown> | null
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[]
}

function wsClient(api: TestApi, token: string): Client {
  return createClient({ url: api.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { token } })
}

function collect(c: Client, query: string, variables: Record<string, unknown> = {}) {
  const received: Next[] = []
  let failure: unknown = null
  let completed = false
  const dispose = c.subscribe({ query, variables }, { next: (v) => received.push(v as Next), error: (e) => (failure = e), complete: () => (completed = true) })
  return { received, dispose, failure: () => failure, done: () => completed }
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.each(DIALECTS)('a token limited to some applications on %s', (dialect) => {
  let api: TestApi
  let limited: { read: string; operate: string; admin: string }
  let hiddenApp: { id: string; rolloutId: string; rawRolloutId: string }
  let mine: { id: string; rolloutId: string; rawRolloutId: string }
  /** Everything an answer to the limited token must never contain. */
  let secrets: string[]

  /** The hidden application's rows as the store has them: must be the same at the end. */
  async function hiddenState(): Promise<string> {
    const app = await api.store.applications.byName(HIDDEN)
    const rollouts = await api.store.rollouts.list({ first: 100, application: HIDDEN })
    const ids = rollouts.items.map((i) => i.node.id)
    return JSON.stringify({
      app,
      rollouts: rollouts.items,
      commands: await api.store.commands.for(ids),
      decisions: await api.store.decisions.for(ids, {}),
      tokens: (await api.store.tokens.list()).map((t) => [t.id, t.revokedAt]),
      webhooks: await api.store.webhooks.subscriptions(),
    })
  }

  function expectNoLeak(what: string, answer: unknown): void {
    const text = JSON.stringify(answer)
    for (const secret of secrets) expect(text, `${what} leaks ${secret}`).not.toContain(secret)
  }

  beforeAll(async () => {
    api = await startTestApi(dialect)
    for (const name of [MINE, HIDDEN]) {
      const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: demoSpec(name) })
      expect(applied.errors).toBeUndefined()
    }
    const start = async (app: string, version: string) => {
      const started = await api.gql<{ startRollout: { id: string; application: { id: string } } }>(
        `mutation($a: String!, $v: String!) { startRollout(application: $a, version: $v) { id application { id } } }`,
        { a: app, v: version },
      )
      expect(started.errors).toBeUndefined()
      const rolloutId = started.data!.startRollout.id
      return { id: started.data!.startRollout.application.id, rolloutId, rawRolloutId: Buffer.from(rolloutId, 'base64').toString().split(':')[1]! }
    }
    mine = await start(MINE, 'v2')
    hiddenApp = await start(HIDDEN, HIDDEN_VERSION)
    // Evidence, decisions, traces and a command of the hidden rollout.
    const rid = hiddenApp.rawRolloutId
    const window = await api.store.evidence.addWindow({ rolloutId: rid, stepIndex: 0, provider: 'builtin', startAt: new Date(Date.now() - 5000), endAt: new Date(), canary: { errorRate: 0.5 }, baseline: { errorRate: 0.001 } })
    await api.store.evidence.addGateResult({ rolloutId: rid, stepIndex: 0, gate: 'errors', verdict: 'FAIL', value: 0.5, reason: HIDDEN_REASON, evidence: {}, windowId: window.id })
    await api.store.evidence.saveTraces([
      { rolloutId: rid, stepIndex: 0, traceId: HIDDEN_TRACE, version: HIDDEN_VERSION, status: 'error', durationMs: 12.5, rootName: 'GET /hidden', at: new Date(), application: HIDDEN, service: HIDDEN, error: true, source: 'otlp', spans: [] },
    ])
    await api.store.decisions.append({ rolloutId: rid, seq: 1, action: 'PAUSE', actor: 'controller', reason: HIDDEN_REASON, stepIndex: 0, fromWeight: 0, toWeight: 0, evidence: { traces: [HIDDEN_TRACE] } })
    await api.store.commands.record({ rolloutId: rid, kind: 'PAUSE', actor: 'someone', reason: HIDDEN_COMMAND_REASON })
    limited = {
      read: (await api.store.tokens.create('mine reader', 'read', { applications: [MINE] })).token,
      operate: (await api.store.tokens.create('mine operator', 'operate', { applications: [MINE] })).token,
      admin: (await api.store.tokens.create('mine admin', 'admin', { applications: [MINE] })).token,
    }
    secrets = [HIDDEN, HIDDEN_VERSION, HIDDEN_REASON, HIDDEN_TRACE, HIDDEN_COMMAND_REASON, hiddenApp.id, hiddenApp.rolloutId, hiddenApp.rawRolloutId]
  }, 120_000)
  afterAll(async () => {
    await api?.close()
  })

  it('the viewer says which applications the token is limited to', async () => {
    const viewer = await api.gql(`{ viewer { name scope applications } }`, {}, limited.operate)
    expect(viewer.data).toEqual({ viewer: { name: 'mine operator', scope: 'OPERATE', applications: [MINE] } })
    expect((await api.gql(`{ viewer { applications } }`)).data).toEqual({ viewer: { applications: null } })
  })

  it('every query answers with its own application only, and the other is as missing as a name that does not exist', async () => {
    for (const token of Object.values(limited)) {
      for (const { name, query, variables } of QUERIES) {
        const answer = await api.gql(query, variables, token)
        expect(answer.errors, name).toBeUndefined()
        expectNoLeak(name, answer)
      }
      const apps = await api.gql<{ applications: { edges: { node: { name: string } }[] } }>(`{ applications { edges { node { name } } } }`, {}, token)
      expect(apps.data?.applications.edges.map((e) => e.node.name)).toEqual([MINE])
      const rollouts = await api.gql<{ rollouts: { edges: { node: { id: string } }[] } }>(`{ rollouts { edges { node { id } } } }`, {}, token)
      expect(rollouts.data?.rollouts.edges.map((e) => e.node.id)).toEqual([mine.rolloutId])
      const hidden = await api.gql(`query($n: String!) { application(name: $n) { id } }`, { n: HIDDEN }, token)
      const missing = await api.gql(`query($n: String!) { application(name: $n) { id } }`, { n: 'no-such-app' }, token)
      expect(hidden).toEqual(missing)
      expect(hidden.data).toEqual({ application: null })
      const hiddenList = await api.gql(`query($n: String) { rollouts(application: $n) { edges { node { id } } pageInfo { hasNextPage } } }`, { n: HIDDEN }, token)
      const missingList = await api.gql(`query($n: String) { rollouts(application: $n) { edges { node { id } } pageInfo { hasNextPage } } }`, { n: 'no-such-app' }, token)
      expect(hiddenList).toEqual(missingList)
    }
    // The same queries with an unlimited token do see the hidden application (the test is not vacuous).
    const all = await api.gql(`{ rollouts(first: 10) { edges { node { ${ROLLOUT_FIELDS} } } } }`, {}, api.tokens.read)
    expect(JSON.stringify(all)).toContain(HIDDEN_REASON)
    expect(JSON.stringify(all)).toContain(HIDDEN_TRACE)
  })

  it('rollout(id) and node(id) of the other application answer null, exactly as an id that does not exist', async () => {
    const ROLLOUT = `query($id: ID!) { rollout(id: $id) { ${ROLLOUT_FIELDS} } }`
    const NODE = `query($id: ID!) { node(id: $id) { id ... on Application { name spec rollouts { edges { node { id } } } } ... on Rollout { ${ROLLOUT_FIELDS} } } }`
    for (const token of Object.values(limited)) {
      const rollout = await api.gql(ROLLOUT, { id: hiddenApp.rolloutId }, token)
      expect(rollout).toEqual(await api.gql(ROLLOUT, { id: MISSING_ROLLOUT }, token))
      expect(rollout.data).toEqual({ rollout: null })
      for (const [id, missingId] of [
        [hiddenApp.rolloutId, MISSING_ROLLOUT],
        [hiddenApp.id, MISSING_APP],
      ] as const) {
        const node = await api.gql(NODE, { id }, token)
        expect(node).toEqual(await api.gql(NODE, { id: missingId }, token))
        expect(node.data).toEqual({ node: null })
      }
      // Its own objects resolve in full.
      const own = await api.gql<{ node: { id: string } | null }>(NODE, { id: mine.rolloutId }, token)
      expect(own.errors).toBeUndefined()
      expect(own.data?.node?.id).toBe(mine.rolloutId)
      expect((await api.gql<{ node: { id: string } | null }>(NODE, { id: mine.id }, token)).data?.node?.id).toBe(mine.id)
      // Many ids at once (aliases): each hidden one is null, the visible one is not.
      const many = await api.gql<Record<string, { id: string } | null>>(
        `query($a: ID!, $b: ID!, $c: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } c: node(id: $c) { id } }`,
        { a: hiddenApp.rolloutId, b: mine.rolloutId, c: hiddenApp.id },
        token,
      )
      expect(many.data).toEqual({ a: null, b: { id: mine.rolloutId }, c: null })
    }
  })

  it('every mutation on the other application fails as for a missing one, and changes nothing', async () => {
    const before = await hiddenState()
    const commands = [
      `mutation($id: ID!) { promoteRollout(id: $id) { id } }`,
      `mutation($id: ID!) { promoteRollout(id: $id, full: true) { id } }`,
      `mutation($id: ID!) { pauseRollout(id: $id, reason: "x") { id } }`,
      `mutation($id: ID!) { resumeRollout(id: $id) { id } }`,
      `mutation($id: ID!) { rollbackRollout(id: $id, reason: "x") { id } }`,
      `mutation($id: ID!) { abortRollout(id: $id, reason: "x") { id } }`,
    ]
    for (const token of [limited.operate, limited.admin]) {
      for (const mutation of commands) {
        const hidden = await api.gql(mutation, { id: hiddenApp.rolloutId }, token)
        const missing = await api.gql(mutation, { id: MISSING_ROLLOUT }, token)
        expect(hidden.data, mutation).toBeNull()
        expect(hidden.errors?.[0]?.extensions?.code, mutation).toBe('NOT_FOUND')
        expect(hidden.errors?.[0]?.message.replace(hiddenApp.rolloutId, 'ID')).toBe(missing.errors?.[0]?.message.replace(MISSING_ROLLOUT, 'ID'))
        expectNoLeak(mutation, { ...hidden, errors: hidden.errors?.map((e) => ({ ...e, message: e.message.replace(hiddenApp.rolloutId, 'ID') })) })
      }
      const START = `mutation($a: String!) { startRollout(application: $a, version: "v77") { id } }`
      const hidden = await api.gql(START, { a: HIDDEN }, token)
      const missing = await api.gql(START, { a: 'no-such-app' }, token)
      expect(hidden.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
      expect(hidden.errors?.[0]?.message.replace(HIDDEN, 'NAME')).toBe(missing.errors?.[0]?.message.replace('no-such-app', 'NAME'))
    }
    // Applying: refused for any name outside the token's list, whether it exists or not.
    const APPLY = `mutation($spec: JSON!) { applyApplication(spec: $spec) { id name } }`
    const applyHidden = await api.gql(APPLY, { spec: demoSpec(HIDDEN, { interval: '2s' }) }, limited.admin)
    const applyNew = await api.gql(APPLY, { spec: demoSpec('brand-new-app') }, limited.admin)
    expect(applyHidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    expect(applyHidden.errors).toEqual(applyNew.errors)
    expect(await api.store.applications.byName('brand-new-app')).toBeNull()
    for (const token of [limited.read, limited.operate]) {
      expect((await api.gql(APPLY, { spec: demoSpec(HIDDEN) }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    }
    // Sentra-wide administration is not for a limited admin: it could mint itself an unlimited token.
    for (const [what, query] of [
      ['createApiToken', `mutation { createApiToken(name: "escalate", scope: ADMIN) { token } }`],
      ['revokeApiToken', `mutation { revokeApiToken(id: "00000000-0000-4000-8000-000000000000") }`],
      ['apiTokens', `{ apiTokens { id name applications } }`],
      ['webhookSubscriptions', `{ webhookSubscriptions { id } }`],
      ['createWebhookSubscription', `mutation { createWebhookSubscription(input: { url: "https://example.com/hook", application: "${HIDDEN}" }) { secret } }`],
      ['providers', `{ providers { name } }`],
      ['applyPolicy', `mutation { applyPolicy(spec: { name: "p" }) { name } }`],
    ] as const) {
      const answer = await api.gql(query, {}, limited.admin)
      expect(answer.errors?.[0]?.extensions?.code, what).toBe('FORBIDDEN')
      expectNoLeak(what, answer)
    }
    expect(await hiddenState()).toBe(before)
    // Its own application it may operate and apply.
    const pause = await api.gql(`mutation($id: ID!) { pauseRollout(id: $id, reason: "mine") { id } }`, { id: mine.rolloutId }, limited.operate)
    expect(pause.errors).toBeUndefined()
    const applyMine = await api.gql<{ applyApplication: { name: string } }>(APPLY, { spec: demoSpec(MINE) }, limited.admin)
    expect(applyMine.data?.applyApplication.name).toBe(MINE)
  })

  it('rolloutChanged of the other application fails as for a missing rollout; rolloutEvents never carries it', async () => {
    const c = wsClient(api, limited.read)
    try {
      const CHANGED = `subscription($id: ID!) { rolloutChanged(id: $id) { id toVersion } }`
      const hidden = collect(c, CHANGED, { id: hiddenApp.rolloutId })
      const missing = collect(c, CHANGED, { id: MISSING_ROLLOUT })
      await until(() => (hidden.done() || hidden.failure() !== null || hidden.received.length > 0) && (missing.done() || missing.failure() !== null || missing.received.length > 0), 'both answers')
      expect(hidden.received).toEqual([])
      expect(hidden.failure()).toEqual([{ message: 'rollout does not exist', extensions: { code: 'NOT_FOUND' } }])
      expect(JSON.stringify(hidden.received)).toBe(JSON.stringify(missing.received))
      expect(JSON.stringify(hidden.failure())).toBe(JSON.stringify(missing.failure()))

      const EVENTS = `subscription($a: String) { rolloutEvents(application: $a) { kind rollout { id applicationName toVersion } } }`
      const everything = collect(c, EVENTS)
      const named = collect(c, EVENTS, { a: HIDDEN })
      const rolloutOf = (r: Next) => (r.data?.rolloutEvents as { rollout: { id: string } } | undefined)?.rollout.id
      const publish = (target: { rawRolloutId: string }, application: string, seq: number) =>
        api.bus.publish('rollout.changed', { rolloutId: target.rawRolloutId, application, seq, status: 'PENDING', kind: 'state', at: new Date().toISOString() })
      // The subscriptions are live once an event of its own application arrives.
      let seq = 100
      const deadline = Date.now() + 15_000
      while (everything.received.length === 0) {
        if (Date.now() > deadline) throw new Error('rolloutEvents never delivered an event of its own application')
        await publish(mine, MINE, seq++)
        await new Promise((r) => setTimeout(r, 100))
      }
      await publish(hiddenApp, HIDDEN, seq++)
      await publish(mine, MINE, seq++)
      const seen = everything.received.length
      await until(() => everything.received.length > seen, 'the own event after the hidden one')
      expect(everything.received.map(rolloutOf).every((id) => id === mine.rolloutId)).toBe(true)
      expect(named.received).toEqual([])
      expectNoLeak('rolloutEvents', everything.received)
      expectNoLeak('rolloutChanged', hidden.received)
      everything.dispose()
      named.dispose()
    } finally {
      await c.dispose()
    }
  })

  it('/metrics and OTLP ingestion refuse a limited token (their data spans every application)', async () => {
    const metrics = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${limited.admin}` } })
    expect(metrics.status).toBe(403)
    expect(await metrics.text()).not.toContain(HIDDEN)
    const otlp = await fetch(`${api.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${limited.operate}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [] }),
    })
    expect(otlp.status).toBe(403)
  })

  it('createApiToken limits and expires tokens, and rejects bad values without creating anything', async () => {
    const CREATE = `mutation($apps: [String!], $in: String, $at: DateTime) {
      createApiToken(name: "ci", scope: OPERATE, applications: $apps, expiresIn: $in, expiresAt: $at) { token apiToken { id applications expiresAt } }
    }`
    const created = await api.gql<{ createApiToken: { token: string; apiToken: { id: string; applications: string[]; expiresAt: string } } }>(CREATE, {
      apps: [MINE, 'later-app', MINE],
      in: '90d',
    })
    expect(created.errors).toBeUndefined()
    expect(created.data?.createApiToken.apiToken.applications).toEqual(['later-app', MINE])
    const expires = Date.parse(created.data!.createApiToken.apiToken.expiresAt)
    expect(expires).toBeGreaterThan(Date.now() + 89 * 86_400_000)
    expect(expires).toBeLessThan(Date.now() + 91 * 86_400_000)
    const seen = await api.gql<{ applications: { edges: { node: { name: string } }[] } }>(`{ applications { edges { node { name } } } }`, {}, created.data!.createApiToken.token)
    expect(seen.data?.applications.edges.map((e) => e.node.name)).toEqual([MINE])

    const count = (await api.store.tokens.list()).length
    const bad: [Record<string, unknown>, string][] = [
      [{ apps: [] }, 'applications'],
      [{ apps: ['Not_A_Name'] }, 'applications[0]'],
      [{ apps: ['ok', 'x'.repeat(5000)] }, 'applications[1]'],
      [{ apps: Array.from({ length: 101 }, (_, i) => `app-${i}`) }, 'applications'],
      [{ in: '0m' }, 'expiresIn'],
      [{ in: '3651d' }, 'expiresIn'],
      [{ in: '1y' }, 'expiresIn'],
      [{ in: '-5d' }, 'expiresIn'],
      [{ in: '9'.repeat(400) }, 'expiresIn'],
      [{ at: new Date(Date.now() - 1000).toISOString() }, 'expiresAt'],
      [{ at: '9999-12-31T00:00:00Z' }, 'expiresAt'],
      [{ in: '1d', at: new Date(Date.now() + 86_400_000).toISOString() }, 'expiresIn'],
    ]
    for (const [variables, path] of bad) {
      const answer = await api.gql(CREATE, variables)
      expect(answer.errors?.[0]?.extensions?.code, JSON.stringify(variables).slice(0, 80)).toBe('BAD_USER_INPUT')
      expect(answer.errors?.[0]?.extensions?.path, JSON.stringify(variables).slice(0, 80)).toBe(path)
    }
    expect((await api.gql(CREATE, { at: 'not a date' })).errors?.[0]?.message).toMatch(/DateTime/)
    expect((await api.store.tokens.list()).length).toBe(count)

    // An expired token is refused like a revoked one: 401 over HTTP.
    const short = await api.store.tokens.create('short', 'read', { expiresAt: new Date(Date.now() + 60_000) })
    expect((await api.gql(`{ viewer { name } }`, {}, short.token)).status).toBe(200)
    await api.store.db.kysely.updateTable('api_tokens').set({ expires_at: Date.now() - 1 }).where('id', '=', short.apiToken.id).execute()
    const expired = await api.gql(`{ viewer { name } }`, {}, short.token)
    expect(expired.status).toBe(401)
    expect(expired.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
  })
})
