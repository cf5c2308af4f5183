import type { CliRolloutDetailFragment } from '../gql/graphql.ts'
import { currentStep, percent, verdicts, versions } from './rollout.ts'
import { clean } from './text.ts'
import { clock } from './time.ts'

type Decision = CliRolloutDetailFragment['decisions'][number]

const BAR_WIDTH = 20

/** `[#####...............]` for a weight in percent. */
export function progressBar(weight: number): string {
  const filled = Math.round((Math.min(100, Math.max(0, weight)) / 100) * BAR_WIDTH)
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`
}

/** The one-line status `sentra watch` keeps current: status, weight bar, step, gate verdicts. */
export function statusLine(r: CliRolloutDetailFragment): string {
  return clean(`${r.status.padEnd(12)} ${progressBar(r.canaryWeight)} ${percent(r.canaryWeight).padStart(4)}  ${currentStep(r)}  | ${verdicts(r.gates)}`)
}

/** One decision as it happened: `12:00:03  SET_WEIGHT  0% → 20%  controller: weight 0 % → 20 %`. */
export function decisionLine(d: Decision): string {
  const weights = `${percent(d.fromWeight)} → ${percent(d.toWeight)}`
  return clean(`${clock(d.at)}  ${d.action.padEnd(14)} ${weights.padEnd(11)} ${d.actor}: ${d.reason}`)
}

/** The header line: `rollout <id>: checkout v1 → v3`. */
export function headerLine(r: CliRolloutDetailFragment): string {
  return clean(`rollout ${r.id}: ${r.applicationName} ${versions(r)}`)
}

/** The last line, by how the rollout ended. */
export function endLine(r: CliRolloutDetailFragment): string {
  const last = r.decisions.findLast((d) => d.action === 'ROLLBACK' || d.action === 'ABORT') ?? r.decisions.at(-1)
  switch (r.status) {
    case 'SUCCEEDED':
      return clean(`SUCCEEDED: ${r.toVersion} is the stable version of ${r.applicationName}`)
    default:
      return clean(`${r.status}: ${r.applicationName} stays on ${r.fromVersion ?? 'no version'}${last ? ` (${last.action}: ${last.reason})` : ''}`)
  }
}
