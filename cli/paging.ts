/** The most items one request asks for (the API's page limit). */
export const PAGE_SIZE = 100

export interface Page<T> {
  readonly items: readonly T[]
  readonly hasNextPage: boolean
  readonly endCursor: string | null
}

/** Collects up to `limit` items by following cursors, one page of at most 100 at a time. */
export async function collect<T>(limit: number, fetchPage: (first: number, after: string | null) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = []
  let after: string | null = null
  while (items.length < limit) {
    const page: Page<T> = await fetchPage(Math.min(PAGE_SIZE, limit - items.length), after)
    items.push(...page.items)
    if (!page.hasNextPage || page.endCursor === null) break
    after = page.endCursor
  }
  return items.slice(0, limit)
}
