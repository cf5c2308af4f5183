import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/databases.ts'
import { startTestApi, type TestApi } from '../support/api.ts'

const APPLY = `mutation($spec: JSON!) { applyProvider(spec: $spec) { name kind url timeout tenant headerNames authentication } }`

describe.each(DIALECTS)('telemetry providers over the graph on %s', (dialect) => {
  let api: TestApi

  beforeAll(async () => {
    api = await startTestApi(dialect)
  })
  afterAll(async () => {
    await api?.close()
  })

  it('declares, lists (without credentials), replaces and deletes providers', async () => {
    const applied = await api.gql(APPLY, {
      spec: { name: 'prometheus', kind: 'prometheus', url: 'http://127.0.0.1:9090', bearerToken: 'secret-token', headers: { 'X-Team': 'shop' } },
    })
    expect(applied.errors).toBeUndefined()
    expect(applied.data).toEqual({
      applyProvider: { name: 'prometheus', kind: 'prometheus', url: 'http://127.0.0.1:9090', timeout: '10s', tenant: null, headerNames: ['X-Team'], authentication: 'bearer' },
    })
    await api.gql(APPLY, { spec: 'name: logs\nkind: loki\nurl: http://127.0.0.1:3100\ntenant: acme\n' })
    const listed = await api.gql<{ providers: { name: string }[] }>(`{ providers { name kind authentication } }`)
    expect(listed.data?.providers.map((p) => p.name)).toEqual(['logs', 'prometheus'])
    expect(JSON.stringify(listed)).not.toContain('secret-token')

    await api.gql(APPLY, { spec: { name: 'prometheus', kind: 'prometheus', url: 'http://127.0.0.1:9091', timeout: '3s' } })
    const replaced = await api.store.providers.byName('prometheus')
    expect(replaced?.spec).toMatchObject({ url: 'http://127.0.0.1:9091', timeoutMs: 3000 })
    expect(replaced?.spec.bearerToken).toBeUndefined()

    expect((await api.gql(`mutation { deleteProvider(name: "logs") }`)).data).toEqual({ deleteProvider: true })
    expect((await api.gql(`mutation { deleteProvider(name: "logs") }`)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
  })

  it('rejects a bad provider naming the field, and writes nothing', async () => {
    const before = await api.store.providers.version()
    const result = await api.gql(APPLY, { spec: { name: 'tempo', kind: 'tempo', url: 'http://u:p@127.0.0.1:3200' } })
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'url' })
    expect(await api.store.providers.version()).toBe(before)
    expect(await api.store.providers.byName('tempo')).toBeNull()
  })

  it('is for admins only', async () => {
    const result = await api.gql(APPLY, { spec: { name: 'x', kind: 'loki', url: 'http://127.0.0.1:3100' } }, api.tokens.operate)
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    expect((await api.gql(`{ providers { name } }`, {}, api.tokens.read)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    expect(await api.store.providers.byName('x')).toBeNull()
  })
})
