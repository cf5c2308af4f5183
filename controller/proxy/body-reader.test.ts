import { describe, expect, it } from 'vitest'
import { BodyReader, MAX_CHUNK_LINE, MAX_TRAILER_BYTES } from './body-reader.ts'
import { HeadError } from './http-head.ts'

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1')

/** Feeds `text` in pieces of `step` bytes; returns the offset where the body ended in the whole text, or null. */
function endOf(reader: BodyReader, text: string, step = text.length): number | null {
  const whole = bytes(text)
  for (let offset = 0; offset < whole.length; offset += step) {
    const piece = whole.subarray(offset, Math.min(offset + step, whole.length))
    const end = reader.consume(piece, 0)
    if (reader.done) return offset + end
    expect(end).toBe(piece.length)
  }
  return null
}

const chunked = (): BodyReader => new BodyReader({ kind: 'chunked' }, 400)

describe('BodyReader', () => {
  it('takes exactly Content-Length bytes, across pieces, and leaves the next message', () => {
    expect(endOf(new BodyReader({ kind: 'length', length: 5 }, 400), 'helloGET / HTTP/1.1')).toBe(5)
    expect(endOf(new BodyReader({ kind: 'length', length: 5 }, 400), 'helloGET / HTTP/1.1', 2)).toBe(5)
    expect(endOf(new BodyReader({ kind: 'length', length: 5 }, 400), 'hel')).toBeNull()
    expect(new BodyReader({ kind: 'length', length: 0 }, 400).done).toBe(true)
    expect(new BodyReader({ kind: 'none' }, 400).done).toBe(true)
  })

  it('never ends a close-delimited body by itself', () => {
    const reader = new BodyReader({ kind: 'close' }, 502)
    expect(reader.consume(bytes('anything at all'), 3)).toBe(15)
    expect(reader.done).toBe(false)
    expect(reader.closeDelimited).toBe(true)
  })

  const body = '5\r\nhello\r\n1a;name=value;q="x y"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n'
  it.each([1, 2, 3, 7, body.length])('finds the end of a chunked body with extensions and trailers, fed %d bytes at a time', (step) => {
    expect(endOf(chunked(), `${body}GET / HTTP/1.1\r\n\r\n`, step)).toBe(body.length)
  })

  it('ends a chunked body without trailers at the empty line, upper-case hex included', () => {
    expect(endOf(chunked(), 'A\r\n0123456789\r\n0\r\n\r\nNEXT')).toBe(20)
  })

  it.each([
    ['a missing size', '\r\nhello\r\n0\r\n\r\n'],
    ['a non-hex size', 'g\r\nhello\r\n0\r\n\r\n'],
    ['a signed size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['whitespace after the size', '5 \r\nhello\r\n0\r\n\r\n'],
    ['a size that overflows', `${'f'.repeat(14)}\r\n`],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'],
    ['data not followed by CRLF', '5\r\nhelloXX0\r\n\r\n'],
    ['a bare LF after data', '5\r\nhello\n0\r\n\r\n'],
    ['a control character in an extension', '5;a=\x01\r\nhello\r\n0\r\n\r\n'],
    ['a bare LF in a trailer', '0\r\nX: 1\n\r\n'],
    ['a CR not followed by LF in a trailer', '0\r\nX: 1\rY\r\n\r\n'],
    ['an extension longer than the cap', `5;${'a'.repeat(MAX_CHUNK_LINE)}\r\nhello\r\n0\r\n\r\n`],
    ['trailers longer than the cap', `0\r\n${`X: ${'a'.repeat(100)}\r\n`.repeat(Math.ceil(MAX_TRAILER_BYTES / 100))}\r\n`],
  ])('refuses %s with the reader\'s status', (_name, text) => {
    const reader = new BodyReader({ kind: 'chunked' }, 502)
    let error: unknown
    try {
      endOf(reader, text)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(HeadError)
    expect((error as HeadError).status).toBe(502)
  })
})
