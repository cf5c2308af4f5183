import Link from 'next/link'
import { graphql } from '../gql/index.ts'
import type { RolloutSummaryFragment } from '../gql/graphql.ts'
import { formatAgo, formatDuration, isActive, stepLabel, versionsLabel } from '../lib/format.ts'
import { ActionBadge, StatusBadge } from './badges.tsx'
import { WeightBar } from './weight-bar.tsx'

export const RolloutSummaryFields = graphql(`
  fragment RolloutSummary on Rollout {
    id
    seq
    applicationName
    fromVersion
    toVersion
    status
    currentStepIndex
    stepStartedAt
    startedAt
    finishedAt
    createdAt
    currentStep {
      index
      kind
      setWeight
      analyzeMin
      analyzeMax
      pauseDuration
    }
    lastDecision {
      at
      action
      actor
      reason
    }
    ...WeightBar
  }
`)

export function rolloutHref(id: string): string {
  return `/rollouts/${encodeURIComponent(id)}`
}

/** One rollout in a list: what, where it is, and the last thing Sentra decided. */
export function RolloutRow({ rollout, now }: { rollout: RolloutSummaryFragment; now: number }) {
  const active = isActive(rollout.status)
  const step = rollout.currentStep
  const stepText = active
    ? step
      ? `Step ${step.index + 1}/${rollout.steps.length}: ${stepLabel(step)}`
      : rollout.status === 'PENDING'
        ? 'Starting'
        : `${rollout.steps.length} steps done`
    : rollout.finishedAt && rollout.startedAt
      ? `took ${formatDuration(Date.parse(rollout.finishedAt) - Date.parse(rollout.startedAt))}`
      : ''
  return (
    <li className="rollout-row" data-rollout-id={rollout.id} data-status={rollout.status}>
      <div className="rollout-row-main">
        <Link href={rolloutHref(rollout.id)} className="rollout-title">
          <span className="app-name">{rollout.applicationName}</span> <span className="versions">{versionsLabel(rollout.fromVersion, rollout.toVersion)}</span>
        </Link>
        <StatusBadge status={rollout.status} />
      </div>
      <div className="rollout-row-weight">
        <WeightBar rollout={rollout} compact />
      </div>
      <div className="rollout-row-step muted">
        {stepText}
        {active && rollout.stepStartedAt ? <span> · {formatDuration(now - Date.parse(rollout.stepStartedAt))} in step</span> : null}
      </div>
      <div className="rollout-row-decision" data-testid="last-decision">
        {rollout.lastDecision ? (
          <>
            <ActionBadge action={rollout.lastDecision.action} />{' '}
            <span className="reason" title={rollout.lastDecision.reason}>
              {rollout.lastDecision.reason}
            </span>{' '}
            <span className="muted nowrap">· {formatAgo(rollout.lastDecision.at, now)}</span>
          </>
        ) : (
          <span className="muted">no decision yet</span>
        )}
      </div>
    </li>
  )
}
