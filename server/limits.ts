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

export interface QueryLimits {
  maxDepth: number
  maxAliases: number
  maxTokens: number
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 10, maxAliases: 30, maxTokens: 4000 }

function depthOf(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: Set<string>,
): number {
  let deepest = 0
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const inner = selection.selectionSet ? depthOf(selection.selectionSet, fragments, seen) : 0
      deepest = Math.max(deepest, 1 + inner)
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, seen))
    } else {
      const name = selection.name.value
      const fragment = fragments.get(name)
      // A fragment cycle is reported by graphql's own NoFragmentCycles rule.
      if (!fragment || seen.has(name)) continue
      seen.add(name)
      deepest = Math.max(deepest, depthOf(fragment.selectionSet, fragments, seen))
      seen.delete(name)
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
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set())
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`query is ${depth} levels deep; the limit is ${maxDepth}`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }),
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
          context.reportError(new GraphQLError(`more than ${maxAliases} aliases in one document`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }))
        }
      },
    }
  }
}

const SUGGESTION = /\s*Did you mean .*\?$/

/**
 * Depth, alias and token limits for every operation (HTTP and graphql-ws alike, since both
 * go through the enveloped parse and validate), and, in production, no "did you mean"
 * suggestions that would map the schema for a stranger.
 */
export function useQueryLimits(limits: QueryLimits = DEFAULT_LIMITS, { hideSuggestions = false } = {}): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parse(source, { ...options, maxTokens: limits.maxTokens }))
    },
    onValidate({ addValidationRule }) {
      addValidationRule(maxDepthRule(limits.maxDepth))
      addValidationRule(maxAliasesRule(limits.maxAliases))
      if (!hideSuggestions) return undefined
      return ({ result, setResult }) => {
        if (result.length === 0) return
        setResult(result.map((e) => (SUGGESTION.test(e.message) ? new GraphQLError(e.message.replace(SUGGESTION, ''), { nodes: e.nodes, extensions: e.extensions }) : e)))
      }
    },
  }
}
