import type { Store } from '../schema/store/index.ts'
import { ConflictError, isUniqueViolation } from '../schema/store/errors.ts'
import { parseIssuedToken } from '../schema/store/token-hash.ts'

export const CONFIGURED_ADMIN_NAME = 'admin (SENTRA_ADMIN_TOKEN)'
export const GENERATED_ADMIN_NAME = 'admin (generated at start)'

/**
 * Makes sure an admin can sign in. With SENTRA_ADMIN_TOKEN, that token is registered
 * (hashed) once; without it, a fresh token is generated for this start and returned so
 * the caller can print a login URL carrying it, as Jupyter does.
 */
export async function bootstrapAdminToken(store: Store, configured: string | null): Promise<{ token: string; generated: boolean }> {
  if (configured === null) {
    const { token } = await store.tokens.create(GENERATED_ADMIN_NAME, 'admin')
    return { token, generated: true }
  }
  if (await store.tokens.verify(configured)) return { token: configured, generated: false }
  // A chosen token carries no id, so it is kept as its sha256 (schema/store/token-hash.ts
  // says why); one shaped like an issued token would be looked up by id and never found.
  if (parseIssuedToken(configured)) {
    throw new Error('SENTRA_ADMIN_TOKEN has the form of a token Sentra issues (sentra_<id>_<secret>) but is not a valid one (unknown, revoked or expired); set another value')
  }
  try {
    await store.tokens.create(CONFIGURED_ADMIN_NAME, 'admin', { token: configured })
  } catch (error) {
    // Another replica registered it at the same moment: fine. A revoked one stays revoked.
    if (!(error instanceof ConflictError) && !isUniqueViolation(error)) throw error
    if (!(await store.tokens.verify(configured))) throw new Error('SENTRA_ADMIN_TOKEN has been revoked; set a new one')
  }
  return { token: configured, generated: false }
}
