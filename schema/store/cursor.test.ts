import { describe, expect, it } from 'vitest'
import { BadCursorError, decodeCursor, encodeCursor } from './cursor.ts'

describe('cursors', () => {
  it('round-trip their key and are opaque base64url', () => {
    const cursor = encodeCursor('rollouts', [1767225600000, 'c0ffee00-0000-4000-8000-000000000000'])
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeCursor('rollouts', cursor, ['number', 'string'])).toEqual([1767225600000, 'c0ffee00-0000-4000-8000-000000000000'])
    expect(decodeCursor('applications', encodeCursor('applications', ['名前 🚀']), ['string'])).toEqual(['名前 🚀'])
  })

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['not an array', Buffer.from('{"a":1}').toString('base64url')],
    ['wrong arity', encodeCursor('rollouts', [1])],
    ['wrong field type', encodeCursor('rollouts', ['1', 'x'])],
    ['non-finite number', Buffer.from('["rollouts",1e999,"x"]').toString('base64url')],
    ['another list', encodeCursor('applications', ['x'])],
  ])('reject a cursor that is %s with BadCursorError', (_why, cursor) => {
    expect(() => decodeCursor('rollouts', cursor, ['number', 'string'])).toThrow(BadCursorError)
    try {
      decodeCursor('rollouts', cursor, ['number', 'string'])
    } catch (error) {
      expect((error as BadCursorError).code).toBe('BAD_USER_INPUT')
      expect((error as Error).message).toMatch(/^invalid cursor ".*" for rollouts: /)
    }
  })

  it('shortens a long bad cursor in the message', () => {
    expect(() => decodeCursor('rollouts', 'x'.repeat(500), ['string'])).toThrow(/"x{48}…"/)
  })
})
