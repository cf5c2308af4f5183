/**
 * The fuzz cases: GraphQL requests (generated, spec-focused, byte-mutated) and raw HTTP
 * bodies, each derived from its own seed so any one can be regenerated alone. A case says
 * whether it may change state (a mutation the server could execute): those run one at a
 * time, so a state change is pinned on the request that made it.
 */
import { Kind, parse, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql'
import { DocumentGenerator, type OperationKind } from './documents.ts'
import { hostileId, hostileJson, hostileString, randomUnicode, type Known } from './hostile.ts'
import { Rng } from './prng.ts'
import { documentArgument } from './specs.ts'

export interface GraphqlCase {
  type: 'graphql'
  query: string
  variables?: unknown
  operationName?: unknown
  extensions?: unknown
}

export interface RawCase {
  type: 'raw'
  method: string
  /** Path and query string. */
  path: string
  headers: Record<string, string>
  /** Sent as is; undefined sends no body. */
  body?: string | Buffer
  /** Send no Content-Length (chunked). */
  chunked?: boolean
}

export interface FuzzCase {
  index: number
  /** The seed that regenerates this case alone (`generateCase(seed, ...)`). */
  seed: number
  family: string
  request: GraphqlCase | RawCase
  /** The document may execute a mutation: run alone, and check the store after it. */
  mayWrite: boolean
  /** Executed mutation root fields, when the document parses (more than one: partial success is possible). */
  rootFieldCount: number
  /** The kind of the operation the server will pick, when the document parses and names one. */
  operationKind: 'query' | 'mutation' | 'subscription' | null
  note: string
}

/** Documents that are valid on purpose (the base for byte mutations). */
const SEEDS_OF_VALID = [
  '{ applications(first: 5) { edges { node { id name stableVersion rollouts(first: 2) { edges { node { id status } } } } } pageInfo { hasNextPage endCursor } } }',
  'query Q($id: ID!) { rollout(id: $id) { id status steps { index kind } decisions(last: 3) { action reason evidence } gates { name lastResult { verdict } } } }',
  'mutation Start($app: String!, $v: String!) { startRollout(application: $app, version: $v) { id status } }',
  'mutation($spec: JSON!) { applyApplication(spec: $spec) { id name spec } }',
  'mutation { promoteRollout(id: "Um9sbG91dDp4", full: true) { id } }',
  'subscription { rolloutEvents { kind seq rollout { id } } }',
  '{ node(id: "QXBwbGljYXRpb246eA==") { id ... on Application { name } ... on Rollout { status } } }',
  'query { viewer { name scope } apiTokens { id name scope } webhookSubscriptions { id url deliveries(last: 2) { id status } } policies { name } guardrails { environment } providers { name } }',
  'fragment R on Rollout { id status } query { rollouts(first: 3, status: [PENDING, PAUSED]) { edges { cursor node { ...R traces(first: 2) { edges { node { traceId spans { name } } } } } } } }',
]

/** The operation of a parsed document the server runs (by operationName, else the only one). */
function selectedOperation(document: DocumentNode, operationName: unknown): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  const chosen = typeof operationName === 'string' && operationName !== '' ? operations.filter((o) => o.name?.value === operationName) : operations.length === 1 ? operations : []
  return chosen[0]
}

/** How many mutation fields the selected operation may execute. */
export function mutationFieldCount(document: DocumentNode, operationName: unknown): number {
  const op = selectedOperation(document, operationName)
  if (!op || op.operation !== 'mutation') return 0
  let count = 0
  for (const selection of op.selectionSet.selections) count += selection.kind === Kind.FIELD ? 1 : 2 // a fragment may hold any number
  return count
}

function classify(request: GraphqlCase | RawCase): Pick<FuzzCase, 'mayWrite' | 'rootFieldCount' | 'operationKind'> {
  if (request.type === 'raw') {
    const text = request.body === undefined ? '' : String(request.body)
    return { mayWrite: /mutation/i.test(text) || /mutation/i.test(decodeURIComponent(request.path.replace(/%(?![0-9a-f]{2})/gi, ''))), rootFieldCount: 2, operationKind: null }
  }
  if (typeof request.query !== 'string') return { mayWrite: false, rootFieldCount: 0, operationKind: null }
  let document: DocumentNode
  try {
    document = parse(request.query)
  } catch {
    return { mayWrite: false, rootFieldCount: 0, operationKind: null }
  }
  // Any mutation in the document, whatever operationName says: the server decides which runs.
  const hasMutation = document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === 'mutation')
  return {
    mayWrite: hasMutation,
    rootFieldCount: hasMutation ? Math.max(1, mutationFieldCount(document, request.operationName)) : 0,
    operationKind: selectedOperation(document, request.operationName)?.operation ?? null,
  }
}

