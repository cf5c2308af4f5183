import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * How API tokens are hashed at rest (docs/security.md, "Tokens and per-application scopes").
 *
 * Issued tokens are `sentra_<id>_<secret>`: the row id (32 hex digits, a UUID without its
 * dashes) and 32 random bytes (43 base64url characters). The id finds the row; the whole
 * token is checked against a salted scrypt hash stored with its parameters, so the costs
 * can be raised later without invalidating tokens already issued.
 *
 * Tokens without an id (the ones users chose for SENTRA_ADMIN_TOKEN, and every token
 * issued before migration 009) are kept as sha256 and found by it: a token that carries no
 * id can only be found through a deterministic function of itself, and any such lookup
 * key lets an attacker who holds the database test guesses as fast as sha256 does, so
 * scrypt on top would cost every login and protect nothing. Generated tokens have 256 bits
 * of entropy, which sha256 protects fine; a chosen SENTRA_ADMIN_TOKEN must be as random.
 */

/** A token Sentra issued (`sentra_<id>_<secret>`): the parts, or null for any other string. */
export function parseIssuedToken(token: string): { id: string } | null {
  const match = ISSUED.exec(token)
  if (!match?.[1]) return null
  const hex = match[1]
  return { id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` }
}

const ISSUED = /^sentra_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A new token for the row `id` (a UUID): `sentra_` + id without dashes + `_` + 32 random bytes, base64url. */
export function issueToken(id: string): string {
  if (!UUID.test(id)) throw new TypeError('a token id must be a lowercase UUID')
  return `sentra_${id.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`
}

/** sha256 of a token, hex: how tokens without an embedded id (and tokens from before 009) are stored. */
export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number
  r: number
  p: number
}

/** 2^14 × 8 × 128 bytes = 16 MiB and some tens of milliseconds per hash. */
export const DEFAULT_SCRYPT: ScryptParams = { ln: 14, r: 8, p: 1 }
const KEY_LENGTH = 32
let runs = 0

/** How many scrypt computations this process has run (tests check that refusals run none). */
export function scryptRuns(): number {
  return runs
}
const SALT_LENGTH = 16
// Parameters read back from the database are bounded: a tampered row must not make one
// verification take minutes or gigabytes.
const MAX_MEMORY = 256 * 1024 * 1024
const STORED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/

function paramsProblem({ ln, r, p }: ScryptParams): string | null {
  if (!Number.isInteger(ln) || ln < 10 || ln > 20) return 'ln must be 10 to 20'
  if (!Number.isInteger(r) || r < 1 || r > 32) return 'r must be 1 to 32'
  if (!Number.isInteger(p) || p < 1 || p > 16) return 'p must be 1 to 16'
  if (128 * 2 ** ln * r > MAX_MEMORY) return 'N × r needs more than 256 MiB'
  return null
}

function derive(token: string, salt: Buffer, { ln, r, p }: ScryptParams, length: number): Promise<Buffer> {
  runs++
  return new Promise((resolve, reject) => {
    scrypt(token, salt, length, { N: 2 ** ln, r, p, maxmem: MAX_MEMORY + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

/** `$scrypt$ln=14,r=8,p=1$<salt>$<hash>` (PHC-style, base64url without padding), with a fresh random salt. */
export async function scryptHash(token: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const problem = paramsProblem(params)
  if (problem) throw new TypeError(`scrypt parameters: ${problem}`)
  const salt = randomBytes(SALT_LENGTH)
  const key = await limited(() => derive(token, salt, params, KEY_LENGTH))
  if (!key) throw new Error('too many token hashes in progress; try again')
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** True when `token` matches a stored scrypt hash; false for any other stored form, and when too busy. */
export async function scryptVerify(token: string, stored: string): Promise<boolean> {
  const cacheKey = cacheKeyOf(token)
  const cached = verified.get(cacheKey)
  if (cached !== undefined && cached.stored === stored && Date.now() - cached.at < VERIFIED_TTL_MS) {
    // Most recently used last: the oldest entry is evicted first.
    verified.delete(cacheKey)
    verified.set(cacheKey, cached)
    return true
  }
  // A page that has just signed in sends a burst of requests with the same new token: they
  // share one hash instead of queueing one each (which, two at a time, could overflow the
  // queue on a busy machine and refuse a valid token).
  const flightKey = `${cacheKey} ${stored}`
  const pending = inFlight.get(flightKey)
  if (pending) return pending
  const verifying = computeAndRemember(token, stored, cacheKey).finally(() => inFlight.delete(flightKey))
  inFlight.set(flightKey, verifying)
  return verifying
}

const inFlight = new Map<string, Promise<boolean>>()

async function computeAndRemember(token: string, stored: string, cacheKey: string): Promise<boolean> {
  const match = STORED.exec(stored)
  if (!match) return false
  const params: ScryptParams = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) }
  if (paramsProblem(params)) return false
  const salt = Buffer.from(match[4]!, 'base64url')
  const expected = Buffer.from(match[5]!, 'base64url')
  const key = await limited(() => derive(token, salt, params, expected.length))
  if (!key || key.length !== expected.length || !timingSafeEqual(key, expected)) return false
  verified.delete(cacheKey)
  verified.set(cacheKey, { stored, at: Date.now() })
  while (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value!)
  return true
}

/** True for a stored value in the scrypt form (not a sha256 of an id-less token). */
export function isScryptHash(stored: string): boolean {
  return stored.startsWith('$scrypt$')
}

// Successful verifications are remembered so a client sending the same token on every
// request pays scrypt once, not per request. The key is an HMAC of the token under a
// per-process random key (the cache holds nothing an attacker could test guesses
// against); a hit also needs the stored hash to be unchanged. The row itself is still
// read on every request, so revocation and expiry take effect at once in every process:
// the cache only saves the hash computation.
/** How long a successful verification is remembered. */
export const VERIFIED_TTL_MS = 10 * 60_000
const VERIFIED_MAX = 1000
const verified = new Map<string, { stored: string; at: number }>()
const CACHE_KEY = randomBytes(32)

function cacheKeyOf(token: string): string {
  return createHmac('sha256', CACHE_KEY).update(token, 'utf8').digest('base64url')
}

/** Forgets every remembered verification (tests). */
export function clearVerifiedCache(): void {
  verified.clear()
}

// scrypt runs on libuv's thread pool (4 threads by default, shared with file and DNS
// work). At most this many hashes run at once and this many wait; beyond that a
// verification fails at once, so a flood of well-formed tokens with a known id and wrong
// secrets burns bounded CPU and memory, and cannot starve the rest of the process.
const MAX_RUNNING = 2
const MAX_WAITING = 64
let running = 0
const waiting: (() => void)[] = []

async function limited<T>(work: () => Promise<T>): Promise<T | null> {
  if (running >= MAX_RUNNING) {
    if (waiting.length >= MAX_WAITING) return null
    await new Promise<void>((resolve) => waiting.push(resolve))
  } else {
    running++
  }
  try {
    return await work()
  } finally {
    // Hand the slot straight to the next waiter, or give it back.
    const next = waiting.shift()
    if (next) next()
    else running--
  }
}
