import { describe, expect, it } from 'vitest'
import { canonicalBytes, ChainVerifier, decisionHash, GENESIS_HASH, verifyChain, type ChainContent, type ChainProblem, type ChainRow } from './decision-chain.ts'

const T0 = Date.parse('2026-02-03T04:05:06.007Z')

/** A well-formed chain of `n` decisions for `rolloutId`. */
function chain(rolloutId: string, n: number): ChainRow[] {
  const rows: ChainRow[] = []
  let prevHash = GENESIS_HASH
  for (let i = 1; i <= n; i++) {
    const content: ChainContent = {
      id: `${rolloutId}-d${i}`,
      rolloutId,
      seq: i * 3,
      chainSeq: i,
      at: T0 + i * 1000,
      action: i === 1 ? 'START' : 'ADVANCE',
      actor: 'controller',
      reason: `step ${i}`,
      stepIndex: i,
      fromWeight: i * 5,
      toWeight: i * 5 + 5,
      evidence: JSON.stringify({ gates: [{ name: 'errors', verdict: 'PASS', value: 0.001 * i }] }),
      prevHash,
    }
    const hash = decisionHash(content)
    rows.push({ ...content, hash })
    prevHash = hash
  }
  return rows
}

/** Recomputes a row's hash as an attacker who knows the format would. */
function rehash(row: ChainRow): ChainRow {
  return { ...row, hash: decisionHash(row) }
}

describe('decisionHash', () => {
  it('is lowercase hex sha256 and covers every field', () => {
    const [row] = chain('r', 1) as [ChainRow]
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/)
    const fields: (keyof ChainContent)[] = ['id', 'rolloutId', 'seq', 'chainSeq', 'at', 'action', 'actor', 'reason', 'stepIndex', 'fromWeight', 'toWeight', 'evidence', 'prevHash']
    for (const field of fields) {
      const changed = { ...row, [field]: typeof row[field] === 'number' ? (row[field] as number) + 1 : `${row[field] as string}x` }
      expect(decisionHash(changed), field).not.toBe(row.hash)
    }
  })

  it('is unambiguous: moving text between adjacent fields changes the hash', () => {
    const [row] = chain('r', 1) as [ChainRow]
    const a = { ...row, actor: 'ab', reason: 'c' }
    const b = { ...row, actor: 'a', reason: 'bc' }
    const c = { ...row, actor: 'a\nreason 1:b', reason: '' }
    expect(new Set([decisionHash(a), decisionHash(b), decisionHash(c)]).size).toBe(3)
  })

  it('hashes UTF-8 bytes with byte-length prefixes', () => {
    const [row] = chain('r', 1) as [ChainRow]
    const text = canonicalBytes({ ...row, reason: 'Ω ✅ 初回' }).toString('utf8')
    expect(text.startsWith('sentra-decision-chain-v1\nprev_hash 64:0000')).toBe(true)
    expect(text).toContain('\nreason 13:Ω ✅ 初回\n')
    expect(text).toContain(`\nat 13:${T0 + 1000}\n`)
  })

  it('refuses a non-integer number rather than hashing something ambiguous', () => {
    const [row] = chain('r', 1) as [ChainRow]
    expect(() => decisionHash({ ...row, stepIndex: 1.5 })).toThrow(RangeError)
    expect(() => decisionHash({ ...row, at: Number.NaN })).toThrow(/at must be an integer/)
  })
})

