import { readFileSync } from 'node:fs'
import { buildSchema, parse, validate } from 'graphql'
import { createSchema, createYoga } from 'graphql-yoga'
import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_RATE_LIMIT, readConfig } from './config.ts'
import { graphSchema } from '../schema/graph/index.ts'
import { DEFAULT_LIMITS, maxAliasesRule, maxDepthRule, maxDirectivesRule, noIntrospectionRule, useQueryLimits } from './limits.ts'
import { PERSISTED_MANIFESTS } from './persisted.ts'
import { useQueryTimeout } from './timeout.ts'

const schema = buildSchema(`
  type Item { id: ID! children: [Item!]! }
  type Query { item: Item items(first: Int): [Item!]! }
`)

describe('validation rules', () => {
  it('counts directives in the whole document, fragments included', () => {
    const rule = maxDirectivesRule(3)
    expect(validate(schema, parse('{ item @include(if: true) { id @skip(if: false) } }'), [rule])).toEqual([])
    const over = validate(schema, parse('query { item @include(if: true) { ...F } } fragment F on Item { id @skip(if: false) @include(if: true) children @skip(if: false) { id } }'), [rule])
    expect(over).toHaveLength(1)
    expect(over[0]?.message).toBe('more than 3 directives in one document')
    expect(over[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', limit: 'directives', maxDirectives: 3 })
  })

  it('refuses __schema and __type without introspection, and keeps __typename', () => {
    expect(validate(schema, parse('{ __typename item { __typename id } }'), [noIntrospectionRule])).toEqual([])
    const refused = validate(schema, parse('{ __schema { types { name } } __type(name: "Item") { name } }'), [noIntrospectionRule])
    expect(refused.map((e) => e.extensions.code)).toEqual(['INTROSPECTION_DISABLED', 'INTROSPECTION_DISABLED'])
    expect(refused[0]?.message).toMatch(/introspection is turned off.*SENTRA_INTROSPECTION=0/)
  })

  it('measures depth through fragments quickly, even when each spreads the next twice', () => {
    const count = 40
    const fragments = Array.from({ length: count }, (_, i) => `fragment F${i} on Item { id ${i + 1 < count ? `children { ...F${i + 1} ...F${i + 1} }` : ''} }`)
    const errors = validate(schema, parse(`{ item { ...F0 } } ${fragments.join(' ')}`), [maxDepthRule(10)])
    expect(errors).toHaveLength(1)
    expect(errors[0]?.message).toBe('query is 41 levels deep; the limit is 10')
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'depth' })
  })
})

describe('the clients under the default limits', () => {
  it('every persisted operation of the dashboard and the CLI passes depth, alias, directive and token limits, and needs no introspection', () => {
    const rules = [maxDepthRule(DEFAULT_LIMITS.maxDepth), maxAliasesRule(DEFAULT_LIMITS.maxAliases), maxDirectivesRule(DEFAULT_LIMITS.maxDirectives), noIntrospectionRule]
    const real = graphSchema()
    for (const path of PERSISTED_MANIFESTS) {
      for (const document of Object.values(JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>)) {
        expect(validate(real, parse(document, { maxTokens: DEFAULT_LIMITS.maxTokens }), rules), document.slice(0, 120)).toEqual([])
      }
    }
  })
})

/** A yoga over a tiny schema whose `slow` field waits for the test to release it. */
function slowYoga(plugins: Parameters<typeof createYoga>[0]['plugins']) {
  let release: () => void = () => undefined
  const gate = new Promise<void>((resolve) => (release = resolve))
  const started: string[] = []
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: 'type Slow { value: Int! next: Slow! } type Query { fast: Int! slow: Slow! } type Mutation { slow: Int! }',
      resolvers: {
        Query: { fast: () => 1, slow: async () => (started.push('slow'), await gate, {}) },
        Slow: { value: () => 1, next: () => (started.push('next'), {}) },
        Mutation: { slow: async () => (started.push('mutation'), await gate, 2) },
      },
    }),
    plugins,
    logging: false,
  })
  const post = async (query: string) => {
    const response = await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
    return (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }
  }
  return { post, release, started }
}

describe('useQueryTimeout', () => {
  it('answers QUERY_TIMEOUT at the deadline; the running resolver finishes but nothing below it starts', async () => {
    const { post, release, started } = slowYoga([useQueryTimeout(100)])
    const result = await post('{ slow { value next { value } } }')
    expect(result.data ?? null).toBeNull()
    expect(result.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/longer than 100 ms and was cancelled/), extensions: expect.objectContaining({ code: 'QUERY_TIMEOUT', timeoutMs: 100 }) })])
    release()
    // Give the released resolver a few turns: its children must not run after the deadline.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(started).toEqual(['slow'])
    expect(await post('{ fast }')).toEqual({ data: { fast: 1 } })
  })

  it('leaves mutations alone: a write that started is not answered as timed out', async () => {
    const { post, release } = slowYoga([useQueryTimeout(50)])
    const pending = post('mutation { slow }')
    await new Promise((resolve) => setTimeout(resolve, 150))
    release()
    expect(await pending).toEqual({ data: { slow: 2 } })
  })
})

