/**
 * The persisted-document hash codegen embedded in a generated document (`__meta__.hash`,
 * "sha256:<hex>"), as the hex that `extensions.persistedQuery.sha256Hash` carries. Null for
 * a document codegen did not generate (then it is sent as text).
 */
export function persistedHash(document: unknown): string | null {
  if (document === null || typeof document !== 'object') return null
  const meta = (document as { __meta__?: unknown }).__meta__
  if (meta === null || typeof meta !== 'object') return null
  const hash = (meta as { hash?: unknown }).hash
  if (typeof hash !== 'string') return null
  const hex = hash.startsWith('sha256:') ? hash.slice('sha256:'.length) : hash
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null
}
