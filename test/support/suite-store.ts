import { afterAll, beforeAll } from 'vitest'
import type { DialectName } from '../../schema/store/connect.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { openTestStore } from './databases.ts'

/**
 * A migrated store on a fresh database for the enclosing `describe`: opened before its tests,
 * closed and its database dropped after them. Returns the store's getter (the store exists
 * only once `beforeAll` ran). Kept apart from databases.ts, which child processes import
 * outside vitest.
 */
export function suiteStore(dialect: DialectName): () => Store {
  let store: Store | null = null
  let dispose: (() => Promise<void>) | null = null
  beforeAll(async () => {
    const opened = await openTestStore(dialect)
    store = createStore(opened.db)
    dispose = opened.dispose
  })
  afterAll(async () => {
    await dispose?.()
  })
  return () => {
    if (store === null) throw new Error('the suite store is opened in beforeAll: use it inside a test or hook')
    return store
  }
}
