import type { Page } from '../store/models.ts'
import { badInput } from './errors.ts'

export const DEFAULT_PAGE_SIZE = 20
export const MAX_PAGE_SIZE = 100

interface ConnectionArgs {
  first?: number | null
  after?: string | null
  last?: number | null
  before?: string | null
}

/** Validates Relay arguments: forward paging only, 1..100 at a time. */
export function pageArgs(args: ConnectionArgs): { first: number; after: string | null } {
  if (args.last != null || args.before != null) throw badInput('last/before: only forward paging (first/after) is supported', args.last != null ? 'last' : 'before')
  const first = args.first ?? DEFAULT_PAGE_SIZE
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) throw badInput(`first: must be between 1 and ${MAX_PAGE_SIZE}`, 'first')
  if (args.after != null && args.after.length > 512) throw badInput('after: not a valid cursor', 'after')
  return { first, after: args.after ?? null }
}

/** A store page in the shape the Relay plugin resolves connections from. */
export function toConnection<T>(page: Page<T>) {
  return {
    edges: page.items.map((item) => ({ cursor: item.cursor, node: item.node })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      startCursor: page.items[0]?.cursor ?? null,
      endCursor: page.items.at(-1)?.cursor ?? null,
    },
  }
}
