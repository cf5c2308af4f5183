import { describe, expect, it } from 'vitest'
import { clearVerifiedCache, DEFAULT_SCRYPT, isScryptHash, issueToken, parseIssuedToken, scryptHash, scryptRuns, scryptVerify, sha256Hex } from './token-hash.ts'

const ID = '0f8e2b1c-3d4a-4b5c-8d6e-7f8091a2b3c4'
const CHEAP = { ln: 10, r: 8, p: 1 }

describe('issued tokens', () => {
  it('are sentra_<id without dashes>_<43 base64url characters>, and parse back to the id', () => {
    const token = issueToken(ID)
    expect(token).toMatch(/^sentra_0f8e2b1c3d4a4b5c8d6e7f8091a2b3c4_[A-Za-z0-9_-]{43}$/)
    expect(parseIssuedToken(token)).toEqual({ id: ID })
    expect(issueToken(ID)).not.toBe(token)
  })

  it('parse nothing else: old tokens, chosen tokens, near misses and hostile strings', () => {
    const secret = 'A'.repeat(43)
    for (const text of [
      `sentra_${'a'.repeat(43)}`, // issued before 009
      'my-admin-token',
      '',
      `sentra_${'0'.repeat(31)}_${secret}`, // short id
      `sentra_${'0'.repeat(33)}_${secret}`,
      `sentra_${'0'.repeat(32)}_${secret}x`, // long secret
      `sentra_${'0'.repeat(32)}_${secret.slice(1)}`,
      `sentra_${'A'.repeat(32)}_${secret}`, // upper-case hex
      `sentra_${'0'.repeat(32)}_${secret}\n`,
      ` sentra_${'0'.repeat(32)}_${secret}`,
      `sentra_${'0'.repeat(32)}_${'+'.repeat(43)}`,
      `SENTRA_${'0'.repeat(32)}_${secret}`,
    ]) {
      expect(parseIssuedToken(text), JSON.stringify(text)).toBeNull()
    }
    expect(() => issueToken('not-a-uuid')).toThrow(TypeError)
  })
})

describe('scrypt hashes', () => {
  it('carry their parameters and a fresh salt, and never the token', async () => {
    const token = issueToken(ID)
    const a = await scryptHash(token)
    const b = await scryptHash(token)
    expect(a).toMatch(new RegExp(`^\\$scrypt\\$ln=${DEFAULT_SCRYPT.ln},r=${DEFAULT_SCRYPT.r},p=${DEFAULT_SCRYPT.p}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`))
    expect(a).not.toBe(b)
    expect(a).not.toContain(token.slice(-43))
    expect(isScryptHash(a)).toBe(true)
    expect(isScryptHash(sha256Hex(token))).toBe(false)
    expect(a.length).toBeLessThanOrEqual(255)
  })

  it('verify the token, refuse any other, and verify hashes made with other parameters', async () => {
    clearVerifiedCache()
    const token = issueToken(ID)
    const stored = await scryptHash(token, CHEAP)
    expect(await scryptVerify(token, stored)).toBe(true)
    expect(await scryptVerify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, stored)).toBe(false)
    expect(await scryptVerify(token, await scryptHash(issueToken(ID), CHEAP))).toBe(false)
    expect(await scryptVerify(token, await scryptHash(token, { ln: 11, r: 4, p: 2 }))).toBe(true)
  })

  it('remember a success (no second computation) only for the same stored hash', async () => {
    clearVerifiedCache()
    const token = issueToken(ID)
    const stored = await scryptHash(token, CHEAP)
    expect(await scryptVerify(token, stored)).toBe(true)
    const before = scryptRuns()
    expect(await scryptVerify(token, stored)).toBe(true)
    expect(scryptRuns()).toBe(before)
    // Re-hashed (new salt or parameters): computed again.
    expect(await scryptVerify(token, await scryptHash(token, CHEAP))).toBe(true)
    expect(scryptRuns()).toBe(before + 2)
    // Failures are not remembered as successes.
    const other = issueToken(ID)
    expect(await scryptVerify(other, stored)).toBe(false)
    expect(await scryptVerify(other, stored)).toBe(false)
  })

  it('share one computation among concurrent checks of the same token, even beyond the queue', async () => {
    clearVerifiedCache()
    const token = issueToken(ID)
    const stored = await scryptHash(token, CHEAP)
    const before = scryptRuns()
    const results = await Promise.all(Array.from({ length: 200 }, () => scryptVerify(token, stored)))
    expect(results.every((ok) => ok === true)).toBe(true)
    expect(scryptRuns()).toBe(before + 1)
  })

  it('refuse malformed or out-of-bounds stored values without computing', async () => {
    const token = issueToken(ID)
    const good = await scryptHash(token, CHEAP)
    const before = scryptRuns()
    for (const stored of [
      sha256Hex(token),
      '',
      good.replace('ln=10', 'ln=30'), // 2^30 × 8 × 128 bytes: refused, not attempted
      good.replace('ln=10', 'ln=9'),
      good.replace('r=8', 'r=99'),
      good.replace('p=1', 'p=0'),
      good.replace('$scrypt$', '$argon2id$'),
      `${good}$extra`,
      good.replace(/\$[^$]+$/, '$'),
    ]) {
      expect(await scryptVerify(token, stored), stored).toBe(false)
    }
    expect(scryptRuns()).toBe(before)
    await expect(scryptHash(token, { ln: 25, r: 8, p: 1 })).rejects.toThrow(TypeError)
  })

  it('bound the work a flood of wrong secrets can cause: beyond the queue they fail at once', async () => {
    clearVerifiedCache()
    const stored = await scryptHash(issueToken(ID), CHEAP)
    const before = scryptRuns()
    const results = await Promise.all(Array.from({ length: 200 }, () => scryptVerify(issueToken(ID), stored)))
    expect(results.every((ok) => ok === false)).toBe(true)
    const ran = scryptRuns() - before
    expect(ran).toBeGreaterThan(0)
    expect(ran).toBeLessThan(200)
    // Afterwards the slots are free again.
    const token = issueToken(ID)
    expect(await scryptVerify(token, await scryptHash(token, CHEAP))).toBe(true)
  })
})
