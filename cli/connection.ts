/** Where the API is and how to call it: the server's base URL and its GraphQL endpoints. */
export interface Connection {
  /** The server as the user named it, without `/graphql`: `http://127.0.0.1:4000`. */
  readonly url: string
  /** `http(s)://…/graphql`: queries and mutations. */
  readonly graphqlUrl: string
  /** `ws(s)://…/graphql`: subscriptions over graphql-ws. */
  readonly wsUrl: string
  readonly token: string
}

/**
 * A server URL as typed (`http://host:4000`, `https://sentra.example.com/`, or the
 * endpoint itself, `…/graphql`) turned into its base URL, or a message saying what is wrong.
 */
export function normalizeServerUrl(raw: string): { ok: true; url: string } | { ok: false; message: string } {
  let parsed: URL
  try {
    parsed = new URL(raw.trim())
  } catch {
    return { ok: false, message: `${JSON.stringify(raw)} is not a URL; expected e.g. http://127.0.0.1:4000` }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, message: `${JSON.stringify(raw)} must be an http:// or https:// URL` }
  }
  if (parsed.username || parsed.password) return { ok: false, message: 'the URL must not carry a user name or password; use --token' }
  if (parsed.search || parsed.hash) return { ok: false, message: `${JSON.stringify(raw)} must not have a query string or fragment` }
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/graphql$/, '')
  return { ok: true, url: `${parsed.origin}${path}` }
}

/** Builds the connection for a base URL made by {@link normalizeServerUrl}. */
export function connectionFor(url: string, token: string): Connection {
  const graphqlUrl = `${url}/graphql`
  return { url, graphqlUrl, wsUrl: graphqlUrl.replace(/^http/, 'ws'), token }
}

/** Why a token cannot be one, or null when it looks like a token (printable ASCII, no spaces). */
export function tokenProblem(token: string): string | null {
  if (token === '') return 'is empty'
  if (token.length > 256) return 'is longer than 256 characters'
  if (!/^[\x21-\x7e]+$/.test(token)) return 'may contain only printable ASCII characters without spaces'
  return null
}
