import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { GraphQLError, getOperationAST, type ExecutionArgs } from 'graphql'
import type { YogaServerInstance } from 'graphql-yoga'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import type { Actor } from '../schema/graph/index.ts'
import type { Store } from '../schema/store/index.ts'
import { authenticate, cookieValue, SESSION_COOKIE, sameOrigin } from './auth.ts'
import { resolveSubscribeDocument, type PersistedDocuments } from './persisted.ts'
import { rateLimitedError, type RateLimiter } from './rate-limit.ts'

export const WS_MAX_PAYLOAD = 1 << 20
/** Close code for a connection refused because its address ran out of sign-in attempts (SENTRA_RATE_LIMIT). */
export const WS_RATE_LIMITED = 4429

interface ServerContext {
  actor: Actor | null
}

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown
  subscribe: (args: ExecutionArgs) => unknown
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
  },
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload })
  const tokens = new WeakMap<object, string>()

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
        const actor = await authenticate(store, token)
        if (!actor || token === null) {
          rateLimiter?.take(address)
          return false
        }
        tokens.set(ctx.extra.socket, token)
        return true
      },
      onSubscribe: async (ctx, _id, payload) => {
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
          rootValue: { execute, subscribe } satisfies Enveloped,
        }
        return args
      },
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
    },
    wss,
  )

  return {
    close: async () => {
      for (const client of wss.clients) client.terminate()
      await disposable.dispose()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}