describe('verifyChain', () => {
  it('accepts intact chains and an empty log', () => {
    expect(verifyChain([])).toEqual({ ok: true, rolloutsChecked: 0, decisionsChecked: 0, brokenRollouts: 0, firstBroken: null, lastHead: null })
    const rows = [...chain('a', 4), ...chain('b', 1)]
    const report = verifyChain(rows)
    expect(report).toMatchObject({ ok: true, rolloutsChecked: 2, decisionsChecked: 5, brokenRollouts: 0, firstBroken: null })
    expect(report.lastHead).toEqual({ rolloutId: 'b', chainSeq: 1, decisionId: 'b-d1', hash: rows[4]!.hash })
  })

  const tampered: { name: string; tamper: (rows: ChainRow[]) => ChainRow[]; at: { chainSeq: number; decisionId: string; problem: ChainProblem } }[] = [
    {
      name: 'a changed reason',
      tamper: (rows) => rows.map((r) => (r.chainSeq === 3 ? { ...r, reason: 'nothing to see here' } : r)),
      at: { chainSeq: 3, decisionId: 'a-d3', problem: 'HASH_MISMATCH' },
    },
    {
      name: 'changed evidence',
      tamper: (rows) => rows.map((r) => (r.chainSeq === 2 ? { ...r, evidence: r.evidence.replace('"PASS"', '"FAIL"') } : r)),
      at: { chainSeq: 2, decisionId: 'a-d2', problem: 'HASH_MISMATCH' },
    },
    {
      name: 'evidence reformatted only (same JSON, other bytes)',
      tamper: (rows) => rows.map((r) => (r.chainSeq === 2 ? { ...r, evidence: JSON.stringify(JSON.parse(r.evidence), null, 1) } : r)),
      at: { chainSeq: 2, decisionId: 'a-d2', problem: 'HASH_MISMATCH' },
    },
    {
      name: 'a changed row whose hash was recomputed: the next link breaks',
      tamper: (rows) => rows.map((r) => (r.chainSeq === 2 ? rehash({ ...r, action: 'PROMOTE' }) : r)),
      at: { chainSeq: 3, decisionId: 'a-d3', problem: 'PREV_HASH_MISMATCH' },
    },
    {
      name: 'a deleted row in the middle',
      tamper: (rows) => rows.filter((r) => r.chainSeq !== 3),
      at: { chainSeq: 4, decisionId: 'a-d4', problem: 'SEQUENCE_GAP' },
    },
    {
      name: 'the first row deleted',
      tamper: (rows) => rows.slice(1),
      at: { chainSeq: 2, decisionId: 'a-d2', problem: 'SEQUENCE_GAP' },
    },
    {
      name: 'a deleted row with the rest renumbered',
      tamper: (rows) => rows.filter((r) => r.chainSeq !== 2).map((r) => (r.chainSeq > 2 ? { ...r, chainSeq: r.chainSeq - 1 } : r)),
      at: { chainSeq: 2, decisionId: 'a-d3', problem: 'PREV_HASH_MISMATCH' },
    },
    {
      name: 'rows given out of order',
      tamper: (rows) => [rows[0]!, rows[2]!, rows[1]!, ...rows.slice(3)],
      at: { chainSeq: 3, decisionId: 'a-d3', problem: 'SEQUENCE_GAP' },
    },
    {
      name: 'two rows swapped by swapping their chain seqs',
      tamper: (rows) => [rows[0]!, { ...rows[2]!, chainSeq: 2 }, { ...rows[1]!, chainSeq: 3 }, ...rows.slice(3)],
      at: { chainSeq: 2, decisionId: 'a-d3', problem: 'PREV_HASH_MISMATCH' },
    },
    {
      name: 'the sequence going back',
      tamper: (rows) => [...rows, { ...rows[1]!, id: 'a-late' }],
      at: { chainSeq: 2, decisionId: 'a-late', problem: 'OUT_OF_ORDER' },
    },
    {
      name: 'a duplicated chain seq',
      tamper: (rows) => [...rows.slice(0, 2), { ...rows[1]!, id: 'a-dup' }, ...rows.slice(2)],
      at: { chainSeq: 2, decisionId: 'a-dup', problem: 'DUPLICATE_SEQ' },
    },
    {
      name: 'an inserted row that claims the next seq: the old next row then repeats it',
      tamper: (rows) => {
        const forged = rehash({ ...rows[2]!, id: 'a-forged', reason: 'forged', prevHash: rows[1]!.hash })
        return [rows[0]!, rows[1]!, forged, ...rows.slice(2)]
      },
      at: { chainSeq: 3, decisionId: 'a-d3', problem: 'DUPLICATE_SEQ' },
    },
    {
      name: 'an inserted row with a made-up hash',
      tamper: (rows) => [rows[0]!, { ...rows[1]!, id: 'a-forged', hash: 'f'.repeat(64) }, ...rows.slice(1).map((r) => ({ ...r, chainSeq: r.chainSeq + 1 }))],
      at: { chainSeq: 2, decisionId: 'a-forged', problem: 'HASH_MISMATCH' },
    },
    {
      name: 'a first row that does not start from the genesis hash',
      tamper: (rows) => [rehash({ ...rows[0]!, prevHash: 'a'.repeat(64) }), ...rows.slice(1)],
      at: { chainSeq: 1, decisionId: 'a-d1', problem: 'PREV_HASH_MISMATCH' },
    },
    {
      name: 'an emptied hash (a row written without one)',
      tamper: (rows) => rows.map((r) => (r.chainSeq === 1 ? { ...r, hash: '' } : r)),
      at: { chainSeq: 1, decisionId: 'a-d1', problem: 'HASH_MISMATCH' },
    },
    {
      name: 'an upper-case hash (not what was computed)',
      tamper: (rows) => rows.map((r) => (r.chainSeq === 4 ? { ...r, hash: r.hash.toUpperCase() } : r)),
      at: { chainSeq: 4, decisionId: 'a-d4', problem: 'HASH_MISMATCH' },
    },
  ]

  it.each(tampered)('reports $name', ({ tamper, at }) => {
    const report = verifyChain([...tamper(chain('a', 5)), ...chain('b', 3)])
    expect(report.ok).toBe(false)
    expect(report.brokenRollouts).toBe(1)
    expect(report.firstBroken).toMatchObject({ rolloutId: 'a', ...at })
    expect(report.firstBroken?.message).toContain(`rollout a, decision ${at.decisionId} at chain seq ${at.chainSeq}`)
  })

  it('reports the first break in row order and counts every broken rollout once', () => {
    const a = chain('a', 3).map((r) => ({ ...r, reason: 'x' }))
    const b = chain('b', 3).filter((r) => r.chainSeq !== 2)
    const report = verifyChain([...chain('c', 2), ...b, ...a])
    expect(report).toMatchObject({ ok: false, rolloutsChecked: 3, decisionsChecked: 7, brokenRollouts: 2 })
    expect(report.firstBroken).toMatchObject({ rolloutId: 'b', chainSeq: 3, problem: 'SEQUENCE_GAP', expected: '2', actual: '3' })
  })

  it('names expected and actual values of a hash mismatch', () => {
    const rows = chain('a', 2)
    const report = verifyChain([rows[0]!, { ...rows[1]!, reason: 'changed' }])
    expect(report.firstBroken).toMatchObject({ problem: 'HASH_MISMATCH', actual: rows[1]!.hash, expected: decisionHash({ ...rows[1]!, reason: 'changed' }) })
  })

  it('reports a row moved to another rollout in both chains', () => {
    const moved = chain('a', 3).map((r) => (r.chainSeq === 1 ? { ...r, rolloutId: 'b' } : r))
    const report = verifyChain(moved)
    expect(report).toMatchObject({ ok: false, rolloutsChecked: 2, brokenRollouts: 2 })
    expect(report.firstBroken).toMatchObject({ rolloutId: 'b', chainSeq: 1, decisionId: 'a-d1', problem: 'HASH_MISMATCH' })
  })

  it('groups interleaved rows per rollout', () => {
    const a = chain('a', 2)
    const b = chain('b', 2)
    expect(verifyChain([a[0]!, b[0]!, a[1]!, b[1]!])).toMatchObject({ ok: true, rolloutsChecked: 2, decisionsChecked: 4 })
  })

  it('resumed from a position, a verifier goes on as if it had never stopped', () => {
    const rows = [...chain('a', 4), ...chain('b', 3)]
    rows[5] = { ...rows[5]!, reason: 'changed' }
    const whole = verifyChain(rows)
    for (let cut = 1; cut < rows.length; cut++) {
      const before = new ChainVerifier()
      for (const row of rows.slice(0, cut)) before.push(row)
      const after = new ChainVerifier(before.position())
      for (const row of rows.slice(cut)) after.push(row)
      const [x, y] = [before.report(), after.report()]
      expect({
        rolloutsChecked: x.rolloutsChecked + y.rolloutsChecked,
        decisionsChecked: x.decisionsChecked + y.decisionsChecked,
        brokenRollouts: x.brokenRollouts + y.brokenRollouts,
        firstBroken: x.firstBroken ?? y.firstBroken,
      }, `cut at ${cut}`).toEqual({ rolloutsChecked: 2, decisionsChecked: 7, brokenRollouts: 1, firstBroken: whole.firstBroken })
    }
  })
})
