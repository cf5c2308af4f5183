/**
 * Why a call to Sentra failed, in words a person on the entity page can act on.
 * `kind` lets the card (and callers) tell "fix your token" from "Sentra is down".
 */
export type SentraErrorKind =
  | 'unauthenticated' // 401: no or bad token (or the proxy does not add one)
  | 'forbidden' // 403: the token lacks the `read` scope, or a proxy refused
  | 'http' // any other non-2xx status
  | 'graphql' // the server answered with GraphQL errors
  | 'timeout' // no answer in time
  | 'network' // nothing listening, DNS, TLS, connection reset
  | 'malformed' // an answer that is not the graph's shape
  | 'invalid-input' // a bad application name, refused before any request

export class SentraError extends Error {
  override readonly name = 'SentraError'
  readonly kind: SentraErrorKind
  /** HTTP status when there was one. */
  readonly status: number | null
  /** extensions.code of the first GraphQL error, e.g. UNAUTHENTICATED, BAD_USER_INPUT. */
  readonly code: string | null

  constructor(kind: SentraErrorKind, message: string, { status = null, code = null, cause }: { status?: number | null; code?: string | null; cause?: unknown } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.kind = kind
    this.status = status
    this.code = code
  }
}
