import { randomFillSync } from 'node:crypto'

/** Random bytes drawn in bulk: one system call per 409 ids instead of one per id. */
const POOL_BYTES = 4096
const RANDOM_BYTES = 10
let pool = Buffer.alloc(0)
let offset = POOL_BYTES

/**
 * A new id for any row: a UUID version 7 (RFC 9562), made by the app so MySQL needs no
 * RETURNING. Its first 48 bits are the time in milliseconds and the other 74 are random, so
 * ids are unique without coordination and sort by the time they were made. That order is
 * what the indexes want: a new row's id lands on the newest page of the primary-key index
 * (the clustered index itself on MySQL) instead of a random one, so the evidence rows that
 * ticks write together share pages (docs/benchmarks.md, "Group commit and time-ordered ids").
 */
export function newId(now: number = Date.now()): string {
  if (offset + RANDOM_BYTES > POOL_BYTES) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES))
    offset = 0
  }
  const bytes = Buffer.allocUnsafe(16)
  bytes.writeUIntBE(Number.isFinite(now) ? Math.max(0, Math.min(Math.floor(now), 2 ** 48 - 1)) : 0, 0, 6)
  pool.copy(bytes, 6, offset, offset + RANDOM_BYTES)
  offset += RANDOM_BYTES
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
