/**
 * Opaque pagination cursors: base64url of a JSON array `[list, ...key]`. The list name makes
 * a cursor from one list unusable on another; the key is the keyset of the last row seen.
 */

import { BadCursorError } from './errors.ts'

export { BadCursorError }

export type CursorField = 'string' | 'number'
export type CursorKey<S extends readonly CursorField[]> = { -readonly [I in keyof S]: S[I] extends 'number' ? number : string }

export function encodeCursor(list: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url')
}

/**
 * Decodes a cursor of `list` whose key has the given field types.
 *
 * @example
 * const [createdAt, id] = decodeCursor('rollouts', after, ['number', 'string'])
 */
export function decodeCursor<const S extends readonly CursorField[]>(list: string, cursor: string, shape: S): CursorKey<S> {
  const bad = (why: string): BadCursorError =>
    new BadCursorError(`invalid cursor "${cursor.length > 48 ? `${cursor.slice(0, 48)}…` : cursor}" for ${list}: ${why}`)
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('not a cursor returned by this API')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw bad('not a cursor returned by this API')
  }
  if (!Array.isArray(value) || typeof value[0] !== 'string') throw bad('not a cursor returned by this API')
  if (value[0] !== list) throw bad('it belongs to another list')
  if (value.length !== shape.length + 1) throw bad('not a cursor returned by this API')
  const key = value.slice(1)
  shape.forEach((type, i) => {
    const field: unknown = key[i]
    const ok = type === 'number' ? typeof field === 'number' && Number.isFinite(field) : typeof field === 'string'
    if (!ok) throw bad('not a cursor returned by this API')
  })
  return key as CursorKey<S>
}
