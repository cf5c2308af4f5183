import type { Metadata } from 'next'

export const metadata: Metadata = { title: 'Sign in' }

const MESSAGES: Record<string, { text: string; bad: boolean }> = {
  invalid: { text: 'That token is not valid: it is unknown, revoked or mistyped.', bad: true },
  origin: { text: 'The sign-in form must be sent from this site.', bad: true },
  'signed-out': { text: 'You are signed out.', bad: false },
}

/**
 * Sign in with an API token. The form posts to the API's own /login, which checks the
 * token and sets the httpOnly session cookie; the URL printed at start (`/login?token=…`)
 * does the same in one click.
 */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams
  const key = typeof params.error === 'string' ? params.error : typeof params.status === 'string' ? params.status : ''
  const message = MESSAGES[key]
  return (
    <main className="login" id="main">
      <form className="card login-card" method="post" action="/login">
        <h1>
          <svg width="22" height="22" viewBox="0 0 20 20" aria-hidden="true">
            <path d="M2 16 L8 9 L12 12 L18 4" fill="none" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" strokeLinejoin="round" />
          </svg>{' '}
          Sign in to Sentra
        </h1>
        {message ? (
          <p className={`notice${message.bad ? ' notice-bad' : ''}`} role={message.bad ? 'alert' : 'status'} data-testid="login-message">
            {message.text}
          </p>
        ) : null}
        <label className="field">
          <span>API token</span>
          <input name="token" type="password" autoComplete="off" spellCheck={false} required maxLength={256} autoFocus placeholder="sentra_…" />
        </label>
        <button type="submit" className="button button-primary">
          Sign in
        </button>
        <p className="muted small">
          Use the login URL Sentra printed at start, or any API token. Read-only tokens see everything but cannot command rollouts. The token is kept in an
          httpOnly cookie for this site only.
        </p>
      </form>
    </main>
  )
}
