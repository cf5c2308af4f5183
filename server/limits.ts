import {
  GraphQLError,
  Kind,
  parse,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { useCostLimit } from './cost.ts'

/**
 * The abuse limits every GraphQL operation is held to, over HTTP and graphql-ws alike
 * (docs/security.md lists each one, its default, its error and its variable).
 */
export interface QueryLimits {
  /** SENTRA_MAX_DEPTH: nesting of selections, fragments included. */
  maxDepth: number
  /** SENTRA_MAX_ALIASES: aliased fields in one document. */
  maxAliases: number
  /** SENTRA_MAX_TOKENS: lexical tokens in one document (checked while parsing). */
  maxTokens: number
  /** SENTRA_MAX_DIRECTIVES: directives in one document (`@include`, `@skip`, ...). */
  maxDirectives: number
  /** SENTRA_MAX_COST: the estimated cost of one operation (server/cost.ts). */
  maxCost: number
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 10, maxAliases: 30, maxTokens: 4000, maxDirectives: 50, maxCost: 100_000 }

/** The largest GraphQL request body over HTTP, and graphql-ws message, by default (SENTRA_GRAPHQL_MAX_BYTES). */
export const MAX_BODY_BYTES = 1 << 20
/** Queries running longer are cancelled, by default (SENTRA_QUERY_TIMEOUT_MS). */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000

function depthOf(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: Set<string>,
  memo: Map<string, number>,
): number {
  let deepest = 0
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const inner = selection.selectionSet ? depthOf(selection.selectionSet, fragments, seen, memo) : 0
      deepest = Math.max(deepest, 1 + inner)
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, seen, memo))
    } else {
      const name = selection.name.value
      const fragment = fragments.get(name)
      // A fragment cycle is reported by graphql's own NoFragmentCycles rule.
      if (!fragment || seen.has(name)) continue
      // Memoized: fragments that each spread the next one twice would otherwise take
      // exponential time to measure.
      let depth = memo.get(name)
      if (depth === undefined) {
        seen.add(name)
        depth = depthOf(fragment.selectionSet, fragments, seen, memo)
        seen.delete(name)
        memo.set(name, depth)
      }
      deepest = Math.max(deepest, depth)
    }
  }
  return deepest
}

export function maxDepthRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>()
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
    }
    const memo = new Map<string, number>()
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set(), memo)
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`query is ${depth} levels deep; the limit is ${maxDepth}`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT', limit: 'depth', maxDepth } }),
          )
        }
      },
    }
  }
}

export function maxAliasesRule(maxAliases: number) {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0
    return {
      Field(node) {
        if (node.alias && ++aliases === maxAliases + 1) {
          context.reportError(new GraphQLError(`more than ${maxAliases} aliases in one document`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT', limit: 'aliases', maxAliases } }))
        }
      },
    }
  }
}

export function maxDirectivesRule(maxDirectives: number) {
  return (context: ValidationContext): ASTVisitor => {
    let directives = 0
    return {
      Directive(node) {
        if (++directives === maxDirectives + 1) {
          context.reportError(
            new GraphQLError(`more than ${maxDirectives} directives in one document`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT', limit: 'directives', maxDirectives } }),
          )
        }
      },
    }
  }
}

/** With introspection off, `__schema` and `__type` are refused; `__typename` (which clients add everywhere) stays. */
export function noIntrospectionRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const name = node.name.value
      if (name !== '__schema' && name !== '__type') return
      context.reportError(
        new GraphQLError(`introspection is turned off on this server (SENTRA_INTROSPECTION=0): "${name}" cannot be queried; the schema is schema/schema.graphql`, {
          nodes: [node],
          extensions: { code: 'INTROSPECTION_DISABLED' },
        }),
      )
    },
  }
}

const SUGGESTION = /\s*Did you mean .*\?$/
const TOO_MANY_TOKENS = /more th(?:an|at) \d+ tokens/ // graphql 16 says "more that"

export interface QueryLimitOptions {
  /** No "did you mean" suggestions (production). */
  hideSuggestions?: boolean
  /** `__schema` / `__type` allowed (SENTRA_INTROSPECTION). */
  introspection?: boolean
}

/**
 * Depth, alias, token, directive and cost limits for every operation (HTTP and graphql-ws
 * alike, since both go through the enveloped parse, validate and execute), introspection
 * when it is turned off, and, in production, no "did you mean" suggestions that would map
 * the schema for a stranger.
 */
export function useQueryLimits(limits: QueryLimits = DEFAULT_LIMITS, { hideSuggestions = false, introspection = true }: QueryLimitOptions = {}): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      // The cost needs the variables (`first: $first`), so it is checked just before execution.
      addPlugin(useCostLimit(limits.maxCost))
    },
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parse(source, { ...options, maxTokens: limits.maxTokens })
        } catch (error) {
          if (error instanceof GraphQLError && TOO_MANY_TOKENS.test(error.message)) {
            throw new GraphQLError(error.message, { source: error.source, positions: error.positions, extensions: { code: 'BAD_USER_INPUT', limit: 'tokens', maxTokens: limits.maxTokens } })
          }
          // graphql-js parses values recursively: some 1,500 nested list brackets fit in the
          // token limit and overflow the stack. The client's document is at fault, not the server.
          if (error instanceof RangeError) {
            throw new GraphQLError('the document is nested too deeply to parse', { extensions: { code: 'BAD_USER_INPUT', limit: 'nesting' } })
          }
          throw error
        }
      })
    },
    onValidate({ addValidationRule }) {
      addValidationRule(maxDepthRule(limits.maxDepth))
      addValidationRule(maxAliasesRule(limits.maxAliases))
      addValidationRule(maxDirectivesRule(limits.maxDirectives))
      if (!introspection) addValidationRule(noIntrospectionRule)
      if (!hideSuggestions) return undefined
      return ({ result, setResult }) => {
        if (result.length === 0) return
        setResult(result.map((e) => (SUGGESTION.test(e.message) ? new GraphQLError(e.message.replace(SUGGESTION, ''), { nodes: e.nodes, extensions: e.extensions }) : e)))
      }
    },
  }
}
