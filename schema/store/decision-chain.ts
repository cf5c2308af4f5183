import { createHash } from 'node:crypto'

/**
 * The decision log's hash chain (pure: no I/O). Each rollout's decisions form one chain in
 * append order: the n-th decision has `chainSeq` n (from 1), `prevHash` = the hash of
 * decision n-1 (GENESIS_HASH for the first), and `hash` = sha256 of the canonical
 * serialisation below. Changing, deleting, inserting or reordering a stored decision breaks
 * the chain at that point; verification reports the first broken link. See docs/audit.md.
 */

/** The prev_hash of a rollout's first decision. */
export const GENESIS_HASH = '0'.repeat(64)

/** Names the serialisation; a future format gets a new tag and never reuses this one. */
export const CHAIN_FORMAT = 'sentra-decision-chain-v1'

/** Every stored column of a decision, as stored (times in epoch ms, evidence as its JSON text). */
export interface ChainRow {
  id: string
  rolloutId: string
  /** The rollout's seq when the decision was written (rollout events use it; not contiguous). */
  seq: number
  /** Position in the rollout's chain: 1, 2, 3, ... with no gaps. */
  chainSeq: number
  at: number
  action: string
  actor: string
  reason: string
  stepIndex: number
  fromWeight: number
  toWeight: number
  /** The evidence exactly as stored (JSON text): the bytes are hashed, not a re-serialisation. */
  evidence: string
  prevHash: string
  hash: string
}

export type ChainContent = Omit<ChainRow, 'hash'>

function intText(value: number, name: string): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`decision ${name} must be an integer, got ${value}`)
  return String(value)
}

/**
 * The bytes that are hashed: the format tag, then every field in this fixed order as
 * `<name> <UTF-8 byte length>:<value>\n`. The length prefix makes the encoding unambiguous
 * whatever the values contain (newlines, colons, any Unicode); integers are plain decimal.
 */
export function canonicalBytes(row: ChainContent): Buffer {
  const fields: [string, string][] = [
    ['prev_hash', row.prevHash],
    ['id', row.id],
    ['rollout_id', row.rolloutId],
    ['chain_seq', intText(row.chainSeq, 'chain_seq')],
    ['seq', intText(row.seq, 'seq')],
    ['at', intText(row.at, 'at')],
    ['action', row.action],
    ['actor', row.actor],
    ['reason', row.reason],
    ['step_index', intText(row.stepIndex, 'step_index')],
    ['from_weight', intText(row.fromWeight, 'from_weight')],
    ['to_weight', intText(row.toWeight, 'to_weight')],
    ['evidence', row.evidence],
  ]
  const parts: Buffer[] = [Buffer.from(`${CHAIN_FORMAT}\n`, 'utf8')]
  for (const [name, value] of fields) {
    const bytes = Buffer.from(value, 'utf8')
    parts.push(Buffer.from(`${name} ${bytes.length}:`, 'utf8'), bytes, Buffer.from('\n', 'utf8'))
  }
  return Buffer.concat(parts)
}

/** The lowercase hex sha256 of a decision's canonical bytes (its prevHash included). */
export function decisionHash(row: ChainContent): string {
  return createHash('sha256').update(canonicalBytes(row)).digest('hex')
}

export type ChainProblem =
  /** The stored hash is not the hash of the stored fields: this row was changed. */
  | 'HASH_MISMATCH'
  /** prev_hash is not the previous row's hash: a row before it was changed, removed or inserted. */
  | 'PREV_HASH_MISMATCH'
  /** chain_seq skips ahead: rows before it were deleted. */
  | 'SEQUENCE_GAP'
  /** chain_seq repeats the previous row's. */
  | 'DUPLICATE_SEQ'
  /** chain_seq goes back. */
  | 'OUT_OF_ORDER'

/** The first row of a rollout's chain that does not hold. */
export interface BrokenLink {
  rolloutId: string
  chainSeq: number
  decisionId: string
  problem: ChainProblem
  /** What the chain says the value should be, and what is stored. */
  expected: string
  actual: string
  /** One line for people. */
  message: string
}

export interface ChainHead {
  rolloutId: string
  chainSeq: number
  decisionId: string
  hash: string
}

export interface ChainReport {
  ok: boolean
  rolloutsChecked: number
  decisionsChecked: number
  /** Rollouts whose chain is broken (each counted once; checking a rollout stops at its first break). */
  brokenRollouts: number
  /** The first broken link, in the order the rows were given; null when every chain holds. */
  firstBroken: BrokenLink | null
  /** The last intact link of the last rollout checked (useful when one rollout is verified); null if none. */
  lastHead: ChainHead | null
}

/** One line for people; `rolloutName` is how to show the rollout (its stored id by default). */
export function describeBreak(link: Omit<BrokenLink, 'message'>, rolloutName: string = link.rolloutId): string {
  const where = `rollout ${rolloutName}, decision ${link.decisionId} at chain seq ${link.chainSeq}`
  switch (link.problem) {
    case 'HASH_MISMATCH':
      return `${where}: stored hash does not match its contents (the row was changed)`
    case 'PREV_HASH_MISMATCH':
      return `${where}: prev_hash does not match the previous decision's hash (a decision before it was changed, removed or inserted)`
    case 'SEQUENCE_GAP':
      return `${where}: expected chain seq ${link.expected} (decisions are missing before it)`
    case 'DUPLICATE_SEQ':
      return `${where}: chain seq repeats the previous decision's`
    case 'OUT_OF_ORDER':
      return `${where}: chain seq goes back (expected ${link.expected})`
  }
}

