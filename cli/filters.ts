import { dnsNameProblem } from '../schema/spec/rules.ts'
import { UsageError } from './errors.ts'
import { ROLLOUT_STATUSES } from './format/rollout.ts'
import type { RolloutStatus } from './gql/graphql.ts'

/** `--status S,...`: statuses in any case, comma-separated; anything else is a usage error. */
export function parseStatuses(raw: string | undefined, command: string): RolloutStatus[] | null {
  if (raw === undefined) return null
  const names = raw.split(',').map((s) => s.trim().toUpperCase().replace(/-/g, '_'))
  const known = new Set<string>(ROLLOUT_STATUSES)
  const bad = names.filter((name) => !known.has(name))
  if (names.length === 0 || bad.length > 0) {
    const shown = bad.map((b) => (b === '' ? '(empty)' : JSON.stringify(b))).join(', ')
    throw new UsageError(`--status: ${shown} is not a rollout status; use one or more of ${ROLLOUT_STATUSES.join(',')}`, command)
  }
  return [...new Set(names)] as RolloutStatus[]
}

/** `--app NAME`: an application name as specs have them (a lowercase DNS label). */
export function parseAppName(raw: string | undefined, command: string): string | null {
  if (raw === undefined) return null
  const problem = dnsNameProblem(raw, 'label')
  if (problem) throw new UsageError(`--app ${problem}`, command)
  return raw
}
