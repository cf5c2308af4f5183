import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, openTestStore } from '../test/support/databases.ts'
import { createStore, type Store } from '../schema/store/index.ts'
import { bootstrapAdminToken, CONFIGURED_ADMIN_NAME, GENERATED_ADMIN_NAME } from './bootstrap.ts'

describe.each(DIALECTS)('bootstrapAdminToken on %s', (dialect) => {
  let store: Store
  let dispose: () => Promise<void>

  beforeAll(async () => {
    const opened = await openTestStore(dialect)
    store = createStore(opened.db)
    dispose = opened.dispose
  })
  afterAll(async () => dispose?.())

  it('without SENTRA_ADMIN_TOKEN issues a fresh admin token (sentra_<id>_<secret>, scrypt at rest)', async () => {
    const { token, generated } = await bootstrapAdminToken(store, null)
    expect(generated).toBe(true)
    expect(token).toMatch(/^sentra_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/)
    expect(await store.tokens.verify(token)).toMatchObject({ name: GENERATED_ADMIN_NAME, scope: 'admin', applications: null, expiresAt: null })
  })

  it('a chosen SENTRA_ADMIN_TOKEN of any form is registered once and keeps working across starts', async () => {
    for (const chosen of ['my own admin token with spaces 0123456789', `sentra_${'Q'.repeat(43)}`]) {
      expect(await bootstrapAdminToken(store, chosen)).toEqual({ token: chosen, generated: false })
      expect(await bootstrapAdminToken(store, chosen)).toEqual({ token: chosen, generated: false })
      expect(await store.tokens.verify(chosen)).toMatchObject({ name: CONFIGURED_ADMIN_NAME, scope: 'admin' })
    }
    expect((await store.tokens.list()).filter((t) => t.name === CONFIGURED_ADMIN_NAME)).toHaveLength(2)
  })

  it('refuses a revoked chosen token, and one shaped like an issued token that is not valid', async () => {
    const chosen = 'to-be-revoked-admin-token-0123456789'
    await bootstrapAdminToken(store, chosen)
    await store.tokens.revoke((await store.tokens.verify(chosen))!.id)
    await expect(bootstrapAdminToken(store, chosen)).rejects.toThrow(/revoked/)
    await expect(bootstrapAdminToken(store, `sentra_${'0'.repeat(32)}_${'A'.repeat(43)}`)).rejects.toThrow(/form of a token Sentra issues/)
    // An issued token that is valid may be used as SENTRA_ADMIN_TOKEN.
    const { token } = await store.tokens.create('issued admin', 'admin')
    expect(await bootstrapAdminToken(store, token)).toEqual({ token, generated: false })
  })
})