/**
 * Where a verification stopped, to resume it later (by another request): the last row
 * read, the hash the next row must carry as prev_hash, and whether that rollout's chain is
 * already broken (then the rest of it is skipped).
 */
export interface ChainPosition {
  rolloutId: string
  chainSeq: number
  decisionId: string
  hash: string
  broken: boolean
}

/**
 * Checks chains row by row, for logs too large to hold: feed each rollout's rows
 * contiguously, in chain order (the store reads `ORDER BY rollout_id, chain_seq`).
 * After a break the rest of that rollout is skipped. Started from a `ChainPosition`, it
 * continues that rollout's chain without counting the rollout again, so the counts of
 * consecutive runs add up.
 */
export class ChainVerifier {
  #rolloutId: string | null = null
  #expectedSeq = 1
  #prevHash = GENESIS_HASH
  #brokenHere = false
  #head: ChainHead | null = null
  #last: ChainPosition | null = null
  #rollouts = 0
  #decisions = 0
  #broken = 0
  #first: BrokenLink | null = null

  constructor(resume: ChainPosition | null = null) {
    if (resume === null) return
    this.#rolloutId = resume.rolloutId
    this.#expectedSeq = resume.chainSeq + 1
    this.#prevHash = resume.hash
    this.#brokenHere = resume.broken
    this.#head = resume.broken ? null : { rolloutId: resume.rolloutId, chainSeq: resume.chainSeq, decisionId: resume.decisionId, hash: resume.hash }
    this.#last = resume
  }

  /** Where to resume after the rows pushed so far; null before any. */
  position(): ChainPosition | null {
    return this.#last
  }

  /** Checks the next row; returns the break it finds (or null). */
  push(row: ChainRow): BrokenLink | null {
    if (row.rolloutId !== this.#rolloutId) {
      this.#rolloutId = row.rolloutId
      this.#expectedSeq = 1
      this.#prevHash = GENESIS_HASH
      this.#brokenHere = false
      this.#head = null
      this.#rollouts++
    }
    this.#decisions++
    const link = this.#brokenHere ? null : this.#check(row)
    if (!this.#brokenHere && link === null) {
      this.#expectedSeq = row.chainSeq + 1
      this.#prevHash = row.hash
      this.#head = { rolloutId: row.rolloutId, chainSeq: row.chainSeq, decisionId: row.id, hash: row.hash }
    } else if (link !== null) {
      this.#brokenHere = true
      this.#broken++
      this.#first ??= link
    }
    this.#last = { rolloutId: row.rolloutId, chainSeq: row.chainSeq, decisionId: row.id, hash: this.#prevHash, broken: this.#brokenHere }
    return link
  }

  report(): ChainReport {
    return {
      ok: this.#first === null,
      rolloutsChecked: this.#rollouts,
      decisionsChecked: this.#decisions,
      brokenRollouts: this.#broken,
      firstBroken: this.#first,
      lastHead: this.#head,
    }
  }

  #check(row: ChainRow): BrokenLink | null {
    const base = { rolloutId: row.rolloutId, chainSeq: row.chainSeq, decisionId: row.id }
    const broken = (problem: ChainProblem, expected: string, actual: string): BrokenLink => {
      const link = { ...base, problem, expected, actual }
      return { ...link, message: describeBreak(link) }
    }
    if (row.chainSeq !== this.#expectedSeq) {
      const problem: ChainProblem =
        row.chainSeq > this.#expectedSeq ? 'SEQUENCE_GAP' : row.chainSeq === this.#expectedSeq - 1 ? 'DUPLICATE_SEQ' : 'OUT_OF_ORDER'
      return broken(problem, String(this.#expectedSeq), String(row.chainSeq))
    }
    if (row.prevHash !== this.#prevHash) return broken('PREV_HASH_MISMATCH', this.#prevHash, row.prevHash)
    let computed: string
    try {
      computed = decisionHash(row)
    } catch (error) {
      // A stored value that cannot be serialised (e.g. a non-integer number) cannot match.
      return broken('HASH_MISMATCH', `(not computable: ${(error as Error).message})`, row.hash)
    }
    if (row.hash !== computed) return broken('HASH_MISMATCH', computed, row.hash)
    return null
  }
}

/**
 * Verifies chains given as rows (any number of rollouts; each rollout's rows in the order
 * they are stored, by chain seq). Rows are grouped per rollout in order of first appearance;
 * the first broken link is reported in that order.
 */
export function verifyChain(rows: Iterable<ChainRow>): ChainReport {
  const groups = new Map<string, ChainRow[]>()
  for (const row of rows) {
    const group = groups.get(row.rolloutId)
    if (group) group.push(row)
    else groups.set(row.rolloutId, [row])
  }
  const verifier = new ChainVerifier()
  for (const group of groups.values()) for (const row of group) verifier.push(row)
  return verifier.report()
}
