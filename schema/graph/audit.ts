import { encodeGlobalID } from '@pothos/plugin-relay'
import { describeBreak, type BrokenLink, type ChainHead, type ChainPosition, type ChainProblem, type ChainReport } from '../store/decision-chain.ts'
import { builder } from './builder.ts'
import { badInput, notFound } from './errors.ts'
import { parseGlobalId } from './ids.ts'

/** One call stops after the page that ends past this, well inside the query timeout (SENTRA_QUERY_TIMEOUT_MS, 10 s by default). */
export const AUDIT_BUDGET_MS = 3000
/** Rows one call checks at most (`limit`). */
export const AUDIT_MAX_LIMIT = 100_000
const MAX_CURSOR_LENGTH = 1000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const HASH = /^[0-9a-f]{64}$/

/** The `next` cursor: where the verification stopped (not secret: forging one only misleads its own caller). */
function encodeCursor(p: ChainPosition): string {
  return Buffer.from(JSON.stringify({ v: 1, r: p.rolloutId, s: p.chainSeq, d: p.decisionId, h: p.hash, b: p.broken }), 'utf8').toString('base64url')
}

function decodeCursor(raw: string): ChainPosition {
  const bad = () => badInput('after: not a cursor from auditVerify', 'after')
  if (raw.length === 0 || raw.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) throw bad()
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
  } catch {
    throw bad()
  }
  const c = value as { v?: unknown; r?: unknown; s?: unknown; d?: unknown; h?: unknown; b?: unknown } | null
  if (typeof c !== 'object' || c === null || c.v !== 1) throw bad()
  const { r, s, d, h, b } = c
  if (typeof r !== 'string' || !UUID.test(r)) throw bad()
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) throw bad()
  if (typeof d !== 'string' || d.length > 64) throw bad()
  if (typeof h !== 'string' || !HASH.test(h)) throw bad()
  if (typeof b !== 'boolean') throw bad()
  return { rolloutId: r, chainSeq: s, decisionId: d, hash: h, broken: b }
}

const PROBLEMS = ['HASH_MISMATCH', 'PREV_HASH_MISMATCH', 'SEQUENCE_GAP', 'DUPLICATE_SEQ', 'OUT_OF_ORDER'] as const satisfies readonly ChainProblem[]

const ChainProblemEnum = builder.enumType('DecisionChainProblem', {
  description: 'What is wrong at a broken link of the decision log (docs/audit.md).',
  values: {
    HASH_MISMATCH: { description: 'The stored hash is not the hash of the stored fields: this decision was changed.' },
    PREV_HASH_MISMATCH: { description: "prevHash is not the previous decision's hash: a decision before it was changed, removed or inserted." },
    SEQUENCE_GAP: { description: 'The chain sequence skips ahead: decisions before this one were deleted.' },
    DUPLICATE_SEQ: { description: "The chain sequence repeats the previous decision's." },
    OUT_OF_ORDER: { description: 'The chain sequence goes back.' },
  } satisfies Record<(typeof PROBLEMS)[number], unknown>,
})

const rolloutGlobalId = (id: string): string => encodeGlobalID('Rollout', id)

const ChainBreakRef = builder.objectRef<BrokenLink>('DecisionChainBreak').implement({
  description: "The first decision of a rollout's hash chain that does not hold.",
  fields: (t) => ({
    rolloutId: t.id({ description: 'The rollout (its node ID).', resolve: (b) => rolloutGlobalId(b.rolloutId) }),
    chainSeq: t.exposeInt('chainSeq', { description: "The decision's position in the rollout's chain (1 = first)." }),
    decisionId: t.exposeID('decisionId'),
    problem: t.field({ type: ChainProblemEnum, resolve: (b) => b.problem }),
    expected: t.exposeString('expected', { description: 'What the chain says the value should be (a hash or a chain seq).' }),
    actual: t.exposeString('actual', { description: 'What is stored.' }),
    message: t.string({ resolve: (b) => describeBreak(b, rolloutGlobalId(b.rolloutId)) }),
  }),
})

const ChainHeadRef = builder.objectRef<ChainHead>('DecisionChainHead').implement({
  description: "The newest intact link of a rollout's chain: keep its hash elsewhere to detect a rewritten log later.",
  fields: (t) => ({
    rolloutId: t.id({ resolve: (h) => rolloutGlobalId(h.rolloutId) }),
    chainSeq: t.exposeInt('chainSeq'),
    decisionId: t.exposeID('decisionId'),
    hash: t.exposeString('hash'),
  }),
})

interface AuditReport extends ChainReport {
  /** Set when one rollout was verified. */
  head: ChainHead | null
  next: string | null
}

const AuditReportRef = builder.objectRef<AuditReport>('AuditReport').implement({
  description: 'The result of recomputing the hash chains of the decision log.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'True when every chain checked holds.' }),
    rolloutsChecked: t.exposeInt('rolloutsChecked'),
    decisionsChecked: t.exposeInt('decisionsChecked'),
    brokenRollouts: t.exposeInt('brokenRollouts', { description: 'Rollouts whose chain is broken.' }),
    firstBroken: t.field({ type: ChainBreakRef, nullable: true, description: 'The first broken link (rollouts in id order); null when ok.', resolve: (r) => r.firstBroken }),
    head: t.field({
      type: ChainHeadRef,
      nullable: true,
      description: "With `rollout`: the newest intact link of that rollout's chain (null when it has no decisions).",
      resolve: (r) => r.head,
    }),
    next: t.string({
      nullable: true,
      description:
        'Null when the end of the log was reached. Otherwise this call stopped early (a large log, `limit`): call again with `after: next` and add up the counts; the first `firstBroken` of the calls is the first broken link.',
      resolve: (r) => r.next,
    }),
  }),
})

builder.queryFields((t) => ({
  auditVerify: t.field({
    type: AuditReportRef,
    description:
      "Recomputes the decision log's hash chains (every rollout's, or one rollout's) and reports the first broken link (docs/audit.md). Admin only. A large log is checked over several calls: see `AuditReport.next`.",
    authScopes: { admin: true },
    args: {
      rollout: t.arg.id({ required: false, description: 'Verify only this rollout.' }),
      after: t.arg.string({ required: false, description: 'Go on from an earlier call: its `next`.' }),
      limit: t.arg.int({ required: false, description: `Check at most about this many decisions in this call (1-${AUDIT_MAX_LIMIT}; default ${AUDIT_MAX_LIMIT}).` }),
    },
    resolve: async (_root, args, ctx) => {
      const limit = args.limit ?? AUDIT_MAX_LIMIT
      if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_MAX_LIMIT) throw badInput(`limit: must be between 1 and ${AUDIT_MAX_LIMIT}`, 'limit')
      const after = args.after == null ? null : decodeCursor(args.after)
      let rolloutId: string | undefined
      if (args.rollout != null) {
        rolloutId = parseGlobalId(args.rollout, 'Rollout', 'rollout')
        if (after !== null && after.rolloutId !== rolloutId) throw badInput('after: the cursor is of another rollout', 'after')
        if (!(await ctx.loaders.rollout.load(rolloutId))) throw notFound(`rollout ${args.rollout} not found`)
      }
      const report = await ctx.store.decisions.verify({ rolloutId, after, maxRows: limit, budgetMs: AUDIT_BUDGET_MS })
      return { ...report, head: rolloutId === undefined ? null : report.lastHead, next: report.next && encodeCursor(report.next) }
    },
  }),
}))
