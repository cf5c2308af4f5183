import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isListType,
  Kind,
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../schema/graph/pagination.ts'

/**
 * A static estimate of what an operation costs to answer, before it runs: every field
 * costs 1, and what is selected below a list is counted once per element it may return.
 *
 * - A field with a `first` argument (a connection) pages its lists by that value, or by
 *   the server's default page size (20) when omitted; `edges`/`nodes` below it count that
 *   many times.
 * - A list field with a `last` argument counts `last` times (all of them when omitted:
 *   `listSize`).
 * - Any other list (steps, gates, commands) counts `listSize` times.
 * - `__typename` is free; introspection (`__schema`, `__type`) is not costed here (it is
 *   answered from memory and switched off with SENTRA_INTROSPECTION=0).
 *
 * Nested lists multiply: 100 applications × 100 rollouts each × their decisions is what
 * the limit is there to refuse. Arguments given as variables are read from the request's
 * variables, so the estimate is computed at execution time (HTTP and graphql-ws alike).
 */
export interface CostOptions {
  /** Elements assumed for a list without `first`/`last` (or with `last` omitted). */
  listSize?: number
  /** Elements assumed for a connection whose `first` is omitted (the resolvers' default). */
  pageSize?: number
}

export const DEFAULT_LIST_SIZE = 10
/**
 * The most `first` and `last` can ask for: the resolvers refuse more with their own clear
 * message ("first: must be between 1 and 100"), so a larger value is counted as the most.
 */
const MOST = { first: MAX_PAGE_SIZE, last: 1000 }

type Variables = Readonly<Record<string, unknown>> | null | undefined

function argumentCount(nodes: readonly ArgumentNode[] | undefined, name: 'first' | 'last', variables: Variables): number | null {
  const node = nodes?.find((a) => a.name.value === name)
  if (!node) return null
  const value = node.value
  let count: number | null = null
  if (value.kind === Kind.INT) count = Number(value.value)
  else if (value.kind === Kind.VARIABLE) {
    const given = variables?.[value.name.value]
    if (typeof given === 'number' && Number.isFinite(given)) count = given
  }
  return count === null ? null : Math.min(MOST[name], Math.max(0, count))
}

/** The estimated cost of the operation `operationName` selects (the only one when null). */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Variables,
  { listSize = DEFAULT_LIST_SIZE, pageSize = DEFAULT_PAGE_SIZE }: CostOptions = {},
): number {
  const fragments = new Map<string, FragmentDefinitionNode>()
  let operation = null
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
    else if (definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName)) operation ??= definition
  }
  if (!operation) return 0
  const root = schema.getRootType(operation.operation)
  if (!root) return 0

  // A fragment's cost depends only on the page size its connection hands down: memoized,
  // so fragments that spread each other twice over do not cost exponential time to count.
  const memo = new Map<string, number>()
  const visiting = new Set<string>()

  function selectionCost(set: SelectionSetNode, parent: GraphQLCompositeType, page: number | null): number {
    let total = 0
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value
        if (name.startsWith('__')) continue
        if (!('getFields' in parent)) continue
        const field: GraphQLField<unknown, unknown> | undefined = parent.getFields()[name]
        if (!field) continue
        total += fieldCost(field, selection.arguments, selection.selectionSet, page)
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent
        if (type && isCompositeType(type)) total += selectionCost(selection.selectionSet, type, page)
      } else {
        const name = selection.name.value
        const fragment = fragments.get(name)
        const key = `${name}:${page}`
        if (!fragment || visiting.has(key)) continue
        let cost = memo.get(key)
        if (cost === undefined) {
          const type = schema.getType(fragment.typeCondition.name.value)
          visiting.add(key)
          cost = type && isCompositeType(type) ? selectionCost(fragment.selectionSet, type, page) : 0
          visiting.delete(key)
          memo.set(key, cost)
        }
        total += cost
      }
    }
    return total
  }

  function fieldCost(field: GraphQLField<unknown, unknown>, args: readonly ArgumentNode[] | undefined, set: SelectionSetNode | undefined, page: number | null): number {
    if (!set) return 1
    const type = getNullableType(field.type)
    const named = getNamedType(field.type)
    if (!isCompositeType(named)) return 1
    const hasFirst = field.args.some((a) => a.name === 'first')
    const hasLast = field.args.some((a) => a.name === 'last')
    const first = hasFirst ? (argumentCount(args, 'first', variables) ?? pageSize) : null
    const last = hasLast ? (argumentCount(args, 'last', variables) ?? listSize) : null
    if (isListType(type)) {
      const times = first ?? last ?? page ?? listSize
      return 1 + times * selectionCost(set, named, null)
    }
    // A connection: the lists below it (edges, nodes) are as long as its page.
    return 1 + selectionCost(set, named, first ?? last)
  }

  return selectionCost(operation.selectionSet, root, null)
}

export function costError(cost: number, maxCost: number): GraphQLError {
  const shown = Number.isFinite(cost) ? Math.ceil(cost) : cost
  return new GraphQLError(
    `query is too expensive: its estimated cost is ${shown}, the limit is ${maxCost}; ask for smaller pages (first/last) or fewer nested lists`,
    { extensions: { code: 'BAD_USER_INPUT', limit: 'cost', cost: shown, maxCost } },
  )
}

/** Refuses operations whose estimated cost is over `maxCost`, before any resolver runs (HTTP and graphql-ws). */
export function useCostLimit(maxCost: number, options: CostOptions = {}): Plugin {
  const check = (args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Variables }) => {
    const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues, options)
    return cost > maxCost ? costError(cost, maxCost) : null
  }
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args)
      if (error) setResultAndStopExecution({ errors: [error] })
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args)
      if (error) setResultAndStopExecution({ errors: [error] })
    },
  }
}
