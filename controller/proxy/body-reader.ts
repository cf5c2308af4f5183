import { HeadError, type Framing } from './http-head.ts'

/** Longest chunk-size line (size, extensions) or trailer section accepted in a chunked body. */
export const MAX_CHUNK_LINE = 4096
export const MAX_TRAILER_BYTES = 16 * 1024
/** Hex digits in a chunk size: 13 keep it below 2^53 (a 4 PiB chunk), enough for anything real. */
const MAX_SIZE_DIGITS = 13

// states of the chunked-body scanner
const State = { Size: 0, Extension: 1, SizeLf: 2, Data: 3, DataCr: 4, DataLf: 5, TrailerLine: 6, TrailerLf: 7, Done: 8 } as const
type State = (typeof State)[keyof typeof State]

/**
 * Finds where one message body ends in a byte stream, without copying or changing it: the
 * proxy forwards bodies verbatim (chunked framing included) and needs only to know which
 * bytes belong to this message and which to the next one. A chunked body is checked
 * strictly (hex size, CRLF after every line and every chunk, bounded extensions and
 * trailers), so that the proxy and the receiver agree on where the message ends.
 */
export class BodyReader {
  #framing: Framing['kind']
  #remaining: number
  #state: State = State.Size as State
  #digits = 0
  #lineBytes = 0
  #trailerBytes = 0
  #status: number

  /** `status` is what a framing error answers (400 for a request body, 502 for a response's). */
  constructor(framing: Framing, status: number) {
    this.#framing = framing.kind
    this.#remaining = framing.kind === 'length' ? framing.length : 0
    this.#status = status
    if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) this.#state = State.Done
  }

  /** Whether the whole body has been seen. A close-delimited body is done only at the connection's end. */
  get done(): boolean {
    return this.#state === State.Done
  }

  get closeDelimited(): boolean {
    return this.#framing === 'close'
  }

  /**
   * Consumes body bytes of `chunk` from `start`; returns the index just past the last byte
   * that belongs to the body (== chunk.length when all of it does). Throws HeadError on a
   * malformed chunked body.
   */
  consume(chunk: Buffer, start: number): number {
    if (this.#state === State.Done) return start
    if (this.#framing === 'close') return chunk.length
    if (this.#framing === 'length') {
      const take = Math.min(this.#remaining, chunk.length - start)
      this.#remaining -= take
      if (this.#remaining === 0) this.#state = State.Done
      return start + take
    }
    return this.#chunked(chunk, start)
  }

  #fail(message: string): never {
    throw new HeadError(this.#status, `malformed chunked body: ${message}`)
  }

  #chunked(chunk: Buffer, start: number): number {
    let i = start
    const end = chunk.length
    while (i < end) {
      const byte = chunk[i] as number
      switch (this.#state) {
        case State.Size: {
          const digit = hexValue(byte)
          if (digit >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) this.#fail('chunk size too large')
            this.#remaining = this.#remaining * 16 + digit
            this.#lineBytes++
            i++
          } else if (this.#digits === 0) this.#fail('missing chunk size')
          else if (byte === 0x3b /* ; */) {
            this.#state = State.Extension
            i++
          } else if (byte === 0x0d) {
            this.#state = State.SizeLf
            i++
          } else this.#fail('invalid character in chunk size') // whitespace too: receivers disagree on it
          break
        }
        case State.Extension: {
          // extensions are passed through, not interpreted: visible ASCII, obs-text, SP, HTAB
          if (byte === 0x0d) this.#state = State.SizeLf
          else if (byte < 0x20 ? byte !== 0x09 : byte === 0x7f) this.#fail('control character in chunk extension')
          if (++this.#lineBytes > MAX_CHUNK_LINE) this.#fail('chunk extension too long')
          i++
          break
        }
        case State.SizeLf: {
          if (byte !== 0x0a) this.#fail('chunk size line not ended by CRLF')
          i++
          this.#digits = 0
          this.#lineBytes = 0
          if (this.#remaining === 0) this.#state = State.TrailerLine
          else this.#state = State.Data
          break
        }
        case State.Data: {
          const take = Math.min(this.#remaining, end - i)
          this.#remaining -= take
          i += take
          if (this.#remaining === 0) this.#state = State.DataCr
          break
        }
        case State.DataCr:
          if (byte !== 0x0d) this.#fail('chunk data not followed by CRLF')
          this.#state = State.DataLf
          i++
          break
        case State.DataLf:
          if (byte !== 0x0a) this.#fail('chunk data not followed by CRLF')
          this.#state = State.Size
          i++
          break
        case State.TrailerLine: {
          // a trailer section: header lines, ended by an empty line
          if (byte === 0x0d) {
            this.#state = State.TrailerLf
          } else {
            if (byte === 0x0a || byte === 0) this.#fail('bare LF or NUL in trailer')
            this.#lineBytes++
          }
          if (++this.#trailerBytes > MAX_TRAILER_BYTES) this.#fail('trailer section too long')
          i++
          break
        }
        case State.TrailerLf: {
          if (byte !== 0x0a) this.#fail('trailer line not ended by CRLF')
          i++
          if (this.#lineBytes === 0) {
            this.#state = State.Done
            return i
          }
          this.#lineBytes = 0
          this.#state = State.TrailerLine
          break
        }
        default:
          return i
      }
    }
    return i
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37
  return -1
}
