import type { CliRolloutDetailFragment } from '../gql/graphql.ts'
import { currentStep, describeJudge, describeSource, describeStep, percent, versions } from './rollout.ts'
import { fields, table } from './table.ts'
import { clean, formatNumber, truncate } from './text.ts'
import { timestamp } from './time.ts'

/** How many of the latest decisions `sentra get` lists. */
export const RECENT_DECISIONS = 10

/** `sentra get`: the rollout, its steps, its gates with their last verdicts, and its recent decisions. */
export function rolloutDetail(r: CliRolloutDetailFragment): string {
  const weight = r.desiredWeight === r.canaryWeight ? percent(r.canaryWeight) : `${percent(r.canaryWeight)} (moving to ${percent(r.desiredWeight)})`
  const parts = [
    fields([
      ['Rollout', r.id],
      ['Application', r.applicationName],
      ['Version', versions(r)],
      ['Status', r.status],
      ['Weight', weight],
      ['Step', currentStep(r)],
      ['Created', timestamp(r.createdAt)],
      ['Started', timestamp(r.startedAt)],
      ['Finished', timestamp(r.finishedAt)],
    ]),
    '\nSteps\n',
    r.steps.length === 0
      ? '  (none)\n'
      : table(
          ['#', 'STEP', 'STATUS', 'STARTED', 'FINISHED'],
          r.steps.map((s) => [String(s.index + 1), describeStep(s), s.status, timestamp(s.startedAt), timestamp(s.finishedAt)]),
        ),
    '\nGates\n',
    r.gates.length === 0
      ? '  (none)\n'
      : table(
          ['NAME', 'READS', 'JUDGE', 'VERDICT', 'VALUE', 'REASON'],
          r.gates.map((g) => [
            g.dryRun ? `${g.name} (dry run)` : g.name,
            describeSource(g),
            describeJudge(g.judge),
            g.lastResult?.verdict ?? '-',
            formatNumber(g.lastResult?.value),
            truncate(clean(g.lastResult?.reason ?? '-'), 100),
          ]),
        ),
    `\nDecisions${r.decisions.length > RECENT_DECISIONS ? ` (last ${RECENT_DECISIONS})` : ''}\n`,
    r.decisions.length === 0
      ? '  (none yet)\n'
      : table(
          ['AT', 'ACTION', 'ACTOR', 'WEIGHT', 'REASON'],
          r.decisions
            .slice(-RECENT_DECISIONS)
            .map((d) => [timestamp(d.at), d.action, d.actor, `${percent(d.fromWeight)} → ${percent(d.toWeight)}`, truncate(clean(d.reason), 120)]),
        ),
  ]
  return parts.join('')
}
