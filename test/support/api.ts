import { randomBytes } from 'node:crypto'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import type { DialectName } from '../../schema/store/connect.ts'
import type { Registry } from 'prom-client'
import { createApiServer, type ApiServer } from '../../server/app.ts'
import { openTestStore, TEST_REDIS_URL } from './databases.ts'

export interface GraphResult<T = Record<string, unknown>> {
  status: number
  contentType: string | null
  data?: T | null
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[]
}

export interface TestApi {
  url: string
  graphqlUrl: string
  wsUrl: string
  store: Store
  bus: Bus
  server: ApiServer
  tokens: { admin: string; operate: string; read: string }
  /** POSTs a GraphQL operation with a token (admin by default; null sends none). */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphResult<T>>
  close(): Promise<void>
}

/**
 * A real API server on a loopback port over a fresh database of the dialect, with a
 * token of every scope. `bus: 'redis'` uses the Redis on this machine under a prefix of
 * the test's own.
 */
export async function startTestApi(
  dialect: DialectName,
  {
    bus: busKind = 'memory',
    prefix = `sentra-test-${randomBytes(4).toString('hex')}:`,
    production = false,
    extraRegistries = [],
    traceUrlTemplate = null,
  }: { bus?: 'memory' | 'redis'; prefix?: string; production?: boolean; extraRegistries?: readonly Registry[]; traceUrlTemplate?: string | null } = {},
): Promise<TestApi & { prefix: string; databaseUrl: string }> {
  const database = await openTestStore(dialect)
  const store = createStore(database.db)
  const bus = createBus(busKind === 'redis' ? TEST_REDIS_URL : undefined, { prefix })
  const server = createApiServer({ store, bus, production, extraRegistries, traceUrlTemplate })
  const { url } = await server.listen(0, '127.0.0.1')
  const tokens = {
    admin: (await store.tokens.create('test admin', 'admin')).token,
    operate: (await store.tokens.create('test operator', 'operate')).token,
    read: (await store.tokens.create('test reader', 'read')).token,
  }
  const graphqlUrl = `${url}/graphql`
  return {
    url,
    graphqlUrl,
    wsUrl: graphqlUrl.replace(/^http/, 'ws'),
    store,
    bus,
    server,
    tokens,
    prefix,
    databaseUrl: database.url,
    gql: async (query, variables, token = tokens.admin) => {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      })
      const text = await response.text()
      let body: { data?: unknown; errors?: GraphResult['errors'] } = {}
      try {
        body = JSON.parse(text) as typeof body
      } catch {
        body = { errors: [{ message: `non-JSON response: ${text.slice(0, 200)}` }] }
      }
      return { status: response.status, contentType: response.headers.get('content-type'), ...(body as object) } as GraphResult<never>
    },
    close: async () => {
      await server.close()
      await bus.close()
      await database.dispose()
    },
  }
}

/** A spec that passes validation; override fields per test. */
export function demoSpec(name = 'checkout', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    target: { kind: 'process', listen: '127.0.0.1:18080', command: ['node', 'services/demo.mjs'], env: { APP_VERSION: '{{version}}', PORT: '{{port}}' } },
    strategy: {
      canary: {
        steps: [{ setWeight: 5 }, { analyze: { min: '20s', max: '5m' } }, { setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { analyze: { min: '1m' } }],
      },
    },
    gates: [
      { name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.02 } },
      { name: 'p95', signal: 'latencyP95', judge: { kind: 'relative', maxRatio: 1.5 } },
    ],
    ...extra,
  }
}
