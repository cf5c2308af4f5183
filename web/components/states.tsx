import type { ReactNode } from 'react'
import type { CombinedError } from 'urql'
import { isUnauthenticated } from '../lib/client.ts'

/** A placeholder while the first answer is on its way (also what the server renders). */
export function Loading({ what }: { what: string }) {
  return (
    <div className="card loading" aria-busy="true" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span className="muted">Loading {what}…</span>
      <div className="skeleton" aria-hidden="true">
        <span />
        <span />
        <span />
      </div>
    </div>
  )
}

/** A failed load: why, and a way out (retry, or sign in again when the session is refused). */
export function LoadError({ error, retry }: { error: CombinedError; retry: () => void }) {
  if (isUnauthenticated(error)) {
    return (
      <div className="card error-state" role="alert">
        <h2>Signed out</h2>
        <p>The API did not accept this session: the token may have been revoked.</p>
        <a className="button button-primary" href="/login">
          Sign in
        </a>
      </div>
    )
  }
  const message = error.graphQLErrors.length > 0 ? error.graphQLErrors.map((e) => e.message).join('; ') : error.networkError ? 'The API could not be reached.' : error.message
  return (
    <div className="card error-state" role="alert">
      <h2>Could not load this page</h2>
      <p>{message}</p>
      <button type="button" className="button" onClick={retry}>
        Try again
      </button>
    </div>
  )
}

export function NotFound({ what, children }: { what: string; children?: ReactNode }) {
  return (
    <div className="card empty-state" role="status">
      <h2>{what} not found</h2>
      {children}
    </div>
  )
}