describe('useQueryLimits', () => {
  it('gives the token limit a code, and refuses costly operations before any resolver runs', async () => {
    const { post, started } = slowYoga([useQueryLimits({ ...DEFAULT_LIMITS, maxTokens: 50, maxCost: 5 })])
    const tokens = await post(`{ ${'fast '.repeat(60)} }`)
    expect(tokens.errors?.[0]).toMatchObject({ message: expect.stringMatching(/more th\w+ 50 tokens/), extensions: { code: 'BAD_USER_INPUT', limit: 'tokens', maxTokens: 50 } })
    const costly = await post('{ slow { next { next { next { next { value } } } } } }')
    expect(costly.errors?.[0]).toMatchObject({ message: expect.stringMatching(/estimated cost is 6, the limit is 5/), extensions: { code: 'BAD_USER_INPUT', limit: 'cost', cost: 6, maxCost: 5 } })
    expect(started).toEqual([])
  })

  it('answers a document nested too deeply for the parser with BAD_USER_INPUT, not an internal error', async () => {
    const { post, started } = slowYoga([useQueryLimits(DEFAULT_LIMITS)])
    const deep = await post(`{ slow(x: ${'['.repeat(3000)}) { value } }`)
    expect(deep.errors?.[0]).toMatchObject({ message: 'the document is nested too deeply to parse', extensions: { code: 'BAD_USER_INPUT', limit: 'nesting' } })
    expect(started).toEqual([])
  })
})

describe('limit settings from the environment', () => {
  it('has the documented defaults', () => {
    expect(readConfig({})).toMatchObject({
      limits: { maxDepth: 10, maxAliases: 30, maxTokens: 4000, maxDirectives: 50, maxCost: 100_000 },
      graphqlMaxBytes: 1 << 20,
      rateLimit: DEFAULT_RATE_LIMIT,
      queryTimeoutMs: 10_000,
      introspection: true,
    })
    expect(DEFAULT_RATE_LIMIT).toEqual({ perSecond: 50, burst: 500 })
  })

  it('reads every variable', () => {
    const config = readConfig({
      SENTRA_MAX_DEPTH: '8',
      SENTRA_MAX_ALIASES: '0',
      SENTRA_MAX_TOKENS: '2000',
      SENTRA_MAX_DIRECTIVES: '5',
      SENTRA_MAX_COST: '20000',
      SENTRA_GRAPHQL_MAX_BYTES: '65536',
      SENTRA_RATE_LIMIT: '2.5/20',
      SENTRA_QUERY_TIMEOUT_MS: '3000',
      SENTRA_INTROSPECTION: '0',
    })
    expect(config).toMatchObject({
      limits: { maxDepth: 8, maxAliases: 0, maxTokens: 2000, maxDirectives: 5, maxCost: 20_000 },
      graphqlMaxBytes: 65536,
      rateLimit: { perSecond: 2.5, burst: 20 },
      queryTimeoutMs: 3000,
      introspection: false,
    })
    expect(readConfig({ SENTRA_RATE_LIMIT: '10' }).rateLimit).toEqual({ perSecond: 10, burst: 10 })
    expect(readConfig({ SENTRA_RATE_LIMIT: 'off' }).rateLimit).toBeNull()
    expect(readConfig({ SENTRA_RATE_LIMIT: '0' }).rateLimit).toBeNull()
    expect(readConfig({ SENTRA_QUERY_TIMEOUT_MS: '0' }).queryTimeoutMs).toBeNull()
  })

  it.each([
    ['SENTRA_MAX_DEPTH', '1'],
    ['SENTRA_MAX_DEPTH', 'ten'],
    ['SENTRA_MAX_ALIASES', '-1'],
    ['SENTRA_MAX_TOKENS', '10'],
    ['SENTRA_MAX_TOKENS', '1e4'],
    ['SENTRA_MAX_DIRECTIVES', '5000'],
    ['SENTRA_MAX_COST', '99'],
    ['SENTRA_MAX_COST', '100000000000'],
    ['SENTRA_GRAPHQL_MAX_BYTES', '100'],
    ['SENTRA_GRAPHQL_MAX_BYTES', '1MB'],
    ['SENTRA_RATE_LIMIT', 'fast'],
    ['SENTRA_RATE_LIMIT', '10/0'],
    ['SENTRA_RATE_LIMIT', '-5/10'],
    ['SENTRA_RATE_LIMIT', '10/'],
    ['SENTRA_RATE_LIMIT', '0/10'],
    ['SENTRA_QUERY_TIMEOUT_MS', '50'],
    ['SENTRA_QUERY_TIMEOUT_MS', '10s'],
    ['SENTRA_INTROSPECTION', 'sometimes'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => readConfig({ [name]: value })).toThrow(name)
  })

  it('refuses GraphiQL without introspection', () => {
    expect(() => readConfig({ SENTRA_GRAPHIQL: '1', SENTRA_INTROSPECTION: '0' })).toThrow(/SENTRA_INTROSPECTION=0 leaves GraphiQL/)
  })
})
