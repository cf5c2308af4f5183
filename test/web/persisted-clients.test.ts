import { describe, expect, it } from 'vitest'
import * as cliDocuments from '../../cli/gql/graphql.ts'
import { isPersistedMiss, operationPayload, persistedExtensions } from '../../cli/persisted.ts'
import { loadPersistedDocuments } from '../../server/persisted.ts'
import * as webDocuments from '../../web/gql/graphql.ts'
import { persistedHash } from '../../web/lib/persisted.ts'

/** What the clients send is what the server can resolve: every generated operation's hash is in the committed manifests. */
describe('persisted hashes the clients send', () => {
  const manifests = loadPersistedDocuments()
  const operations = (module: Record<string, unknown>) => Object.entries(module).filter(([name]) => name.endsWith('Document'))

  it('the dashboard: every operation document has a hash the server knows', () => {
    const documents = operations(webDocuments)
    expect(documents.length).toBeGreaterThan(5)
    for (const [name, document] of documents) {
      const hash = persistedHash(document)
      expect(hash, name).toMatch(/^[0-9a-f]{64}$/)
      expect(manifests.get(hash!), name).toBeDefined()
    }
  })

  it('the CLI: every operation goes as its hash, with the text only when asked', () => {
    const documents = operations(cliDocuments)
    expect(documents.length).toBeGreaterThan(5)
    for (const [name, document] of documents) {
      const payload = operationPayload(document as never, { id: 'x' })
      expect(payload.query, name).toBe('')
      expect(manifests.get(payload.extensions!.persistedQuery.sha256Hash), name).toBeDefined()
      const asText = operationPayload(document as never, { id: 'x' }, { asText: true })
      expect(asText.extensions).toBeUndefined()
      expect(asText.query).toBe(String(document))
    }
  })

  it('a document without a usable hash goes as text', () => {
    expect(persistedHash({ kind: 'Document', definitions: [] })).toBeNull()
    expect(persistedHash({ __meta__: { hash: 'md5:abc' } })).toBeNull()
    expect(persistedHash(null)).toBeNull()
    expect(persistedExtensions({ toString: () => '{ viewer { name } }' })).toBeNull()
    expect(operationPayload({ toString: () => '{ viewer { name } }', __meta__: { hash: 'sha256:NOT-HEX' } }, {})).toEqual({ query: '{ viewer { name } }', variables: {} })
  })

  it('recognises the server saying it does not know a hash', () => {
    expect(isPersistedMiss([{ message: 'PersistedQueryNotFound', code: 'PERSISTED_QUERY_NOT_FOUND', issues: [] }])).toBe(true)
    expect(isPersistedMiss([{ message: 'PersistedQueryNotFound', code: null, issues: [] }])).toBe(true)
    expect(isPersistedMiss([{ message: 'nope', code: 'PERSISTED_QUERY_ONLY', issues: [] }])).toBe(false)
    expect(isPersistedMiss([])).toBe(false)
  })
})
