import type { ApiErrorEntry } from './errors.ts'

/**
 * The CLI sends each operation as the sha256 codegen computed for it (cli/gql/
 * persisted-documents.json), not as text, so it works against a server that runs persisted
 * operations only (SENTRA_PERSISTED_ONLY). A server built from other documents answers
 * PERSISTED_QUERY_NOT_FOUND; the CLI then sends the text once, which a server that accepts
 * documents runs.
 */

interface GeneratedDocument {
  toString(): string
  __meta__?: Record<string, unknown> | undefined
}

// A type alias, not an interface: it must fit `Record<string, unknown>` (graphql-ws's extensions).
export type PersistedExtensions = {
  persistedQuery: { version: 1; sha256Hash: string }
}

/** The document's hash as `extensions`, or null for a document codegen did not hash. */
export function persistedExtensions(document: GeneratedDocument): PersistedExtensions | null {
  const hash = document.__meta__?.hash
  if (typeof hash !== 'string') return null
  const hex = hash.startsWith('sha256:') ? hash.slice('sha256:'.length) : hash
  return /^[0-9a-f]{64}$/.test(hex) ? { persistedQuery: { version: 1, sha256Hash: hex } } : null
}

/**
 * What to send for an operation: the hash alone, or (`asText`, or no hash) the document.
 * `query` is '' with a hash because graphql-ws requires a string there; the HTTP body leaves it out.
 */
export function operationPayload<TVariables>(
  document: GeneratedDocument,
  variables: TVariables,
  { asText = false }: { asText?: boolean } = {},
): { query: string; variables: TVariables; extensions?: PersistedExtensions } {
  const extensions = asText ? null : persistedExtensions(document)
  return extensions ? { query: '', variables, extensions } : { query: document.toString(), variables }
}

/** Whether the server did not know the hash (so sending the text may work). */
export function isPersistedMiss(errors: readonly ApiErrorEntry[]): boolean {
  return errors.some((e) => e.code === 'PERSISTED_QUERY_NOT_FOUND' || e.code === 'PERSISTED_QUERY_NOT_IN_LIST' || e.message === 'PersistedQueryNotFound')
}
