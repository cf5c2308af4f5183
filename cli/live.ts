import { createClient, type Client } from 'graphql-ws/client'
import WebSocket from 'ws'
import type { Connection } from './connection.ts'

/** How long `watch` keeps trying to get a lost connection back before it gives up. */
export const RECONNECT_FOR_MS = 5 * 60_000
/** A ping every this often; no pong within the same time ends the socket (a frozen connection) and reconnects. */
const KEEP_ALIVE_MS = 10_000
/** The close code graphql-ws servers use when they refuse the connection (a bad or revoked token). */
export const FORBIDDEN = 4403

export interface LiveEvents {
  /** A connection was (re-)established; `again` is true after a loss. */
  connected(again: boolean): void
  /** The connection was lost (said once per outage); the client retries on its own. */
  lost(code: number, reason: string): void
}

function closeCode(value: unknown): number | null {
  return value !== null && typeof value === 'object' && 'code' in value && typeof value.code === 'number' ? value.code : null
}

/**
 * A graphql-ws client for the connection's WebSocket endpoint, carrying the token in
 * connectionParams. It reconnects after any loss (with backoff up to 5 s between tries) for
 * up to {@link RECONNECT_FOR_MS}, except when the server refuses the token (4403), and
 * resubscribes by itself; a frozen socket is detected by ping/pong and replaced.
 */
export function createLiveClient(connection: Connection, events: LiveEvents): Client {
  let lostSince: number | null = null
  let pongTimer: NodeJS.Timeout | undefined
  let connectedOnce = false
  let outageReported = false
  const client: Client = createClient({
    url: connection.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { token: connection.token },
    lazy: true,
    keepAlive: KEEP_ALIVE_MS,
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: async (retries) => {
      const wait = Math.min(500 * 2 ** retries, 5000) + Math.floor(Math.random() * 500)
      await new Promise((resolve) => setTimeout(resolve, wait))
    },
    shouldRetry: (errOrClose) => {
      if (closeCode(errOrClose) === FORBIDDEN) return false
      lostSince ??= Date.now()
      return Date.now() - lostSince < RECONNECT_FOR_MS
    },
    on: {
      connected: () => {
        lostSince = null
        outageReported = false
        events.connected(connectedOnce)
        connectedOnce = true
      },
      closed: (event) => {
        clearTimeout(pongTimer)
        const code = closeCode(event)
        const reason = event !== null && typeof event === 'object' && 'reason' in event && typeof event.reason === 'string' ? event.reason : ''
        if (code === 1000 || code === FORBIDDEN || outageReported) return
        outageReported = true
        events.lost(code ?? 0, reason)
      },
      ping: (received) => {
        if (received) return
        clearTimeout(pongTimer)
        pongTimer = setTimeout(() => client.terminate(), KEEP_ALIVE_MS)
        pongTimer.unref()
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer)
      },
    },
  })
  return client
}

/** Why a subscription ended with an error, for people: a close event, GraphQL errors, or anything else. */
export function closeDescription(value: unknown): { code: number | null; text: string } {
  const code = closeCode(value)
  if (code !== null) {
    const reason = value !== null && typeof value === 'object' && 'reason' in value && typeof value.reason === 'string' ? value.reason : ''
    return { code, text: `closed with code ${code}${reason ? ` (${reason})` : ''}` }
  }
  if (value instanceof Error) return { code: null, text: value.message }
  return { code: null, text: String(value) }
}
