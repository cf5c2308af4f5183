/**
 * Text from the API shown in a terminal: control characters (escape sequences a hostile
 * reason could carry, newlines that would break a table) become spaces.
 */
export function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
}

/** At most `width` characters, ending in "…" when cut. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
}

/** Pretty JSON with a final newline, for `--output json`. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/** A number as people read it: up to 4 significant digits, no exponent for ordinary values. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-'
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 1e6 || abs < 1e-4) return value.toExponential(2)
  return String(Number(value.toPrecision(4)))
}
