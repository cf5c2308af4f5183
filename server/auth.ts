import type { IncomingMessage } from 'node:http'
import type { Actor } from '../schema/graph/index.ts'
import type { Store } from '../schema/store/index.ts'
import { MAX_TOKEN_LENGTH } from '../schema/store/tokens.ts'

export const SESSION_COOKIE = 'sentra_session'

/** The token a request carries: `Authorization: Bearer …`, else the session cookie. */
export function requestToken(req: IncomingMessage): { token: string; via: 'header' | 'cookie' } | null {
  const header = req.headers.authorization
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    return match?.[1] ? { token: match[1], via: 'header' } : null
  }
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE)
  return cookie ? { token: cookie, via: 'cookie' } : null
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) {
      try {
        return decodeURIComponent(rest.join('='))
      } catch {
        return null
      }
    }
  }
  return null
}

/** The actor a token stands for, or null when it is unknown, revoked, expired or malformed. */
export async function authenticate(store: Store, token: string | null | undefined): Promise<Actor | null> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null
  const found = await store.tokens.verify(token)
  return found ? { tokenId: found.id, name: found.name, scope: found.scope, applications: found.applications === null ? null : new Set(found.applications) } : null
}

/**
 * Cookies ride along on cross-site requests, and WebSockets bypass CORS: a cookie is
 * only honoured on a WebSocket when the Origin is this server's own.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (!origin) return false
  try {
    return new URL(origin).host === req.headers.host
  } catch {
    return false
  }
}
