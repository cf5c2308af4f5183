import { readFileSync } from 'node:fs'
import { parse } from 'graphql'
import { describe, expect, it } from 'vitest'
import { graphSchema } from '../schema/graph/index.ts'
import { operationCost } from './cost.ts'
import { DEFAULT_LIMITS } from './limits.ts'
import { PERSISTED_MANIFESTS } from './persisted.ts'

const schema = graphSchema()
const cost = (query: string, variables: Record<string, unknown> = {}, operationName?: string) => operationCost(schema, parse(query), operationName, variables)

describe('operationCost', () => {
  it('counts each field once, and __typename not at all', () => {
    expect(cost('{ viewer { name scope } }')).toBe(3)
    expect(cost('{ __typename viewer { __typename name } }')).toBe(2)
  })

  it('multiplies what a connection selects by first, its default page size when omitted, and nests', () => {
    // rollouts: 1, edges: 1 + first × (node: 1 + id: 1)
    expect(cost('{ rollouts(first: 5) { edges { node { id } } } }')).toBe(1 + 1 + 5 * 2)
    expect(cost('{ rollouts { edges { node { id } } } }')).toBe(1 + 1 + 20 * 2)
    expect(cost('query($n: Int!) { rollouts(first: $n) { edges { node { id } } } }', { n: 50 })).toBe(1 + 1 + 50 * 2)
    // A variable that is not a number (refused later by coercion) counts as the default.
    expect(cost('query($n: Int) { rollouts(first: $n) { edges { node { id } } } }', { n: 'many' })).toBe(1 + 1 + 20 * 2)
    // More than the resolvers allow is counted as the most they allow (they refuse it with their own message).
    expect(cost('{ rollouts(first: 100000) { edges { node { id } } } }')).toBe(1 + 1 + 100 * 2)
    expect(cost('query($n: Int) { rollouts(first: $n) { edges { node { id } } } }', { n: -5 })).toBe(2)
    // pageInfo is not a list: it is counted once.
    expect(cost('{ rollouts(first: 5) { pageInfo { hasNextPage } } }')).toBe(1 + 2)
    const nested = cost('{ applications(first: 10) { edges { node { rollouts(first: 10) { edges { node { id } } } } } } }')
    expect(nested).toBe(1 + 1 + 10 * (1 + 1 + 1 + 10 * 2))
  })

  it('counts lists by last, or the default list size, and multiplies fragments and inline fragments in place', () => {
    expect(cost('{ rollouts(first: 1) { edges { node { decisions(last: 3) { seq } } } } }')).toBe(1 + 1 + 1 * (1 + 1 + 3 * 1))
    expect(cost('{ rollouts(first: 1) { edges { node { decisions { seq } } } } }')).toBe(1 + 1 + 1 * (1 + 1 + 10 * 1))
    const viaFragment = cost('query { rollouts(first: 2) { edges { node { ...R } } } } fragment R on Rollout { id steps { index } }')
    expect(viaFragment).toBe(1 + 1 + 2 * (1 + 1 + 1 + 10 * 1))
    expect(cost('{ node(id: "x") { ... on Rollout { id status } } }')).toBe(3)
  })

  it('costs the named operation only', () => {
    const document = 'query A { viewer { name } } query B { rollouts(first: 100) { edges { node { id } } } }'
    expect(cost(document, {}, 'A')).toBe(2)
    expect(cost(document, {}, 'B')).toBe(202)
  })

  it('stays fast on fragments that each spread the next one twice (no exponential walk)', () => {
    const count = 40
    const fragments = Array.from({ length: count }, (_, i) => `fragment F${i} on Rollout { id ${i + 1 < count ? `...F${i + 1} ...F${i + 1}` : ''} }`)
    const document = `{ rollouts(first: 1) { edges { node { ...F0 } } } } ${fragments.join(' ')}`
    // 2^40 expansions if it were walked naively; memoized, it returns at once.
    expect(cost(document)).toBeGreaterThan(2 ** 39)
  })

  it('every persisted operation of the dashboard and the CLI fits the default limit, whatever page sizes they ask for', () => {
    for (const path of PERSISTED_MANIFESTS) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>
      for (const document of Object.values(manifest)) {
        const worst = operationCost(schema, parse(document), null, { first: 100, last: 100 })
        expect(worst, document.slice(0, 120)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxCost)
      }
    }
  })

  it('refuses what the limit is for: nested pages of 100', () => {
    const abusive = cost('{ applications(first: 100) { edges { node { rollouts(first: 100) { edges { node { decisions { seq action reason actor at } } } } } } } }')
    expect(abusive).toBeGreaterThan(DEFAULT_LIMITS.maxCost)
  })
})
