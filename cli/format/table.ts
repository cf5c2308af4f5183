import { clean } from './text.ts'

/**
 * An aligned table: a header row and one row per item, columns separated by two spaces,
 * cells cleaned of control characters and never cut (ids must stay whole; callers shorten
 * long text such as reasons). Ends with a newline.
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const last = headers.length - 1
  const cells = [headers, ...rows].map((row) => headers.map((_, i) => clean(row[i] ?? '')))
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
  return cells.map((row) => row.map((cell, i) => (i === last ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n'
}

/** Label/value lines aligned on the values. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length))
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${clean(value)}`).join('\n') + '\n'
}
