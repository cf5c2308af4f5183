import type { Page } from './models.ts'

/** Throws unless `first` is a usable page size. */
export function checkFirst(first: number): void {
  if (!Number.isInteger(first) || first < 0) throw new RangeError(`first must be a non-negative integer, got ${first}`)
}

/**
 * Builds a page from `first + 1` fetched rows: the extra row only says there is a next page.
 */
export function pageOf<R, T>(rows: readonly R[], first: number, toNode: (row: R) => T, cursorOf: (row: R) => string): Page<T> {
  return {
    items: rows.slice(0, first).map((row) => ({ node: toNode(row), cursor: cursorOf(row) })),
    hasNextPage: rows.length > first,
  }
}
