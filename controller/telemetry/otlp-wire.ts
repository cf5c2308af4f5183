/**
 * The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), only as much
 * of it as OTLP needs: a reader that walks the fields of one message and skips what it does
 * not know, and a writer for the two small responses we send. No generated code, no
 * reflection: the OTLP decoders (otlp-proto.ts) switch on field numbers themselves.
 */

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const

/** A payload that is not valid protobuf, or not the message we expected; the text says where. */
export class WireError extends Error {
  override readonly name = 'WireError'
}

/** One field of a message: its number, wire type, and where its value starts. */
export interface FieldHeader {
  field: number
  wireType: number
}

/**
 * Reads the fields of one message from `buf[start, end)`. Each `next()` returns the next
 * field's header; the caller then reads the value with the method of its wire type, or calls
 * `skip(wireType)`. Every read checks bounds, so a truncated or lying length is a WireError,
 * never an out-of-range read.
 */
export class WireReader {
  readonly #buf: Buffer
  /** One view over the whole buffer, shared by nested readers (fixed-size reads without allocating). */
  readonly #view: DataView
  #pos: number
  readonly #end: number

  constructor(buf: Uint8Array, start = 0, end = buf.length, view?: DataView) {
    // A Buffer over the same memory (no copy): its native toString decodes strings and hex fast.
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
    this.#view = view ?? new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength)
    this.#pos = start
    this.#end = end
  }

  get done(): boolean {
    return this.#pos >= this.#end
  }

  next(): FieldHeader {
    const key = this.varint()
    const field = Math.floor(key / 8)
    const wireType = key % 8
    if (field === 0) throw new WireError('field number 0 is not allowed')
    return { field, wireType }
  }

  /** A varint as a JS number; values past 2^53 lose precision (OTLP ints we read are small or time). */
  varint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i += 1) {
      if (this.#pos >= this.#end) throw new WireError('truncated varint')
      const byte = this.#buf[this.#pos++]!
      result += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) return result
      scale *= 128
    }
    throw new WireError('varint longer than 10 bytes')
  }

  /** A varint as a signed 64-bit integer (int64 fields: negative values use ten bytes). */
  int64(): number {
    const start = this.#pos
    const unsigned = this.varint()
    // Two's complement: a ten-byte varint with the top bit set is negative.
    if (this.#pos - start === 10 && unsigned >= 2 ** 63) return unsigned - 2 ** 64
    return unsigned
  }

  bool(): boolean {
    return this.varint() !== 0
  }

  /** fixed64 as a JS number (nanosecond timestamps: exact to ~256 ns, plenty for ms). */
  fixed64(): number {
    const at = this.#take(8)
    return this.#view.getUint32(at + 4, true) * 2 ** 32 + this.#view.getUint32(at, true)
  }

  double(): number {
    return this.#view.getFloat64(this.#take(8), true)
  }

  fixed32(): number {
    return this.#view.getUint32(this.#take(4), true)
  }

  /** A length-delimited value's bounds: [start, end) in the buffer. */
  bytesRange(): { start: number; end: number } {
    const length = this.varint()
    const start = this.#pos
    if (length > this.#end - start) throw new WireError(`length ${length} runs past the end of its message`)
    this.#pos = start + length
    return { start, end: start + length }
  }

  bytes(): Buffer {
    const { start, end } = this.bytesRange()
    return this.#buf.subarray(start, end)
  }

  /** Lowercase hex of a bytes field (ids). */
  hex(): string {
    const { start, end } = this.bytesRange()
    return this.#buf.toString('hex', start, end)
  }

  /** UTF-8; invalid sequences become U+FFFD, as protobuf runtimes that do not reject them do. */
  string(): string {
    const { start, end } = this.bytesRange()
    return this.#buf.toString('utf8', start, end)
  }

  /** A reader over an embedded message. */
  message(): WireReader {
    const { start, end } = this.bytesRange()
    return new WireReader(this.#buf, start, end, this.#view)
  }

  /** Skips a field we do not read, whatever its wire type (groups are refused: OTLP has none). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE.VARINT:
        this.varint()
        return
      case WIRE.I64:
        this.#take(8)
        return
      case WIRE.LEN:
        this.bytesRange()
        return
      case WIRE.I32:
        this.#take(4)
        return
      default:
        throw new WireError(`unsupported wire type ${wireType}`)
    }
  }

  /** Checks that a known field came with the wire type its schema says. */
  expect(header: FieldHeader, wireType: number, what: string): void {
    if (header.wireType !== wireType) throw new WireError(`${what} has wire type ${header.wireType}, expected ${wireType}`)
  }

  /** Advances past n bytes; returns where they start. */
  #take(n: number): number {
    if (this.#end - this.#pos < n) throw new WireError('truncated fixed-size field')
    const at = this.#pos
    this.#pos += n
    return at
  }
}

const ENCODER = new TextEncoder()

/** Builds a message field by field; enough for OTLP's responses and google.rpc.Status. */
export class WireWriter {
  readonly #parts: Uint8Array[] = []

  varintField(field: number, value: number): this {
    if (value === 0) return this // proto3: defaults are not written
    this.#parts.push(varint(field * 8 + WIRE.VARINT), varint(value))
    return this
  }

  stringField(field: number, value: string): this {
    if (value === '') return this
    return this.bytesField(field, ENCODER.encode(value))
  }

  bytesField(field: number, value: Uint8Array): this {
    this.#parts.push(varint(field * 8 + WIRE.LEN), varint(value.length), value)
    return this
  }

  fixed64Field(field: number, value: number): this {
    const bytes = Buffer.alloc(8)
    bytes.writeBigUInt64LE(BigInt(Math.round(value)))
    this.#parts.push(varint(field * 8 + WIRE.I64), bytes)
    return this
  }

  /** Any field with raw bytes after its key: for hand-made (also deliberately broken) payloads in tests. */
  rawField(field: number, wireType: number, raw: Uint8Array): this {
    this.#parts.push(varint(field * 8 + wireType), raw)
    return this
  }

  messageField(field: number, message: WireWriter): this {
    return this.bytesField(field, message.finish())
  }

  finish(): Uint8Array {
    return Buffer.concat(this.#parts)
  }
}

function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint`)
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80)
    rest = Math.floor(rest / 128)
  }
  out.push(rest)
  return Uint8Array.from(out)
}