/** Byte-level mutations of a document: truncation, duplication, swapped tokens, stray braces. */
export function mutateText(rng: Rng, text: string): string {
  let out = text
  for (let n = rng.int(1, 3); n > 0; n--) {
    const at = rng.int(0, out.length)
    out = rng.weighted<() => string>([
      [2, () => out.slice(0, at)],
      [2, () => {
        const end = rng.int(at, Math.min(out.length, at + 40))
        return out.slice(0, end) + out.slice(at, end) + out.slice(end)
      }],
      [2, () => {
        const tokens = out.split(/(\s+|[{}()[\]:,$@!=])/)
        const i = rng.int(0, tokens.length - 1)
        const j = rng.int(0, tokens.length - 1)
        ;[tokens[i], tokens[j]] = [tokens[j] ?? '', tokens[i] ?? '']
        return tokens.join('')
      }],
      [2, () => out.slice(0, at) + rng.pick(['{', '}', '(', ')', '[', ']', ':', '$', '@', '!', '...', '"', '"""', '#', '\\', '=', '|', '&', ',', '\u0000', '\ufeff', '\u2028']) + out.slice(at)],
      [1, () => out.slice(0, at) + out.slice(rng.int(at, out.length))],
      [1, () => out.slice(0, at) + randomUnicode(rng, rng.int(1, 8)) + out.slice(at)],
      [1, () => out.slice(0, at) + rng.pick(['{ a '.repeat(rng.pick([11, 500, 5000])), '['.repeat(3000), 'a '.repeat(4100), '...F '.repeat(50), 'a: b '.repeat(40)]) + out.slice(at)],
      [1, () => out.slice(0, at) + out.slice(at).toUpperCase()],
    ])()
  }
  return out
}

const RAW_PATHS = ['/graphql', '/graphql?', '/graphql/', '/GRAPHQL', '/graphql?query=%7B__typename%7D', '/graphql#x', '//graphql']

/** What node:http will put in a header: hostile text with everything else replaced. */
const headerSafe = (text: string): string => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')

