import { UsageError } from './errors.ts'

/** The longest reason the API records. */
export const MAX_REASON = 1000

/** `--reason R`: not blank, at most 1000 characters; null when not given. */
export function parseReason(raw: string | undefined, command: string): string | null {
  if (raw === undefined) return null
  if (raw.trim() === '') throw new UsageError('--reason must not be empty', command)
  if (raw.length > MAX_REASON) throw new UsageError(`--reason must be at most ${MAX_REASON} characters (got ${raw.length})`, command)
  return raw
}
