import type { Request } from '../api.ts'
import { flagValue } from '../args.ts'
import type { Command } from '../command.ts'
import { CliError, EXIT, UsageError } from '../errors.ts'
import type { CliAuditVerifyQuery } from '../gql/graphql.ts'
import { clean, json } from '../format/text.ts'
import { AuditVerifyQuery } from '../operations/audit.ts'

type Report = Omit<CliAuditVerifyQuery['auditVerify'], 'next'>

/** The server's largest `limit` (schema/graph/audit.ts). */
const MAX_BATCH = 100_000
/** Far more calls than any log needs (each checks at least one page); stops a server that never finishes. */
const MAX_CALLS = 100_000

const SUBCOMMANDS = ['verify'] as const
/** Longer than any rollout node ID; the server checks the rest. */
const MAX_ID_LENGTH = 200

function parseRollout(raw: string | undefined): string | null {
  if (raw === undefined) return null
  if (raw.trim() === '') throw new UsageError('--rollout must not be empty', 'audit')
  if (raw.length > MAX_ID_LENGTH) throw new UsageError(`--rollout is longer than ${MAX_ID_LENGTH} characters`, 'audit')
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new UsageError('--rollout may contain only printable ASCII characters without spaces', 'audit')
  return raw
}

/**
 * Calls `auditVerify` until the server has checked the whole log (`next` is null), adding
 * up the counts; the first broken link is the first one any call reports.
 */
async function verifyAll(request: Request, rollout: string | null, batch: number | null): Promise<Report> {
  let total: Report | null = null
  let after: string | null = null
  for (let calls = 0; calls < MAX_CALLS; calls++) {
    const answer: CliAuditVerifyQuery = await request(AuditVerifyQuery, { rollout, after, limit: batch })
    const { next, ...part } = answer.auditVerify
    const sum: Report =
      total === null
        ? part
        : {
            ok: total.ok && part.ok,
            rolloutsChecked: total.rolloutsChecked + part.rolloutsChecked,
            decisionsChecked: total.decisionsChecked + part.decisionsChecked,
            brokenRollouts: total.brokenRollouts + part.brokenRollouts,
            firstBroken: total.firstBroken ?? part.firstBroken,
            head: part.head,
          }
    total = sum
    if (next === null || next === undefined) return sum
    if (next === after) throw new CliError('the server answered the same position twice; stopping')
    after = next
  }
  throw new CliError(`the server had not finished after ${MAX_CALLS} calls; stopping`)
}

function parseBatch(raw: string | undefined): number | null {
  if (raw === undefined) return null
  if (!/^[0-9]{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_BATCH) {
    throw new UsageError(`--batch must be a whole number from 1 to ${MAX_BATCH}, not ${JSON.stringify(raw)}`, 'audit')
  }
  return Number(raw)
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function reportText(report: Report): string {
  const scope = `${plural(report.decisionsChecked, 'decision')} in ${plural(report.rolloutsChecked, 'rollout')}`
  const head = report.head ? [`head: chain seq ${report.head.chainSeq}, decision ${report.head.decisionId}, hash ${report.head.hash}`] : []
  const broken = report.firstBroken
  if (report.ok || !broken) return [`decision log intact: ${scope}`, ...head, ''].join('\n')
  return [
    `decision log BROKEN: ${plural(report.brokenRollouts, 'rollout')} with a broken chain (${scope} checked)`,
    'first broken link:',
    `  rollout    ${clean(broken.rolloutId)}`,
    `  chain seq  ${broken.chainSeq}`,
    `  decision   ${clean(broken.decisionId)}`,
    `  problem    ${broken.problem}`,
    `  expected   ${clean(broken.expected)}`,
    `  actual     ${clean(broken.actual)}`,
    clean(broken.message),
    '',
  ].join('\n')
}

export const audit: Command = {
  name: 'audit',
  summary: 'verify the decision log: recompute its hash chains, report the first broken link (admin)',
  args: [{ name: 'subcommand', description: '`verify`: recompute every rollout\'s chain (or one with --rollout); exit 4 when one is broken' }],
  flags: [
    { name: 'rollout', value: 'ID', description: 'verify only this rollout, and print the hash at its head' },
    { name: 'batch', value: 'N', description: `decisions the server checks per request (1-${MAX_BATCH}; default: as many as it checks in about 3 s)` },
  ],
  examples: ['sentra audit verify', 'sentra audit verify --rollout Um9sbG91dDo… --output json | jq .head.hash'],
  async run({ parsed, io, output, connect }) {
    const subcommand = parsed.positionals[0]!
    if (!SUBCOMMANDS.some((s) => s === subcommand)) {
      throw new UsageError(`unknown audit subcommand ${JSON.stringify(subcommand)}; use ${SUBCOMMANDS.join(', ')}`, 'audit')
    }
    const rollout = parseRollout(flagValue(parsed, 'rollout'))
    const batch = parseBatch(flagValue(parsed, 'batch'))
    const { request } = await connect()
    const report = await verifyAll(request, rollout, batch)
    io.out(output === 'json' ? json(report) : reportText(report))
    return report.ok ? EXIT.ok : EXIT.broken
  },
}
