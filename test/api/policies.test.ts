import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyConfigFile } from '../../server/config-file.ts'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'

const STANDARD_WEB = {
  name: 'standard-web',
  description: 'five percent, then half, analyzed on errors',
  strategy: { canary: { steps: [{ setWeight: 5 }, { analyze: { min: '30s' } }, { setWeight: 50 }, { analyze: { min: '1m' } }] } },
  gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 } }],
}
const bare = (name: string, extra: Record<string, unknown> = {}) => {
  const { strategy: _s, gates: _g, ...rest } = demoSpec(name)
  return { ...rest, ...extra }
}

/** Policies and guardrails through the graph, on a real server (DESIGN: admin-defined, refused at apply). */
describe('policies and guardrails', () => {
  let api: TestApi
  const apply = (spec: unknown, token?: string) => api.gql<{ applyApplication: { name: string; policy: string | null; environment: string; spec: Record<string, unknown> } }>(
    `mutation($spec: JSON!) { applyApplication(spec: $spec) { name policy environment spec } }`, { spec }, token)

  beforeAll(async () => {
    api = await startTestApi('sqlite')
  })
  afterAll(async () => api?.close())

  it('lets only admins define policies, and lists them', async () => {
    const denied = await api.gql(`mutation($spec: JSON!) { applyPolicy(spec: $spec) { name } }`, { spec: STANDARD_WEB }, api.tokens.operate)
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    const created = await api.gql<{ applyPolicy: { name: string; description: string } }>(`mutation($spec: JSON!) { applyPolicy(spec: $spec) { name description } }`, { spec: STANDARD_WEB })
    expect(created.errors).toBeUndefined()
    expect(created.data?.applyPolicy).toEqual({ name: 'standard-web', description: STANDARD_WEB.description })
    const listed = await api.gql<{ policies: { name: string }[] }>(`{ policies { name } }`, {}, api.tokens.read)
    expect(listed.data?.policies.map((p) => p.name)).toEqual(['standard-web'])
  })

  it('refuses a bad policy naming the field, and stores nothing', async () => {
    const bad = await api.gql(`mutation($spec: JSON!) { applyPolicy(spec: $spec) { name } }`, { spec: { name: 'broken', strategy: { canary: { steps: [{ setWeight: 101 }] } } } })
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'strategy.canary.steps[0].setWeight' })
    expect((await api.store.policies.byName('policy', 'broken'))).toBeNull()
  })

  it('completes an application with its policy; the application\'s own fields win', async () => {
    const applied = await apply(bare('uses-policy', { policy: 'standard-web', interval: '7s' }))
    expect(applied.errors).toBeUndefined()
    expect(applied.data?.applyApplication).toMatchObject({ name: 'uses-policy', policy: 'standard-web', environment: 'default' })
    expect(applied.data?.applyApplication.spec).toMatchObject({ gates: [{ name: 'errors' }], interval: '7s', strategy: { canary: { steps: [{ setWeight: 5 }, {}, {}, {}] } } })
    const own = await apply({ ...demoSpec('own-gates'), policy: 'standard-web' })
    expect((own.data?.applyApplication.spec.gates as { name: string }[]).map((g) => g.name)).toEqual(['errors', 'p95'])
  })

  it('refuses an application naming a policy that does not exist, and stores nothing', async () => {
    const result = await apply(bare('orphan', { policy: 'nonexistent' }))
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'policy' })
    expect(result.errors?.[0]?.message).toMatch(/no policy named "nonexistent"; known: standard-web/)
    expect(await api.store.applications.byName('orphan')).toBeNull()
  })

  it('enforces the guardrails of the application\'s environment and of every environment, naming rule and field', async () => {
    const set = await api.gql(`mutation($spec: JSON!) { applyGuardrails(spec: $spec) { environment rules } }`, { spec: { environment: 'production', rules: { maxFirstStepWeight: 10, requireErrorGate: true } } })
    expect(set.errors).toBeUndefined()
    const tooBig = await apply({ ...demoSpec('risky'), environment: 'production', strategy: { canary: { steps: [{ setWeight: 25 }, { analyze: { min: '30s' } }] } } })
    expect(tooBig.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'strategy.canary.steps[0].setWeight' })
    expect(tooBig.errors?.[0]?.message).toMatch(/sends 25 % to the new version; at most 10 % here \(guardrail of environment production: maxFirstStepWeight\)/)
    expect(await api.store.applications.byName('risky')).toBeNull()
    // The same spec outside production is fine; the policy's 5 % satisfies production.
    expect((await apply({ ...demoSpec('risky'), strategy: { canary: { steps: [{ setWeight: 25 }, { analyze: { min: '30s' } }] } } })).errors).toBeUndefined()
    expect((await apply(bare('careful', { policy: 'standard-web', environment: 'production' }))).errors).toBeUndefined()
    // `*` applies everywhere.
    await api.gql(`mutation($spec: JSON!) { applyGuardrails(spec: $spec) { environment } }`, { spec: { environment: '*', rules: { forbidDryRun: true } } })
    const dry = await apply({ ...demoSpec('dry'), gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.02 }, dryRun: true }] })
    expect(dry.errors?.[0]?.message).toMatch(/guardrail for every environment: forbidDryRun/)
    const listed = await api.gql<{ guardrails: { environment: string }[] }>(`{ guardrails { environment } }`, {}, api.tokens.read)
    expect(listed.data?.guardrails.map((g) => g.environment).sort()).toEqual(['*', 'production'])
    expect((await api.gql(`mutation { deleteGuardrails(environment: "*") }`)).data).toEqual({ deleteGuardrails: true })
  })

  it('refuses bad guardrails naming the field; admins only', async () => {
    const bad = await api.gql(`mutation($spec: JSON!) { applyGuardrails(spec: $spec) { environment } }`, { spec: { environment: 'prod', rules: { maxFirstStepWeight: '10%' } } })
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'rules.maxFirstStepWeight' })
    const denied = await api.gql(`mutation { deletePolicy(name: "standard-web") }`, {}, api.tokens.read)
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    const missing = await api.gql(`mutation { deletePolicy(name: "${'x'.repeat(500)}") }`)
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
  })

  it('applies policies and guardrails to SENTRA_CONFIG too, all or nothing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sentra-policy-config-')), 'apps.yaml')
    writeFileSync(path, JSON.stringify({ applications: [bare('from-file', { policy: 'standard-web' }), { ...demoSpec('file-risky'), environment: 'production', strategy: { canary: { steps: [{ setWeight: 40 }] } } }] }))
    await expect(applyConfigFile(path, api.store, api.bus)).rejects.toThrow(/applications\[1\] \(file-risky\): strategy\.canary\.steps\[0\]\.setWeight: .*maxFirstStepWeight/)
    expect(await api.store.applications.byName('from-file')).toBeNull()
    writeFileSync(path, JSON.stringify({ applications: [bare('from-file', { policy: 'standard-web' })] }))
    await applyConfigFile(path, api.store, api.bus)
    expect((await api.store.applications.byName('from-file'))?.spec).toMatchObject({ policy: 'standard-web', gates: [{ name: 'errors' }] })
  })
})
