import { UsageError } from './errors.ts'

/** `--limit N`: a whole number from 1 to `max`, else a usage error naming the flag. */
export function parseLimit(raw: string | undefined, { fallback, max, command }: { fallback: number; max: number; command: string }): number {
  if (raw === undefined) return fallback
  if (!/^[0-9]{1,7}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(`--limit must be a whole number from 1 to ${max}, not ${JSON.stringify(raw)}`, command)
  }
  return Number(raw)
}
