import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../../test/support/databases.ts'
import { queriesOf, uniqueName } from '../../test/support/store-fixtures.ts'
import type { Db } from './connect.ts'
import { ConflictError } from './errors.ts'
import { clearVerifiedCache, scryptRuns } from './token-hash.ts'
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

  it('create issues sentra_<id>_<secret> and stores only a salted scrypt hash of it', async () => {
    const before = Date.now()
    const { token, apiToken } = await tokens.create('ci', 'operate')
    expect(token).toMatch(/^sentra_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/)
    expect(token.slice(7, 39)).toBe(apiToken.id.replaceAll('-', ''))
    expect(apiToken).toMatchObject({ name: 'ci', scope: 'operate', lastUsedAt: null, revokedAt: null, expiresAt: null, applications: null })
    expect(apiToken.createdAt.getTime()).toBeGreaterThanOrEqual(before)
    const rows = await db.kysely.selectFrom('api_tokens').selectAll().execute()
    const dump = JSON.stringify(rows)
    expect(dump).not.toContain(token)
    expect(dump).not.toContain(token.slice(-43))
    expect(dump).not.toContain(hashToken(token))
    expect(rows.find((r) => r.id === apiToken.id)?.hash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/)
  })

  it('create stores a given token as its sha256; the same value twice is a ConflictError', async () => {
    const given = `given-${uniqueName()}`
    const { token, apiToken } = await tokens.create('admin', 'admin', { token: given })
    expect(token).toBe(given)
    expect((await tokens.verify(given))?.id).toBe(apiToken.id)
    await expect(tokens.create('other', 'read', { token: given })).rejects.toThrow(ConflictError)
    const rows = await db.kysely.selectFrom('api_tokens').selectAll().execute()
    expect(JSON.stringify(rows)).not.toContain(given)
    expect(rows.find((r) => r.id === apiToken.id)?.hash).toBe(createHash('sha256').update(given).digest('hex'))
    await expect(tokens.create('empty', 'read', { token: '' })).rejects.toThrow(TypeError)
    await expect(tokens.create('long', 'read', { token: 'x'.repeat(257) })).rejects.toThrow(TypeError)
    // One shaped like an issued token would be looked up by its id and never found.
    await expect(tokens.create('shaped', 'read', { token: `sentra_${'0'.repeat(32)}_${'A'.repeat(43)}` })).rejects.toThrow(TypeError)
  })

  it('tokens issued before 009 (sha256 of sentra_<secret>) keep working, and are found without scrypt', async () => {
    const old = `sentra_${'b'.repeat(43)}`
    const id = '11111111-2222-4333-8444-555555555555'
    await db.kysely.insertInto('api_tokens').values({ id, name: 'old', hash: hashToken(old), scope: 'read', created_at: Date.now(), last_used_at: null, revoked_at: null, expires_at: null, applications: null }).execute()
    const runs = scryptRuns()
    expect(await tokens.verify(old)).toMatchObject({ id, name: 'old', scope: 'read', applications: null, expiresAt: null })
    expect(scryptRuns()).toBe(runs)
    await tokens.revoke(id)
    expect(await tokens.verify(old)).toBeNull()
  })

  it('expiry, application limits: stored, returned, and an expired token is refused like a revoked one', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000)
    const { token, apiToken } = await tokens.create('limited', 'operate', { expiresAt, applications: ['web', 'api', 'web'] })
    expect(apiToken).toMatchObject({ expiresAt, applications: ['api', 'web'] })
    expect(await tokens.verify(token)).toMatchObject({ id: apiToken.id, applications: ['api', 'web'], expiresAt })
    expect((await tokens.list()).find((t) => t.id === apiToken.id)).toMatchObject({ applications: ['api', 'web'], expiresAt })
    await db.kysely.updateTable('api_tokens').set({ expires_at: Date.now() - 1 }).where('id', '=', apiToken.id).execute()
    expect(await tokens.verify(token)).toBeNull()
    // A row whose list cannot be read grants nothing rather than everything.
    const broken = await tokens.create('broken', 'read', { applications: ['x'] })
    await db.kysely.updateTable('api_tokens').set({ applications: '{not json' }).where('id', '=', broken.apiToken.id).execute()
    expect((await tokens.verify(broken.token))?.applications).toEqual([])
  })

  it('refuses malformed tokens, unknown ids, revoked and expired tokens before any scrypt; a wrong secret costs one', async () => {
    clearVerifiedCache()
    const { token, apiToken } = await tokens.create('probe', 'read')
    const expired = await tokens.create('probe-expired', 'read', { expiresAt: new Date(Date.now() + 60_000) })
    await db.kysely.updateTable('api_tokens').set({ expires_at: Date.now() - 1 }).where('id', '=', expired.apiToken.id).execute()
    const revoked = await tokens.create('probe-revoked', 'read')
    await tokens.revoke(revoked.apiToken.id)
    const runs = scryptRuns()
    for (const bad of ['x', 'sentra_', `sentra_${'f'.repeat(32)}_${'A'.repeat(43)}`, expired.token, revoked.token, 'y'.repeat(5000)]) {
      expect(await tokens.verify(bad), bad.slice(0, 60)).toBeNull()
    }
    expect(scryptRuns()).toBe(runs)
    const wrongSecret = `${token.slice(0, 40)}${'A'.repeat(43)}`
    expect(await tokens.verify(wrongSecret)).toBeNull()
    expect(scryptRuns()).toBe(runs + 1)
    // The right one: computed once, then remembered.
    expect((await tokens.verify(token))?.id).toBe(apiToken.id)
    expect((await tokens.verify(token))?.id).toBe(apiToken.id)
    expect(scryptRuns()).toBe(runs + 2)
    // Revocation takes effect at once, remembered or not: the row is read every time.
    expect(await tokens.isActive(apiToken.id)).toBe(true)
    await tokens.revoke(apiToken.id)
    expect(await tokens.verify(token)).toBeNull()
    expect(await tokens.isActive(apiToken.id)).toBe(false)
    expect(await tokens.isActive(expired.apiToken.id)).toBe(false)
    expect(await tokens.isActive('00000000-0000-4000-8000-000000000000')).toBe(false)
    expect(scryptRuns()).toBe(runs + 2)
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
