import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations'
import { GraphQLError } from 'graphql'
import type { Plugin } from 'graphql-yoga'

/**
 * Persisted operations: the dashboard and the CLI send the sha256 of a document that
 * codegen wrote into a committed manifest (`web/gql/persisted-documents.json`,
 * `cli/gql/persisted-documents.json`) instead of its text, and the server resolves it from
 * those manifests. With `persistedOnly` the server runs nothing else, so the API can only
 * be asked what Sentra's own clients ask; without it any document still works (scripts,
 * Grafana) and hashes work too.
 */

/** The manifests codegen writes (see codegen.ts), read from this checkout. */
export const PERSISTED_MANIFESTS: readonly string[] = [
  fileURLToPath(new URL('../web/gql/persisted-documents.json', import.meta.url)),
  fileURLToPath(new URL('../cli/gql/persisted-documents.json', import.meta.url)),
]

const HEX_HASH = /^[0-9a-f]{64}$/
/** codegen's keys: the GraphQL-over-HTTP "sha256:<hex>" document identifier. */
const MANIFEST_KEY = /^sha256:([0-9a-f]{64})$/

export class PersistedManifestError extends Error {}

/** Documents by the lowercase hex sha256 of their text. */
export interface PersistedDocuments {
  get(hash: string): string | undefined
  readonly size: number
}

/** Parses one manifest's text; every key must be the sha256 of its document (a hand-edited or corrupt manifest is refused). */
export function parseManifest(text: string, source: string): Map<string, string> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new PersistedManifestError(`${source}: not JSON (${(error as Error).message}); run \`npm run codegen\``)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new PersistedManifestError(`${source}: must be an object of "sha256:<hex>" → document`)
  const documents = new Map<string, string>()
  for (const [key, document] of Object.entries(raw)) {
    const hex = MANIFEST_KEY.exec(key)?.[1]
    if (!hex) throw new PersistedManifestError(`${source}: key ${JSON.stringify(key.slice(0, 80))} is not "sha256:<64 hex digits>"`)
    if (typeof document !== 'string') throw new PersistedManifestError(`${source}: ${key} is not a document string`)
    if (sha256Hex(document) !== hex) throw new PersistedManifestError(`${source}: ${key} is not the sha256 of its document; run \`npm run codegen\``)
    documents.set(hex, document)
  }
  return documents
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The committed manifests (or others), merged; read once at start-up. */
export function loadPersistedDocuments(paths: readonly string[] = PERSISTED_MANIFESTS): PersistedDocuments {
  const all = new Map<string, string>()
  for (const path of paths) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new PersistedManifestError(`persisted documents manifest ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run \`npm run codegen\``)
    }
    for (const [hash, document] of parseManifest(text, path)) all.set(hash, document)
  }
  return { get: (hash) => all.get(hash), size: all.size }
}

/**
 * The hash a request names: `extensions.persistedQuery.sha256Hash` (Apollo's and urql's
 * shape, version 1), as plain hex or codegen's "sha256:<hex>". Null when the request names
 * none; a named but malformed hash is returned as is and simply not found.
 */
export function persistedHash(extensions: unknown): string | null {
  if (extensions === null || typeof extensions !== 'object') return null
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery
  if (persisted === null || typeof persisted !== 'object') return null
  const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown }
  if (version !== 1 || typeof sha256Hash !== 'string') return null
  return sha256Hash.startsWith('sha256:') ? sha256Hash.slice('sha256:'.length) : sha256Hash
}

/** Looks a hash up; malformed hashes (wrong length, upper case, hostile text) are simply unknown. */
function lookUp(documents: PersistedDocuments, hash: string): string | undefined {
  return HEX_HASH.test(hash) ? documents.get(hash) : undefined
}

// The messages urql's persistedExchange and Apollo clients recognise come first; the code and the hint say it for people.
export const NOT_FOUND = {
  message: 'PersistedQueryNotFound',
  extensions: {
    code: 'PERSISTED_QUERY_NOT_FOUND',
    hint: 'no persisted document has this sha256Hash: the client was built from other documents than this server; run `npm run codegen` and deploy both from one commit',
  },
}
export const ONLY_PERSISTED = {
  message: 'This server runs persisted operations only (SENTRA_PERSISTED_ONLY): send extensions.persistedQuery { version: 1, sha256Hash } of a document in its manifests, not a document',
  extensions: { code: 'PERSISTED_QUERY_ONLY' },
}
export const NO_DOCUMENT = {
  message: 'No document: send `query`, or extensions.persistedQuery { version: 1, sha256Hash }',
  extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED' },
}

/** The yoga plugin for HTTP: resolves hashes from the manifests; refuses documents when `only`. */
export function usePersistedDocuments(documents: PersistedDocuments, { only }: { only: boolean }): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (hash) => lookUp(documents, hash) ?? null,
    allowArbitraryOperations: !only,
    extractPersistedOperationId: (params) => persistedHash(params.extensions),
    customErrors: { notFound: NOT_FOUND, persistedQueryOnly: ONLY_PERSISTED, keyNotFound: NO_DOCUMENT },
  })
}

/**
 * The same rules for a graphql-ws subscribe payload (yoga's plugins do not run on the
 * WebSocket path, STACK.md trap 2): the document to run, or the error to answer with.
 * graphql-ws requires `query` to be a string, so a persisted operation comes with `query: ''`.
 */
export function resolveSubscribeDocument(
  payload: { query?: unknown; extensions?: unknown },
  documents: PersistedDocuments,
  { only }: { only: boolean },
): { query: string } | { error: GraphQLError } {
  const text = typeof payload.query === 'string' ? payload.query : ''
  if (text.trim() !== '') {
    if (only) return { error: new GraphQLError(ONLY_PERSISTED.message, { extensions: ONLY_PERSISTED.extensions }) }
    return { query: text }
  }
  const hash = persistedHash(payload.extensions)
  if (hash === null) return { error: new GraphQLError(NO_DOCUMENT.message, { extensions: NO_DOCUMENT.extensions }) }
  const found = lookUp(documents, hash)
  if (found === undefined) return { error: new GraphQLError(NOT_FOUND.message, { extensions: NOT_FOUND.extensions }) }
  return { query: found }
}
