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

export const WS_MAX_PAYLOAD = 1 << 20

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
  }: {
    yoga: YogaServerInstance<ServerContext, object>
    store: Store
    path?: string
    /** Upgrades of other paths (the dashboard's development hot reload); refused with 404 when absent. */
    otherUpgrades?: (request: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>
    /** Persisted documents (server/persisted.ts); `only` refuses any other document here too. */
    persisted: { documents: PersistedDocuments; only: boolean }
  },
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD })
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
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })

  const disposable = useServer<Record<string, unknown>>(
    {
      onConnect: async (ctx) => {
        const token = connectionToken(ctx.connectionParams, ctx.extra.request)
        const actor = await authenticate(store, token)
        if (!actor || token === null) return false
        tokens.set(ctx.extra.socket, token)
        return true
      },
      onSubscribe: async (ctx, _id, payload) => {
        // Checked again per operation: a token revoked after connecting stops working.
        const actor = await authenticate(store, tokens.get(ctx.extra.socket))
        if (!actor) return [new GraphQLError('the token is no longer valid', { extensions: { code: 'UNAUTHENTICATED' } })]
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
        const errors = validate(schema, document)
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
