import type { RolloutStatus, Verdict } from '../gql/graphql.ts'
import { actionTone, statusLabel, statusTone, verdictLabel, verdictTone } from '../lib/format.ts'

export function StatusBadge({ status }: { status: RolloutStatus }) {
  return (
    <span className={`badge tone-${statusTone(status)}`} data-status={status}>
      {statusTone(status) === 'live' ? <span className="pulse" aria-hidden="true" /> : null}
      {statusLabel(status)}
    </span>
  )
}

export function VerdictBadge({ verdict }: { verdict: Verdict | null | undefined }) {
  return (
    <span className={`badge tone-${verdictTone(verdict)}`} data-verdict={verdict ?? 'NONE'}>
      {verdictLabel(verdict)}
    </span>
  )
}

export function ActionBadge({ action }: { action: string }) {
  return <span className={`badge badge-action tone-${actionTone(action)}`}>{statusLabel(action)}</span>
}
