/**
 * The dashboard's urql client: queries and mutations over HTTP on the same origin (the
 * session cookie authenticates them; `x-sentra-csrf` satisfies the API's CSRF check), and
 * subscriptions over graphql-ws on the same path, created only in the browser. The browser
 * sends the session cookie with the WebSocket handshake; the API accepts it only when the
 * Origin is its own.
 */
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws'
import { persistedExchange } from '@urql/exchange-persisted'
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql'
import { persistedHash } from './persisted.ts'

export type ConnectionState =
  /** Not connected yet (first connection in progress, or no subscription needed it). */
  | 'connecting'
  | 'connected'
  /** Was connected, lost it, and is retrying: what is on screen may be stale. */
  | 'reconnecting'
  /** The API refused the session (revoked or unknown token): retrying will not help. */
  | 'unauthorized'

export interface LiveClient {
  urql: Client
  ws: WsClient | null
}

/** graphql-ws closes with 4403 when the token is refused on connect. */
const FORBIDDEN = 4403
/** Our own close code for a connection that stopped answering pings (retried). */
const NO_PONG = 4408
const PING_EVERY_MS = 5000
const PONG_WITHIN_MS = 3000

function closeCode(event: unknown): number | null {
  return typeof event === 'object' && event !== null && 'code' in event && typeof event.code === 'number' ? event.code : null
}

export function createLiveClient({
  onState,
  onReconnected,
}: {
  onState: (state: ConnectionState) => void
  /** Called after a lost connection is back: refetch whatever is not re-sent by subscriptions. */
  onReconnected: () => void
}): LiveClient {
  const inBrowser = typeof window !== 'undefined'
  let ws: WsClient | null = null
  if (inBrowser) {
    const url = new URL('/graphql', window.location.href)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    let wasConnected = false
    let lost = false
    // A connection can die without closing (a laptop sleeps, a network drops): ping every
    // few seconds, and close the socket ourselves when no pong comes back in time, so the
    // banner shows and the client reconnects.
    let socket: { readyState: number; close(code: number, reason: string): void } | null = null
    let pongTimer: ReturnType<typeof setTimeout> | undefined
    ws = createWsClient({
      url: url.toString(),
      lazy: true,
      // Keep the socket while moving between pages.
      lazyCloseTimeout: 5000,
      keepAlive: PING_EVERY_MS,
      retryAttempts: Number.POSITIVE_INFINITY,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(5000, 300 * 2 ** retries) + Math.random() * 300)),
      shouldRetry: (event) => closeCode(event) !== FORBIDDEN,
      on: {
        ping: (received) => {
          if (received) return
          clearTimeout(pongTimer)
          pongTimer = setTimeout(() => {
            // Say so at once: a close handshake over a dead network can take many seconds more.
            lost = true
            onState('reconnecting')
            if (socket?.readyState === 1) socket.close(NO_PONG, 'no pong from the server')
          }, PONG_WITHIN_MS)
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer)
        },
        connected: (connected) => {
          socket = connected as typeof socket
          onState('connected')
          if (wasConnected && lost) onReconnected()
          wasConnected = true
          lost = false
        },
        closed: (event) => {
          clearTimeout(pongTimer)
          socket = null
          if (closeCode(event) === FORBIDDEN) return onState('unauthorized')
          // A lazy close after the last subscription ended is not a lost connection.
          if (closeCode(event) === 1000) return
          lost = true
          onState('reconnecting')
        },
      },
    })
  }

  const wsClient = ws
  // Every operation goes as the hash codegen computed (web/gql/persisted-documents.json), not
  // as text: the API may run only those (SENTRA_PERSISTED_ONLY). When a server does not know
  // a hash (built from other documents) and accepts documents, the exchange resends the text.
  const persisted = persistedExchange({
    generateHash: async (_text, document) => persistedHash(document),
    enableForMutation: true,
    enableForSubscriptions: true,
    // POST like every other request: variables stay out of URLs and access logs.
    preferGetForPersistedQueries: false,
  })
  const urql = new Client({
    url: '/graphql',
    // Every operation is paused during server rendering (see useOnServer); this client never fetches there.
    exchanges: wsClient
      ? [
          cacheExchange,
          persisted,
          subscriptionExchange({
            forwardSubscription: (request) => ({
              subscribe: (sink) => ({ unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? '' }, sink) }),
            }),
          }),
          fetchExchange,
        ]
      : [cacheExchange, persisted, fetchExchange],
    fetchOptions: { credentials: 'same-origin', headers: { 'x-sentra-csrf': '1' } },
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
  })
  return { urql, ws }
}

/** Whether an urql error means the session is not (or no longer) valid. */
export function isUnauthenticated(error: { response?: unknown; graphQLErrors?: readonly { extensions?: Record<string, unknown> }[] } | undefined): boolean {
  if (!error) return false
  const response = error.response as { status?: number } | undefined
  if (response?.status === 401) return true
  return (error.graphQLErrors ?? []).some((e) => e.extensions?.code === 'UNAUTHENTICATED')
}
