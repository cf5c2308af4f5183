import type { CliRolloutSummaryFragment } from '../gql/graphql.ts'
import { clean } from './text.ts'
import { percent, versions } from './rollout.ts'

/** `checkout v1 → v2, PROGRESSING at 20%`. */
export function rolloutSummary(r: CliRolloutSummaryFragment): string {
  return clean(`${r.applicationName} ${versions(r)}, ${r.status} at ${percent(r.canaryWeight)}`)
}
