import type { Json } from './models.ts'

/** Row and model value conversions shared by the repositories. */

/** Epoch ms from a Date; rejects invalid dates rather than storing NaN. */
export function toMs(date: Date): number {
  const ms = date.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('invalid Date')
  return ms
}

export function toMsOrNull(date: Date | null): number | null {
  return date === null ? null : toMs(date)
}

/** mysql2 may hand BIGINT back as a string; SQLite as a number. */
export function toDate(ms: number | string | bigint): Date {
  return new Date(Number(ms))
}

export function toDateOrNull(ms: number | string | bigint | null): Date | null {
  return ms === null ? null : toDate(ms)
}

let lastMs = 0
/** Date.now(), strictly increasing within this process, so rows written in order sort in order. */
export function monotonicNow(): number {
  lastMs = Math.max(Date.now(), lastMs + 1)
  return lastMs
}

/** JSON text of an object (not an array or null); throws TypeError for values JSON cannot hold. */
export function toJsonText(value: object, what: string): string {
  if (value === null || Array.isArray(value)) throw new TypeError(`${what} must be a JSON object`)
  return JSON.stringify(value)
}

/** Parses a JSON object column; a damaged value names where it came from. */
export function parseJsonObject<T = { [key: string]: Json }>(text: string, where: string): T {
  try {
    return JSON.parse(text) as T
  } catch (error) {
    throw new Error(`stored JSON in ${where} is not valid: ${(error as Error).message}`)
  }
}

/**
 * A JSON object column's text (as {@link toJsonText}) and the object as it will read back from
 * the store (undefined dropped, NaN as null), parsed from that text: serialised once.
 */
export function storedJson<T extends object>(value: T, what: string): { text: string; copy: T } {
  const text = toJsonText(value, what)
  return { text, copy: JSON.parse(text) as T }
}
