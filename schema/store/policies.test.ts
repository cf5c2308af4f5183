import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { PolicyRepository } from './policies.ts'

describe.each(DIALECTS)('PolicyRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let policies: PolicyRepository

  beforeAll(async () => {
    store = await openTestStore(dialect)
    policies = new PolicyRepository(store.db)
  })
  afterAll(async () => store?.dispose())

  it('creates, replaces, reads and lists documents per kind, by name', async () => {
    const created = await policies.upsert('policy', 'standard-web', { name: 'standard-web', interval: '10s', note: 'Größe 🚀' }, 1000)
    expect(created).toMatchObject({ kind: 'policy', name: 'standard-web', spec: { interval: '10s', note: 'Größe 🚀' } })
    expect(created.createdAt.getTime()).toBe(1000)
    const replaced = await policies.upsert('policy', 'standard-web', { name: 'standard-web', interval: '20s' }, 2000)
    expect(replaced.spec).toEqual({ name: 'standard-web', interval: '20s' })
    expect(replaced.createdAt.getTime()).toBe(1000)
    expect(replaced.updatedAt.getTime()).toBe(2000)
    // The same name of another kind is another document.
    await policies.upsert('guardrail', 'standard-web', { environment: 'standard-web', rules: { requireErrorGate: true } })
    await policies.upsert('policy', 'another', { name: 'another', gates: [] })
    expect((await policies.list('policy')).map((p) => p.name)).toEqual(['another', 'standard-web'])
    expect((await policies.list('guardrail')).map((p) => p.spec)).toEqual([{ environment: 'standard-web', rules: { requireErrorGate: true } }])
    expect(await policies.byName('policy', 'missing')).toBeNull()
  })

  it('deletes one document and says whether there was one', async () => {
    await policies.upsert('guardrail', '*', { environment: '*', rules: { forbidDryRun: true } })
    expect(await policies.delete('guardrail', '*')).toBe(true)
    expect(await policies.delete('guardrail', '*')).toBe(false)
    expect(await policies.byName('guardrail', '*')).toBeNull()
    expect(await policies.byName('policy', 'standard-web')).not.toBeNull()
  })
})
