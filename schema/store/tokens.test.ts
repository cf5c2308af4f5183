import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { queriesOf, uniqueName } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { ConflictError } from './errors.ts'
import { LAST_USED_RESOLUTION_MS, TokenRepository, hashToken } from './tokens.ts'

describe('hashToken', () => {
  it('is sha256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})

describe.each(DIALECTS)('TokenRepository on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>
  let db: Db
  let tokens: TokenRepository

  beforeAll(async () => {
    store = await openTestStore(dialect)
    db = store.db
    tokens = new TokenRepository(db)
  })
  afterAll(async () => store?.dispose())

  it('create generates a sentra_ token and stores only its sha256', async () => {
    const before = Date.now()
    const { token, apiToken } = await tokens.create('ci', 'operate')
    expect(token).toMatch(/^sentra_[A-Za-z0-9_-]{43}$/)
    expect(apiToken).toMatchObject({ name: 'ci', scope: 'operate', lastUsedAt: null, revokedAt: null })
    expect(apiToken.createdAt.getTime()).toBeGreaterThanOrEqual(before)
    const rows = await db.kysely.selectFrom('api_tokens').selectAll().execute()
    const dump = JSON.stringify(rows)
    expect(dump).not.toContain(token)
    expect(dump).not.toContain(token.slice('sentra_'.length))
    expect(rows.find((r) => r.id === apiToken.id)?.hash).toBe(createHash('sha256').update(token).digest('hex'))
  })

  it('create stores a given token; the same value twice is a ConflictError', async () => {
    const given = `given-${uniqueName()}`
    const { token, apiToken } = await tokens.create('admin', 'admin', given)
    expect(token).toBe(given)
    expect((await tokens.verify(given))?.id).toBe(apiToken.id)
    await expect(tokens.create('other', 'read', given)).rejects.toThrow(ConflictError)
    expect(JSON.stringify(await db.kysely.selectFrom('api_tokens').selectAll().execute())).not.toContain(given)
    await expect(tokens.create('empty', 'read', '')).rejects.toThrow(TypeError)
  })

  it('verify returns the token, records use at most once a minute', async () => {
    const { token, apiToken } = await tokens.create('verify', 'read')
    const first = await queriesOf(db, () => tokens.verify(token))
    expect(first.result).toMatchObject({ id: apiToken.id, name: 'verify', scope: 'read', revokedAt: null })
    expect(first.result?.lastUsedAt).toBeInstanceOf(Date)
    expect(first.queries).toBe(2)
    const second = await queriesOf(db, () => tokens.verify(token))
    expect(second.queries).toBe(1)
    expect(second.result?.lastUsedAt?.getTime()).toBe(first.result?.lastUsedAt?.getTime())
    // A minute later it is written again.
    const longAgo = Date.now() - LAST_USED_RESOLUTION_MS - 1000
    await db.kysely.updateTable('api_tokens').set({ last_used_at: longAgo }).where('id', '=', apiToken.id).execute()
    const third = await queriesOf(db, () => tokens.verify(token))
    expect(third.queries).toBe(2)
    expect(third.result?.lastUsedAt?.getTime()).toBeGreaterThan(longAgo)
    const row = await db.kysely.selectFrom('api_tokens').select('last_used_at').where('id', '=', apiToken.id).executeTakeFirstOrThrow()
    expect(Number(row.last_used_at)).toBe(third.result?.lastUsedAt?.getTime())
  })

  it('verify of an unknown, empty or revoked token is null', async () => {
    expect(await tokens.verify('sentra_unknown')).toBeNull()
    expect(await tokens.verify('')).toBeNull()
    const { token, apiToken } = await tokens.create('revoke-me', 'operate')
    expect(await tokens.verify(token)).not.toBeNull()
    expect(await tokens.revoke(apiToken.id)).toBe(true)
    expect(await tokens.verify(token)).toBeNull()
    expect(await tokens.revoke(apiToken.id)).toBe(false)
    expect(await tokens.revoke('missing')).toBe(false)
  })

  it('list returns every token with revocations; byName prefers the newest unrevoked', async () => {
    const name = uniqueName('tok')
    const old = await tokens.create(name, 'read')
    await new Promise((r) => setTimeout(r, 3))
    const newer = await tokens.create(name, 'admin')
    expect((await tokens.byName(name))?.id).toBe(newer.apiToken.id)
    await tokens.revoke(newer.apiToken.id)
    expect((await tokens.byName(name))?.id).toBe(old.apiToken.id)
    await tokens.revoke(old.apiToken.id)
    const fallback = await tokens.byName(name)
    expect(fallback?.id).toBe(newer.apiToken.id)
    expect(fallback?.revokedAt).toBeInstanceOf(Date)
    expect(await tokens.byName('no-such-token')).toBeNull()
    const list = await tokens.list()
    expect(list.filter((t) => t.name === name).map((t) => [t.id, t.scope, t.revokedAt !== null])).toEqual([
      [old.apiToken.id, 'read', true],
      [newer.apiToken.id, 'admin', true],
    ])
    expect(list.map((t) => t.name)).toEqual([...list.map((t) => t.name)].sort())
    expect(JSON.stringify(list)).not.toMatch(/hash|sentra_/)
  })
})
