import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/databases.ts'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'
import type { Payloads } from '../../schema/events/channels.ts'

describe.each(DIALECTS)('operator commands and auth on %s', (dialect) => {
  let api: TestApi
  let rolloutId: string
  let storedId: string

  beforeAll(async () => {
    api = await startTestApi(dialect)
    await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: demoSpec('shop') })
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation { startRollout(application: "shop", version: "v2") { id } }`)
    rolloutId = started.data!.startRollout.id
    storedId = Buffer.from(rolloutId, 'base64').toString().split(':')[1]!
  })
  afterAll(async () => {
    await api?.close()
  })

  it('records a command with its actor and publishes it, without changing the rollout', async () => {
    const published: Payloads['rollout.command'][] = []
    const unsubscribe = await api.bus.subscribe('rollout.command', (p) => published.push(p))
    const before = await api.store.rollouts.byId(storedId)
    const result = await api.gql<{ pauseRollout: { status: string; commands: { kind: string; actor: string; reason: string }[] } }>(
      `mutation($id: ID!) { pauseRollout(id: $id, reason: "checking a dashboard") { status commands { kind actor reason } } }`,
      { id: rolloutId },
      api.tokens.operate,
    )
    expect(result.errors).toBeUndefined()
    expect(result.data?.pauseRollout.status).toBe('PENDING')
    expect(result.data?.pauseRollout.commands).toEqual([{ kind: 'PAUSE', actor: 'test operator', reason: 'checking a dashboard' }])
    await expect.poll(() => published.length).toBe(1)
    expect(published[0]).toMatchObject({ rolloutId: storedId, kind: 'PAUSE', actor: 'test operator', application: 'shop' })
    const after = await api.store.rollouts.byId(storedId)
    expect(after?.status).toBe(before?.status)
    expect(after?.seq).toBe(before?.seq)
    await unsubscribe()
  })

  it('refuses a command that is illegal in the current status with CONFLICT, recording nothing', async () => {
    const before = (await api.store.commands.pending(storedId)).length
    const result = await api.gql(`mutation($id: ID!) { resumeRollout(id: $id) { id } }`, { id: rolloutId }, api.tokens.operate)
    expect(result.errors?.[0]?.extensions?.code).toBe('CONFLICT')
    expect(result.errors?.[0]?.message).toMatch(/cannot resume a rollout that is PENDING/)
    expect((await api.store.commands.pending(storedId)).length).toBe(before)
  })

  it('refuses commands on a finished rollout', async () => {
    await api.store.rollouts.update(storedId, { status: 'SUCCEEDED', finishedAt: new Date() })
    for (const mutation of ['promoteRollout(id: $id)', 'pauseRollout(id: $id)', 'rollbackRollout(id: $id)', 'abortRollout(id: $id)']) {
      const result = await api.gql(`mutation($id: ID!) { ${mutation} { id } }`, { id: rolloutId }, api.tokens.operate)
      expect(result.errors?.[0]?.extensions?.code, mutation).toBe('CONFLICT')
    }
    // The application is free again: a new rollout may start.
    const next = await api.gql(`mutation { startRollout(application: "shop", version: "v3") { id } }`, {}, api.tokens.operate)
    expect(next.errors).toBeUndefined()
  })

  it('answers unknown and malformed rollout ids clearly', async () => {
    const unknown = Buffer.from('Rollout:00000000-0000-4000-8000-000000000000').toString('base64')
    expect((await api.gql(`mutation($id: ID!) { abortRollout(id: $id) { id } }`, { id: unknown })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect((await api.gql(`mutation($id: ID!) { abortRollout(id: $id) { id } }`, { id: 'nope' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    const long = await api.gql(`mutation($id: ID!) { rollbackRollout(id: $id, reason: $r) { id } }`.replace('$id: ID!', '$id: ID!, $r: String'), {
      id: rolloutId,
      r: 'x'.repeat(5000),
    })
    expect(long.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  })

  it('refuses requests without a valid token (401) and changes nothing', async () => {
    const rolloutsBefore = (await api.store.rollouts.list({ first: 100 })).items.length
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: 'Basic abc' }, { authorization: `Bearer ${'x'.repeat(10_000)}` }]) {
      const response = await fetch(api.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: 'mutation { startRollout(application: "shop", version: "v9") { id } }' }),
      })
      expect(response.status).toBe(401)
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] }
      expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED')
    }
    expect((await api.store.rollouts.list({ first: 100 })).items.length).toBe(rolloutsBefore)
  })

  it('enforces scopes: read < operate < admin', async () => {
    const read = await api.gql(`mutation { startRollout(application: "shop", version: "v8") { id } }`, {}, api.tokens.read)
    expect(read.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    const operateApply = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: demoSpec('sneaky') }, api.tokens.operate)
    expect(operateApply.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    expect(await api.store.applications.byName('sneaky')).toBeNull()
    const tokens = await api.gql(`{ apiTokens { name } }`, {}, api.tokens.operate)
    expect(tokens.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    const readQuery = await api.gql<{ viewer: { name: string; scope: string } }>(`{ viewer { name scope } }`, {}, api.tokens.read)
    expect(readQuery.data?.viewer).toEqual({ name: 'test reader', scope: 'READ' })
  })

  it('creates and revokes tokens (admin); a revoked token is refused at once', async () => {
    const created = await api.gql<{ createApiToken: { token: string; apiToken: { id: string; scope: string } } }>(
      `mutation { createApiToken(name: "ci bot", scope: OPERATE) { token apiToken { id scope } } }`,
    )
    const { token, apiToken } = created.data!.createApiToken
    expect(apiToken.scope).toBe('OPERATE')
    expect((await api.gql(`{ viewer { name } }`, {}, token)).data).toEqual({ viewer: { name: 'ci bot' } })
    const revoked = await api.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: apiToken.id })
    expect(revoked.data).toEqual({ revokeApiToken: true })
    const after = await api.gql(`{ viewer { name } }`, {}, token)
    expect(after.status).toBe(401)
    const bad = await api.gql(`mutation { createApiToken(name: "", scope: READ) { token } }`)
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  })
})
