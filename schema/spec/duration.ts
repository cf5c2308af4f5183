/** Durations as users write them in specs: `500ms`, `20s`, `5m`, `1h`, `1m30s`, `1.5h`. */

/** The longest duration a spec may name. Anything longer is almost certainly a typo. */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const
type Unit = keyof typeof UNIT_MS
const UNIT_ORDER: readonly Unit[] = ['h', 'm', 's', 'ms']

/** Thrown by {@link parseDuration}; the message is plain English and names no field. */
export class DurationError extends Error {
  override readonly name = 'DurationError'
}

const PART = /(\d+(?:\.\d+)?)([a-zA-Zµ]*)/y

/**
 * Parses a duration into milliseconds (rounded to a whole millisecond).
 *
 * Units are `h`, `m`, `s` and `ms`, largest first, each at most once (`1h30m`, `1m30s`).
 * `0` alone is accepted. Negative values, missing or unknown units and anything over
 * 24h throw a {@link DurationError}.
 *
 * @example parseDuration('1m30s') // 90000
 */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new DurationError('must be a duration such as "30s"')
  if (text.length === 0) throw new DurationError('is empty; write a duration such as "30s"')
  if (text.length > 64) throw new DurationError('is too long to be a duration; write one such as "30s"')
  if (/\s/.test(text)) throw new DurationError(`must not contain spaces (got "${text}"); write it as "${text.replace(/\s+/g, '')}"`)
  if (text.startsWith('-')) throw new DurationError(`must not be negative (got "${text}")`)
  if (text.startsWith('+')) throw new DurationError(`must not have a sign (got "${text}")`)
  if (text === '0') return 0

  let total = 0
  let lastRank = -1
  PART.lastIndex = 0
  let pos = 0
  while (pos < text.length) {
    PART.lastIndex = pos
    const match = PART.exec(text)
    if (!match) throw new DurationError(`is not a duration (got "${text}"); write one such as "30s", "5m" or "1m30s"`)
    const [whole, digits, rawUnit] = match as unknown as [string, string, string]
    pos += whole.length
    if (rawUnit === '') {
      throw new DurationError(
        pos === text.length && lastRank === -1
          ? `needs a unit (got "${text}"); write "${text}s" for seconds or "${text}ms" for milliseconds`
          : `needs a unit after ${digits} (got "${text}")`,
      )
    }
    if (!Object.hasOwn(UNIT_MS, rawUnit)) {
      throw new DurationError(`has an unknown unit "${rawUnit}" (got "${text}"); use ms, s, m or h, e.g. "24h"`)
    }
    const unit = rawUnit as Unit
    const rank = UNIT_ORDER.indexOf(unit)
    if (rank <= lastRank) {
      throw new DurationError(`must list units from largest to smallest, each once (got "${text}"); e.g. "1m30s"`)
    }
    lastRank = rank
    total += Number(digits) * UNIT_MS[unit]
  }
  if (!Number.isFinite(total) || total > MAX_DURATION_MS) {
    throw new DurationError(`is too long (got "${text}"); the limit is 24h`)
  }
  return Math.round(total)
}

/** Formats milliseconds the way users write durations: 90000 -> "1m30s", 250 -> "250ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms)
  if (ms === 0) return '0s'
  let rest = Math.round(ms)
  let out = ''
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit]
    const n = Math.floor(rest / size)
    if (n > 0) {
      out += `${n}${unit}`
      rest -= n * size
    }
  }
  return out
}
