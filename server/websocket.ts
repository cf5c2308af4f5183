import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionArgs } from 'graphql'
import type { YogaServerInstance } from 'graphql-yoga'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocket, WebSocketServer } from 'ws'
import type { Actor } from '../schema/graph/index.ts'
import type { Store } from '../schema/store/index.ts'
import { isStoreUnavailable, STORE_UNAVAILABLE_MESSAGE } from './health.ts'
import { authenticate, cookieValue, SESSION_COOKIE, sameOrigin } from './auth.ts'
import { ConnectionCap, DEFAULT_WS_MAX_CONNECTIONS_PER_TOKEN, WS_TOO_MANY_CONNECTIONS } from './fanout/connections.ts'
import { FanoutHub, type FanoutStats } from './fanout/hub.ts'
import { fanoutKey } from './fanout/key.ts'
import { sharedContext } from './fanout/shared-context.ts'
import { resolveSubscribeDocument, type PersistedDocuments } from './persisted.ts'
import { rateLimitedError, type RateLimiter } from './rate-limit.ts'

export const WS_MAX_PAYLOAD = 1 << 20
/** Close code (RFC 6455 "Try Again Later") for a connection that cannot be checked while the database is down. */
export const WS_TRY_AGAIN_LATER = 1013
/** Close code for a connection refused because its address ran out of sign-in attempts (SENTRA_RATE_LIMIT). */
export const WS_RATE_LIMITED = 4429

interface ServerContext {
  actor: Actor | null
}

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown
  subscribe: (args: ExecutionArgs) => unknown
  /** Who this operation is for, and which shared execution it may join (server/fanout/). */
  fanout: { key: string; id: string; socket: WebSocket; tokenId: string }
}

/** The token a graphql-ws connection carries: connectionParams.token, else a same-origin session cookie. */
function connectionToken(params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): string | null {
  const token = params?.token
  if (typeof token === 'string') return token
  return sameOrigin(request) ? cookieValue(request.headers.cookie, SESSION_COOKIE) : null
}

/**
 * graphql-ws on the same HTTP server and path as yoga. Yoga's plugins do not run on this
 * path by themselves, so each subscribe goes through yoga's enveloped parse, validate and
 * context; a bad document is answered with errors and never closes the socket.
 *
 * Subscriptions then go through the fan-out (server/fanout/): those with the same document,
 * variables and authorization share one execution per event and the same serialized bytes;
 * each subscriber's token is still checked before each delivery. Connections are capped per
 * token (SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN, closed with 4430).
 */
