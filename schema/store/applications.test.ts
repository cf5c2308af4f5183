import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { countRows, queriesOf, uniqueName } from '../../test/support/store-fixtures.ts'
import { ApplicationRepository } from './applications.ts'
import type { Db } from './connect.ts'
import { BadCursorError, encodeCursor } from './cursor.ts'
import { NotFoundError } from './errors.ts'

const UNICODE_SPEC = {
  name: 'checkout',
  description: 'Größe 🚀 — 日本語 \u0000 "quoted" \\ back\nslash',
  target: { kind: 'process', command: ['node', 'svc.mjs'], env: { APP_VERSION: '{{version}}', EMPTY: '' } },
  strategy: { canary: { steps: [{ setWeight: 5 }, { analyze: { min: '20s', max: '5m' } }, { pause: {} }] } },
  gates: [{ name: 'errors', judge: { kind: 'threshold', max: 0.02, nested: [[1, 2.5, -3e-7], [true, false, null]] } }],
}

describe.each(DIALECTS)('ApplicationRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let apps: ApplicationRepository

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    apps = new ApplicationRepository(db)
  })
  afterAll(async () => store?.dispose())

  it('inserts a new application with UTC times and no stable version', async () => {
    const before = Date.now()
    const app = await apps.upsert(uniqueName(), { a: 1 })
    expect(app.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(app.stableVersion).toBeNull()
    expect(app.spec).toEqual({ a: 1 })
    expect(app.createdAt).toBeInstanceOf(Date)
    expect(app.createdAt.getTime()).toBeGreaterThanOrEqual(before)
    expect(app.createdAt.getTime()).toBeLessThanOrEqual(Date.now())
    expect(app.updatedAt.getTime()).toBe(app.createdAt.getTime())
  })

  it('round-trips a nested spec with unicode exactly', async () => {
    const name = uniqueName()
    const app = await apps.upsert(name, UNICODE_SPEC)
    expect(app.spec).toEqual(UNICODE_SPEC)
    expect((await apps.byName(name))?.spec).toEqual(UNICODE_SPEC)
    expect((await apps.byId(app.id))?.spec).toEqual(UNICODE_SPEC)
  })

  it('round-trips a spec larger than 64 KiB', async () => {
    const big = { blob: 'é'.repeat(70_000) }
    const app = await apps.upsert(uniqueName(), big)
    expect((await apps.byId(app.id))?.spec).toEqual(big)
  })

  it('upsert of an existing name replaces the spec and keeps id, createdAt and stableVersion', async () => {
    const name = uniqueName()
    const first = await apps.upsert(name, { v: 1 })
    await apps.setStableVersion(first.id, 'v7')
    await new Promise((r) => setTimeout(r, 5))
    const rows = await countRows(db, 'applications')
    const second = await apps.upsert(name, { v: 2, extra: ['x'] })
    expect(await countRows(db, 'applications')).toBe(rows)
    expect(second.id).toBe(first.id)
    expect(second.stableVersion).toBe('v7')
    expect(second.spec).toEqual({ v: 2, extra: ['x'] })
    expect(second.createdAt.getTime()).toBe(first.createdAt.getTime())
    expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime())
  })

  it('concurrent upserts of one new name make one application', async () => {
    const name = uniqueName()
    const results = await Promise.all([1, 2, 3, 4].map((v) => apps.upsert(name, { v })))
    expect(new Set(results.map((a) => a.id)).size).toBe(1)
    const rows = await db.kysely.selectFrom('applications').select('id').where('name', '=', name).execute()
    expect(rows).toHaveLength(1)
  })

  it('rejects a spec that is not a JSON object', async () => {
    await expect(apps.upsert(uniqueName(), [] as object)).rejects.toThrow(TypeError)
  })

  it('byName and byId return null for unknown keys', async () => {
    expect(await apps.byName('no-such-app')).toBeNull()
    expect(await apps.byId('00000000-0000-0000-0000-000000000000')).toBeNull()
  })

  it('byIds returns key order with nulls and repeats, in one query', async () => {
    const a = await apps.upsert(uniqueName(), {})
    const b = await apps.upsert(uniqueName(), {})
    const { result, queries } = await queriesOf(db, () => apps.byIds([b.id, 'missing', a.id, b.id]))
    expect(queries).toBe(1)
    expect(result.map((x) => x?.id ?? null)).toEqual([b.id, null, a.id, b.id])
    expect(await queriesOf(db, () => apps.byIds([]))).toEqual({ result: [], queries: 0 })
  })

  it('setStableVersion sets and clears the version; unknown id is NotFoundError', async () => {
    const app = await apps.upsert(uniqueName(), {})
    await apps.setStableVersion(app.id, 'v3')
    expect((await apps.byId(app.id))?.stableVersion).toBe('v3')
    await apps.setStableVersion(app.id, 'v3') // unchanged value still counts as found
    await apps.setStableVersion(app.id, null)
    expect((await apps.byId(app.id))?.stableVersion).toBeNull()
    await expect(apps.setStableVersion('missing', 'v1')).rejects.toThrow(NotFoundError)
  })

  it('lists by name across pages without duplicates or gaps', async () => {
    for (let i = 0; i < 7; i++) await apps.upsert(uniqueName('page'), { i })
    const all = (await db.kysely.selectFrom('applications').select('name').execute()).map((r) => r.name).sort()
    const seen: string[] = []
    let after: string | null = null
    let pages = 0
    for (;;) {
      const page = await apps.list({ first: 3, after })
      pages++
      expect(page.items.length).toBeLessThanOrEqual(3)
      seen.push(...page.items.map((item) => item.node.name))
      if (!page.hasNextPage) break
      expect(page.items).toHaveLength(3)
      after = page.items.at(-1)?.cursor ?? null
    }
    expect(seen).toEqual(all)
    expect(pages).toBe(Math.ceil(all.length / 3))
    expect(all.length).toBeGreaterThanOrEqual(7)
  })

  it('list pages of exactly the remaining size say there is no next page', async () => {
    const total = await countRows(db, 'applications')
    const page = await apps.list({ first: total })
    expect(page.items).toHaveLength(total)
    expect(page.hasNextPage).toBe(false)
    const empty = await apps.list({ first: 0 })
    expect(empty.items).toEqual([])
    expect(empty.hasNextPage).toBe(true)
  })

  it('list fetches in one query', async () => {
    const { queries } = await queriesOf(db, () => apps.list({ first: 3 }))
    expect(queries).toBe(1)
  })

  it('rejects malformed cursors and bad page sizes', async () => {
    for (const cursor of ['', 'not a cursor!', 'bm9wZQ', encodeCursor('rollouts', [1, 'x']), encodeCursor('applications', [5])]) {
      await expect(apps.list({ first: 3, after: cursor })).rejects.toThrow(BadCursorError)
    }
    await expect(apps.list({ first: 3, after: 'garbage' })).rejects.toThrow(/invalid cursor "garbage" for applications/)
    await expect(apps.list({ first: -1 })).rejects.toThrow(RangeError)
    await expect(apps.list({ first: 1.5 })).rejects.toThrow(RangeError)
  })
})
