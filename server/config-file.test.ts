import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBus } from '../schema/events/index.ts'
import { createStore, type Store } from '../schema/store/index.ts'
import { DIALECTS, openTestStore } from '../test/support/databases.ts'
import { waitFor } from '../test/support/events.ts'
import { applyConfigFile, MAX_CONFIG_FILE_BYTES, readConfigFile } from './config-file.ts'
import { ConfigError } from './config.ts'

const app = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  target: { kind: 'process', listen: '127.0.0.1:18080', command: ['node', 'app.mjs'] },
  strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '20s' } }] } },
  gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.05 } }],
  ...extra,
})

const dir = mkdtempSync(join(tmpdir(), 'sentra-config-'))
let counter = 0
function file(text: string): string {
  const path = join(dir, `config-${counter++}.yaml`)
  writeFileSync(path, text)
  return path
}
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('readConfigFile', () => {
  it('reads a YAML list of application specs, validated and normalized', async () => {
    const specs = await readConfigFile(file(`applications:\n  - ${JSON.stringify(app('shop'))}\n  - ${JSON.stringify(app('cart'))}\n`))
    expect(specs.map((s) => s.name)).toEqual(['shop', 'cart'])
    expect(specs[0]?.target.kind).toBe('process')
  })

  it('accepts JSON and an empty list', async () => {
    expect(await readConfigFile(file(JSON.stringify({ applications: [app('a')] })))).toHaveLength(1)
    expect(await readConfigFile(file('applications: []\n'))).toEqual([])
  })

  it.each([
    ['a missing file', null, /cannot read it/],
    ['an empty file', '', /is empty/],
    ['a list at the top', '- a\n- b\n', /mapping with an `applications:` list/],
    ['no applications key', 'apps: []\n', /mapping with an `applications:` list/],
    ['applications not a list', 'applications: { shop: {} }\n', /mapping with an `applications:` list/],
    ['malformed YAML', 'applications: [\n', /applications|YAML|flow/i],
    ['malformed JSON', '{"applications": [}', /not valid JSON/],
    ['an invalid spec, naming the entry and field', JSON.stringify({ applications: [app('ok'), app('bad', { strategy: { canary: { steps: [{ setWeight: 500 }] } } })] }), /applications\[1\] \(bad\): strategy\.canary\.steps\[0\]\.setWeight/],
    ['a spec that is not a mapping', 'applications: [42]\n', /applications\[0\]: .*mapping/],
    ['a duplicate name', JSON.stringify({ applications: [app('twice'), app('twice')] }), /twice is listed twice/],
    ['a prototype key', '{"applications": [{"__proto__": {"polluted": true}, "name": "x"}]}', /applications\[0\]/],
    ['a YAML alias bomb', `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\napplications: [*e]\n`, /alias|too many/i],
  ])('refuses %s with a clear ConfigError', async (_label, text, message) => {
    const path = text === null ? join(dir, 'does-not-exist.yaml') : file(text)
    const error = await readConfigFile(path).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(/^SENTRA_CONFIG \(/)
    expect((error as Error).message).toMatch(message)
  })

  it('refuses an oversized file before reading it', async () => {
    const error = await readConfigFile(file(`applications: []\n#${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`)).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/the limit is 4096 KiB/)
  })

  it('refuses too many applications', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => app(`app-${i}`))
    const error = await readConfigFile(file(JSON.stringify({ applications: many }))).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/has 1001 applications; the limit is 1000/)
  })
})

describe.each(DIALECTS)('applyConfigFile on %s', (dialect) => {
  let handle: Awaited<ReturnType<typeof openTestStore>>
  let store: Store
  const bus = new MemoryBus()

  beforeAll(async () => {
    handle = await openTestStore(dialect)
    store = createStore(handle.db)
  })
  afterAll(async () => {
    await bus.close()
    await handle?.dispose()
  })

  it('creates and then updates the applications, announcing each', async () => {
    const seen: string[] = []
    const stop = await bus.subscribe('application.changed', (event) => {
      seen.push(event.name)
    })
    await applyConfigFile(file(JSON.stringify({ applications: [app('first'), app('second')] })), store, bus)
    expect((await store.applications.byName('first'))?.spec).toMatchObject({ name: 'first' })
    await applyConfigFile(file(JSON.stringify({ applications: [app('first', { interval: '7s' })] })), store, bus)
    expect((await store.applications.byName('first'))?.spec).toMatchObject({ interval: '7s' })
    await waitFor(() => seen.length >= 3, 'three application.changed events')
    expect(seen).toEqual(['first', 'second', 'first'])
    await stop()
  })

  it('changes nothing when any spec is invalid', async () => {
    const path = file(JSON.stringify({ applications: [app('untouched'), app('broken', { target: { kind: 'nope' } })] }))
    await expect(applyConfigFile(path, store, bus)).rejects.toThrow(/applications\[1\] \(broken\): target/)
    expect(await store.applications.byName('untouched')).toBeNull()
  })
})