export function attachGraphqlWs(
  http: HttpServer,
  {
    yoga,
    store,
    path = '/graphql',
    otherUpgrades,
    persisted,
    maxPayload = WS_MAX_PAYLOAD,
    rateLimiter = null,
    maxConnectionsPerToken = DEFAULT_WS_MAX_CONNECTIONS_PER_TOKEN,
    fanout = true,
    onSharedSubscriber,
  }: {
    yoga: YogaServerInstance<ServerContext, object>
    store: Store
    path?: string
    /** Upgrades of other paths (the dashboard's development hot reload); refused with 404 when absent. */
    otherUpgrades?: (request: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>
    /** Persisted documents (server/persisted.ts); `only` refuses any other document here too. */
    persisted: { documents: PersistedDocuments; only: boolean }
    /** The largest message accepted; a bigger one closes the socket with 1009 (ws's own check). */
    maxPayload?: number
    /** The HTTP path's limiter: each subscribe message takes one operation from the token's bucket. */
    rateLimiter?: RateLimiter | null
    /** SENTRA_WS_MAX_CONNECTIONS_PER_TOKEN: open sockets per token on this process; 0 = no cap. */
    maxConnectionsPerToken?: number
    /**
     * Subscribers of the same operation under the same authorization share one execution per
     * event (server/fanout/); false runs each on its own (SENTRA_WS_FANOUT=0, the benchmark's baseline).
     */
    fanout?: boolean
    /** Called for each subscriber that joins a shared execution (the metrics count subscribers, not executions). */
    onSharedSubscriber?: (document: DocumentNode, operationName: string | null | undefined) => void
  },
): { close(): Promise<void>; readonly fanoutStats: FanoutStats } {
  const wss = new WebSocketServer({ noServer: true, maxPayload })
  const tokens = new WeakMap<object, string>()
  const connections = new ConnectionCap(maxConnectionsPerToken)
  const hub = new FanoutHub({ isActive: (tokenId) => store.tokens.isActive(tokenId) })

  http.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (url.pathname !== path) {
      if (otherUpgrades) {
        otherUpgrades(request, socket, head).catch(() => socket.destroy())
        return
      }
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      // A message over maxPayload is the client's fault: ws closes the socket with 1009
      // itself, and graphql-ws would log its error as an internal one (one log line per
      // oversized message a stranger sends). Swallow just that error.
      const emit = ws.emit.bind(ws)
      ws.emit = ((event: string | symbol, ...args: unknown[]) =>
        event === 'error' && (args[0] as { code?: unknown } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? true : emit(event, ...args)) as typeof ws.emit
      wss.emit('connection', ws, request)
    })
  })

  const disposable = useServer<Record<string, unknown>>(
    {
      onConnect: async (ctx) => {
        // As on HTTP: failed sign-ins charge the address's bucket, and an address that has
        // run out is held off (4429, which clients retry later) before the next token check.
        const address = `ip:${ctx.extra.request.socket.remoteAddress ?? 'unknown'}`
        const held = rateLimiter?.peek(address)
        if (held && !held.allowed) {
          ctx.extra.socket.close(WS_RATE_LIMITED, `rate limited: retry in ${held.retryAfterSeconds} s`)
          return false
        }
        const token = connectionToken(ctx.connectionParams, ctx.extra.request)
        let actor: Awaited<ReturnType<typeof authenticate>>
        try {
          actor = await authenticate(store, token)
        } catch (error) {
          // The database is down: not the client's fault and not an internal error (4500 with
          // the driver's message). 1013 "try again later", as /graphql answers 503.
          if (!isStoreUnavailable(error)) throw error
          ctx.extra.socket.close(WS_TRY_AGAIN_LATER, STORE_UNAVAILABLE_MESSAGE)
          return false
        }
        if (!actor || token === null) {
          rateLimiter?.take(address)
          return false
        }
        // Counted after the token check, so strangers cannot use up a real token's slots.
        const release = connections.acquire(actor.tokenId)
        if (!release) {
          ctx.extra.socket.close(WS_TOO_MANY_CONNECTIONS, `too many connections for this token (at most ${connections.max} per server)`)
          return false
        }
        if (ctx.extra.socket.readyState !== WebSocket.OPEN) {
          // Closed while the token was being checked: its close event has already fired.
          release()
          return false
        }
        ctx.extra.socket.once('close', release)
        tokens.set(ctx.extra.socket, token)
        return true
      },
      onSubscribe: async (ctx, id, payload) => {
        // Checked again per operation: a token revoked after connecting stops working.
        const actor = await authenticate(store, tokens.get(ctx.extra.socket))
        if (!actor) return [new GraphQLError('the token is no longer valid', { extensions: { code: 'UNAUTHENTICATED' } })]
        const limited = rateLimiter?.take(`token:${actor.tokenId}`)
        if (limited && !limited.allowed) return [rateLimitedError(limited.retryAfterSeconds)]
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          actor,
        })
        // The HTTP path's persisted-operations plugin does not run here: the same rules, applied by hand.
        const resolved = resolveSubscribeDocument(payload, persisted.documents, { only: persisted.only })
        if ('error' in resolved) return [resolved.error]
        let document
        try {
          document = parse(resolved.query)
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('could not parse the document')]
        }
        let errors: readonly GraphQLError[]
        try {
          errors = validate(schema, document)
        } catch (error) {
          // graphql-js's subscription rule evaluates @include/@skip on root fields while
          // validating and throws on an unusable `if`: an error for this operation, not a
          // reason to close the socket and every other operation on it.
          return [error instanceof GraphQLError ? error : new GraphQLError('could not validate the document', { extensions: { code: 'BAD_USER_INPUT' } })]
        }
        if (errors.length > 0) return errors
        if (!getOperationAST(document, payload.operationName)) {
          return [new GraphQLError('no operation with that name in the document', { extensions: { code: 'BAD_USER_INPUT' } })]
        }
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: {
            execute,
            subscribe,
            fanout: { key: fanoutKey({ query: resolved.query, operationName: payload.operationName, variables: payload.variables, actor }), id, socket: ctx.extra.socket, tokenId: actor.tokenId },
          } satisfies Enveloped,
        }
        return args
      },
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => {
        const root = args.rootValue as Enveloped
        if (!fanout) return root.subscribe(args) as never
        const { key, ...subscriber } = root.fanout
        onSharedSubscriber?.(args.document, args.operationName)
        return hub.join(key, subscriber, (signal) => root.subscribe({ ...args, contextValue: sharedContext(args.contextValue as object, signal) }) as never) as never
      },
    },
    wss,
  )

  return {
    get fanoutStats() {
      return hub.stats
    },
    close: async () => {
      for (const client of wss.clients) client.terminate()
      await disposable.dispose()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}
