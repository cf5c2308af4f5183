import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/databases.ts'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'

const APPLY = /* GraphQL */ `
  mutation Apply($spec: JSON!) { applyApplication(spec: $spec) { id name stableVersion spec } }
`
const START = /* GraphQL */ `
  mutation Start($app: String!, $version: String!) {
    startRollout(application: $app, version: $version) { id status toVersion fromVersion steps { index kind status setWeight analyzeMin analyzeMax } }
  }
`

describe.each(DIALECTS)('the graph over HTTP on %s', (dialect) => {
  let api: TestApi

  beforeAll(async () => {
    api = await startTestApi(dialect)
  })
  afterAll(async () => {
    await api?.close()
  })

  it('applies an application from its spec and reads it back', async () => {
    const applied = await api.gql<{ applyApplication: { id: string; name: string; spec: { target: { healthPath: string } } } }>(APPLY, {
      spec: demoSpec('checkout'),
    })
    expect(applied.errors).toBeUndefined()
    expect(applied.data?.applyApplication.name).toBe('checkout')
    expect(applied.data?.applyApplication.spec.target.healthPath).toBe('/healthz')

    const read = await api.gql<{ application: { name: string; stableVersion: null } }>(`{ application(name: "checkout") { name stableVersion } }`)
    expect(read.data?.application).toEqual({ name: 'checkout', stableVersion: null })
    const missing = await api.gql(`{ application(name: "nope") { name } }`)
    expect(missing.data).toEqual({ application: null })
  })

  it('accepts the spec as YAML text too', async () => {
    const yaml = `name: yaml-app\ntarget: { kind: process, listen: "127.0.0.1:18081", command: [node, app.mjs] }\nstrategy:\n  canary:\n    steps:\n      - setWeight: 10\n`
    const applied = await api.gql<{ applyApplication: { name: string } }>(APPLY, { spec: yaml })
    expect(applied.errors).toBeUndefined()
    expect(applied.data?.applyApplication.name).toBe('yaml-app')
  })

  it('rejects an invalid spec naming the field, and writes nothing', async () => {
    const before = await api.store.applications.list({ first: 100 })
    const bad = demoSpec('badapp', { strategy: { canary: { steps: [{ setWeight: 5 }, { setWeight: 10 }, { setWeight: 150 }] } } })
    const result = await api.gql(APPLY, { spec: bad })
    expect(result.data).toBeNull()
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(result.errors?.[0]?.extensions?.path).toBe('strategy.canary.steps[2].setWeight')
    expect(result.errors?.[0]?.message).toMatch(/strategy\.canary\.steps\[2\]\.setWeight/)
    const after = await api.store.applications.list({ first: 100 })
    expect(after.items.length).toBe(before.items.length)
    expect(await api.store.applications.byName('badapp')).toBeNull()
  })

  it('rejects hostile spec values', async () => {
    const nulled = await api.gql(APPLY, { spec: null })
    expect(nulled.errors?.[0]?.message).toMatch(/must not be null/)
    for (const spec of [42, 'x'.repeat(300 * 1024), [], { name: '__proto__' }, { ...demoSpec('a'), gates: [{ name: 'e', signal: 'errorRate', judge: { kind: 'threshold', max: 7 } }] }]) {
      const result = await api.gql(APPLY, { spec })
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(spec).slice(0, 80)).toBe('BAD_USER_INPUT')
    }
    expect(await api.store.applications.byName('a')).toBeNull()
  })

  it('starts a rollout with the spec steps, and refuses a second active one (CONFLICT)', async () => {
    const started = await api.gql<{ startRollout: { id: string; status: string; toVersion: string; steps: { kind: string; setWeight: number | null }[] } }>(START, {
      app: 'checkout',
      version: 'v2',
    })
    expect(started.errors).toBeUndefined()
    expect(started.data?.startRollout.status).toBe('PENDING')
    expect(started.data?.startRollout.steps.map((s) => s.kind)).toEqual(['SET_WEIGHT', 'ANALYZE', 'SET_WEIGHT', 'PAUSE', 'SET_WEIGHT', 'ANALYZE'])

    const second = await api.gql(START, { app: 'checkout', version: 'v3' })
    expect(second.errors?.[0]?.extensions?.code).toBe('CONFLICT')
    const list = await api.gql<{ rollouts: { edges: unknown[] } }>(`{ rollouts(application: "checkout") { edges { node { id } } } }`)
    expect(list.data?.rollouts.edges).toHaveLength(1)
  })

  it('refuses to start unknown applications and malformed versions', async () => {
    const unknown = await api.gql(START, { app: 'ghost', version: 'v1' })
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    for (const version of ['', ' v1', 'v1;drop table', 'x'.repeat(65), '../etc']) {
      const result = await api.gql(START, { app: 'yaml-app', version })
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
      expect(result.errors?.[0]?.extensions?.path).toBe('version')
    }
    expect((await api.store.rollouts.list({ first: 100, application: 'yaml-app' })).items).toHaveLength(0)
  })

  it('finds rollouts by id, by node, by application and by status', async () => {
    const list = await api.gql<{ rollouts: { edges: { node: { id: string } }[] } }>(`{ rollouts(status: [PENDING]) { edges { node { id } } } }`)
    const id = list.data?.rollouts.edges[0]?.node.id
    expect(id).toBeTruthy()
    const one = await api.gql<{ rollout: { id: string; application: { name: string } }; node: { __typename: string } }>(
      `query($id: ID!) { rollout(id: $id) { id application { name } } node(id: $id) { __typename } }`,
      { id },
    )
    expect(one.data?.rollout.application.name).toBe('checkout')
    expect(one.data?.node.__typename).toBe('Rollout')
    const none = await api.gql<{ rollouts: { edges: unknown[] } }>(`{ rollouts(status: [SUCCEEDED, FAILED]) { edges { node { id } } } }`)
    expect(none.data?.rollouts.edges).toEqual([])
  })

  it('answers malformed ids and cursors with BAD_USER_INPUT, never a server error', async () => {
    for (const id of ['', 'abc', 'QXBwbGljYXRpb246eA==', Buffer.from('Rollout:not-a-uuid').toString('base64'), '%%%', 'x'.repeat(5000)]) {
      const result = await api.gql(`query($id: ID!) { rollout(id: $id) { id } }`, { id })
      expect(result.errors?.[0]?.extensions?.code, id.slice(0, 20)).toBe('BAD_USER_INPUT')
    }
    for (const after of ['garbage', 'eyJ4IjoxfQ', '!!!']) {
      const result = await api.gql(`query($after: String) { rollouts(first: 2, after: $after) { edges { cursor } } }`, { after })
      expect(result.errors?.[0]?.extensions?.code, after).toBe('BAD_USER_INPUT')
    }
    for (const first of [0, -1, 101]) {
      const result = await api.gql(`query($first: Int) { rollouts(first: $first) { edges { cursor } } }`, { first })
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    }
  })

  it('pages applications with cursors, without gaps or repeats', async () => {
    for (const name of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      await api.gql(APPLY, { spec: demoSpec(name) })
    }
    const seen: string[] = []
    let after: string | null = null
    for (let i = 0; i < 10; i++) {
      const page: { data?: { applications: { edges: { cursor: string; node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null } =
        await api.gql(`query($after: String) { applications(first: 2, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`, { after })
      const connection = page.data!.applications
      seen.push(...connection.edges.map((e) => e.node.name))
      if (!connection.pageInfo.hasNextPage) break
      after = connection.pageInfo.endCursor
    }
    expect(seen).toEqual([...seen].sort())
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual(expect.arrayContaining(['checkout', 'page-a', 'page-e', 'yaml-app']))
  })
})