function rawCase(rng: Rng, token: string, known: Known, generator: DocumentGenerator): RawCase {
  const auth: Record<string, string> = rng.chance(0.95) ? { authorization: `Bearer ${token}` } : {}
  const json: Record<string, string> = { 'content-type': 'application/json', ...auth }
  const doc = generator.operation(rng.fork(1))
  const validBody = JSON.stringify({ query: doc.query, variables: doc.variables })
  return rng.weighted<() => RawCase>([
    [3, () => ({ type: 'raw', method: 'POST', path: '/graphql', headers: json, body: mutateText(rng, validBody) })],
    [2, () => ({ type: 'raw', method: 'POST', path: '/graphql', headers: json, body: rng.pick(['', ' ', 'null', 'true', '0', '"x"', '[]', '[{"query":"{ viewer { name } }"}]', '{', '{"query":', '{"query": 123}', '{"query": null}', '{"query": ["{ viewer { name } }"]}', '{"query": {"a": 1}}', '{"query":"{ viewer { name } }","variables":"x"}', '{"query":"{ viewer { name } }","variables":[1]}', '{"query":"{ viewer { name } }","variables":{"__proto__":{"x":1}}}', '{"query":"{ viewer { name } }","operationName":{}}', '{"query":"{ viewer { name } }","operationName":7}', '{"query":"{ viewer { name } }","extensions":"x"}', '{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"' + '0'.repeat(64) + '"}}}', '{"extensions":{"persistedQuery":{"version":2,"sha256Hash":null}}}', '{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"../../etc/passwd"}}}', '{"documentId":"sha256:' + 'f'.repeat(64) + '"}', '{"documentId":{}}', '\ufeff{"query":"{ viewer { name } }"}', '{"query":"{ viewer { name } }"}\u0000', '{"query":"{ viewer { name } }"}{"query":"{ viewer { name } }"}', '{"query":"\\ud800"}']) })],
    [1, () => ({ type: 'raw', method: 'POST', path: '/graphql', headers: { ...auth, 'content-type': rng.pick(['text/plain', 'application/graphql', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'multipart/form-data', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/xml', '', '*/*', 'application/graphql-response+json', 'application/json, text/plain']) }, body: rng.chance(0.5) ? validBody : rng.pick(['query={viewer{name}}', '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ viewer { name } }"}\r\n--x--\r\n', '{ viewer { name } }', '<a/>']) })],
    [1, () => ({ type: 'raw', method: 'POST', path: '/graphql', headers: { ...json, accept: rng.pick(['text/event-stream', 'multipart/mixed', 'text/html', 'application/xml', 'application/graphql-response+json;q=0', '*/*;q=abc', '']) }, body: validBody })],
    [1, () => ({ type: 'raw', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: doc.query, variables: hostileJson(rng) }) })],
    [0.3, () => {
      // Near the 1 MiB limit, just over it, or far over it (answered 413 without reading).
      const size = rng.pick([1024 * 1024 - 200, 1024 * 1024 + 10, 3 * 1024 * 1024])
      const filler = 'x'.repeat(Math.max(0, size - 40))
      return { type: 'raw', method: 'POST', path: '/graphql', headers: json, body: rng.chance(0.5) ? JSON.stringify({ query: `{ viewer { name } } # ${filler}` }) : JSON.stringify({ query: '{ viewer { name } }', variables: { x: filler } }) }
    }],
    [1, () => ({ type: 'raw', method: 'POST', path: '/graphql', headers: json, body: validBody, chunked: true })],
    [2, () => {
      const params = new URLSearchParams()
      params.set('query', rng.chance(0.7) ? doc.query : mutateText(rng, doc.query))
      if (doc.variables !== undefined || rng.chance(0.3)) params.set('variables', rng.chance(0.8) ? JSON.stringify(doc.variables ?? {}) : rng.pick(['{', 'null', '[]', '"x"', hostileString(rng)]))
      if (rng.chance(0.2)) params.set('operationName', rng.pick(['', 'X', hostileString(rng)]))
      if (rng.chance(0.1)) params.set('extensions', rng.pick(['{', '{"persistedQuery":{"version":1,"sha256Hash":"abc"}}']))
      const qs = params.toString()
      return { type: 'raw', method: 'GET', path: `/graphql?${rng.chance(0.9) ? qs : qs.replace(/%/g, '%%')}`, headers: { ...auth, accept: 'application/json' } }
    }],
    [1, () => ({ type: 'raw', method: rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND']), path: rng.pick(RAW_PATHS), headers: json, body: rng.chance(0.5) ? validBody : undefined })],
    [1, () => ({ type: 'raw', method: 'POST', path: rng.pick(RAW_PATHS), headers: { ...json, ...(rng.chance(0.5) ? { cookie: `sentra_session=${rng.pick(['%', '%E0%A4%A', token, 'x'.repeat(300)])}` } : {}), ...(rng.chance(0.3) ? { 'x-sentra-csrf': '1' } : {}) }, body: validBody })],
    [1, () => ({ type: 'raw', method: 'POST', path: '/graphql', headers: { ...json, authorization: rng.pick(['Bearer', 'Bearer ', `Bearer ${token} extra`, `bearer ${token}`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${'x'.repeat(300)}`, headerSafe(`Bearer ${hostileId(rng, known)}`)]) }, body: validBody })],
  ])()
}

export interface CaseContext {
  schema: GraphQLSchema
  known: Known
  token: string
}

/**
 * The case with this index of a run with this seed. `forWs` limits it to what a graphql-ws
 * client can send (a GraphQL request, no raw HTTP).
 */
export function generateCase(runSeed: number, index: number, ctx: CaseContext, { forWs = false } = {}): FuzzCase {
  const seed = (Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35) + (forWs ? 0x27d4eb2f : 0)) >>> 0
  const rng = new Rng(seed)
  const generator = new DocumentGenerator(ctx.schema, ctx.known)
  const family = rng.weighted<string>([
    [50, 'generated'],
    [12, 'spec'],
    [6, 'command'],
    [14, 'mutated-text'],
    [forWs ? 0 : 10, 'raw-http'],
    [3, 'valid-mutation'],
    [5, 'valid-query'],
  ])
  let request: GraphqlCase | RawCase
  let note = ''
  switch (family) {
    case 'generated': {
      const op = generator.operation(rng)
      request = { type: 'graphql', query: op.query, variables: op.variables, operationName: op.operationName }
      note = op.note
      break
    }
    case 'valid-query':
    case 'valid-mutation': {
      const kind: OperationKind = family === 'valid-query' ? rng.pick(['query', 'query', 'subscription']) : 'mutation'
      const op = generator.operation(rng, { kind, forceValid: true })
      request = { type: 'graphql', query: op.query, variables: op.variables, operationName: op.operationName }
      note = op.note
      break
    }
    case 'spec': {
      const field = rng.weighted<string>([[6, 'applyApplication'], [2, 'applyPolicy'], [1, 'applyProvider'], [1, 'applyGuardrails']])
      const arg = documentArgument(rng, field, ctx.known)
      const inline = rng.chance(0.1)
      request = inline
        ? { type: 'graphql', query: `mutation { ${field}(spec: ${JSON.stringify(JSON.stringify(arg.value) ?? 'null')}) { __typename } }` }
        : { type: 'graphql', query: `mutation Apply($spec: JSON!) { ${field}(spec: $spec) { __typename } }`, variables: { spec: arg.value }, operationName: rng.chance(0.5) ? 'Apply' : undefined }
      note = `${field}: ${arg.note}`
      break
    }
    case 'command': {
      const field = rng.pick(['promoteRollout', 'pauseRollout', 'resumeRollout', 'rollbackRollout', 'abortRollout', 'startRollout', 'revokeApiToken', 'createApiToken', 'deleteWebhookSubscription', 'redeliverWebhook'])
      const id = hostileId(rng, ctx.known)
      const args =
        field === 'startRollout' ? { application: rng.chance(0.5) && ctx.known.applications.length ? rng.pick(ctx.known.applications) : hostileString(rng), version: rng.chance(0.5) ? hostileString(rng) : `v${rng.int(0, 9)}` }
        : field === 'createApiToken' ? { name: hostileString(rng), scope: rng.pick(['ADMIN', 'READ', 'OPERATE', 'ROOT']) }
        : field === 'redeliverWebhook' ? { deliveryId: id }
        : { id, ...(rng.chance(0.5) ? { reason: hostileString(rng) } : {}), ...(field === 'promoteRollout' && rng.chance(0.5) ? { full: rng.pick<unknown>([true, false, 'yes', 1]) } : {}) }
      const types: Record<string, string> = { application: 'String!', version: 'String!', name: 'String!', scope: 'TokenScope!', deliveryId: 'ID!', id: 'ID!', reason: 'String', full: 'Boolean' }
      const names = Object.keys(args)
      const selection = field === 'revokeApiToken' || field.startsWith('delete') ? '' : field === 'createApiToken' ? ' { token apiToken { id } }' : field === 'redeliverWebhook' ? ' { id status }' : ' { id status seq commands { kind actor reason } }'
      request = {
        type: 'graphql',
        query: `mutation(${names.map((n) => `$${n}: ${types[n]}`).join(', ')}) { ${field}(${names.map((n) => `${n}: $${n}`).join(', ')})${selection} }`,
        variables: args,
      }
      note = field
      break
    }
    case 'mutated-text': {
      const base = rng.chance(0.5) ? rng.pick(SEEDS_OF_VALID) : generator.operation(rng, { forceValid: rng.chance(0.5) }).query
      const variables = rng.chance(0.5)
        ? generator.operation(rng.fork(2)).variables
        : { id: hostileId(rng, ctx.known), spec: documentArgument(rng, 'applyApplication', ctx.known).value, app: rng.pick(ctx.known.applications.length ? ctx.known.applications : ['x']), v: 'v9' }
      request = { type: 'graphql', query: mutateText(rng, base), variables }
      note = 'byte-mutated'
      break
    }
    default: {
      request = rawCase(rng, ctx.token, ctx.known, generator)
      note = `${request.method} ${request.path.slice(0, 40)} ${request.headers['content-type'] ?? ''}`
    }
  }
  if (request.type === 'graphql' && rng.chance(0.03)) {
    request.extensions = rng.pick<unknown>([{ persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } }, { persistedQuery: 'x' }, 'x', [], { a: hostileJson(rng) }])
  }
  return { index, seed, family, request, ...classify(request), note }
}
