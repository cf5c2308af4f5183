import { graphql } from '../gql/index.ts'
import type { StepsLadderFragment } from '../gql/graphql.ts'
import { formatDuration, stepLabel, stepWaitsFor } from '../lib/format.ts'

export const StepsLadderFields = graphql(`
  fragment StepsLadder on Rollout {
    status
    currentStepIndex
    stepStartedAt
    canaryWeight
    steps {
      index
      kind
      status
      setWeight
      analyzeMin
      analyzeMax
      pauseDuration
      startedAt
      finishedAt
    }
  }
`)

const STEP_STATUS: Record<string, string> = { COMPLETED: 'done', RUNNING: 'now', PENDING: 'next', SKIPPED: 'skipped' }

/** The planned steps, what each did and how long it took, and what the current one waits for. */
export function StepsLadder({ rollout, now }: { rollout: StepsLadderFragment; now: number }) {
  if (rollout.steps.length === 0) return <p className="muted">This rollout has no steps (an initial deploy goes straight to stable).</p>
  let plannedWeight = 0
  return (
    <ol className="ladder" data-status={rollout.status}>
      {rollout.steps.map((step) => {
        if (step.kind === 'SET_WEIGHT' && step.setWeight !== null) plannedWeight = step.setWeight
        const current = step.index === rollout.currentStepIndex && (rollout.status === 'PROGRESSING' || rollout.status === 'PAUSED')
        const took =
          step.startedAt && step.finishedAt
            ? formatDuration(Date.parse(step.finishedAt) - Date.parse(step.startedAt))
            : current && rollout.stepStartedAt
              ? formatDuration(now - Date.parse(rollout.stepStartedAt))
              : null
        const state = current ? 'now' : (STEP_STATUS[step.status] ?? 'next')
        return (
          <li key={step.index} className={`ladder-step step-${state}`} aria-current={current ? 'step' : undefined} data-step-status={step.status}>
            <span className="ladder-dot" aria-hidden="true" />
            <div className="ladder-body">
              <div className="ladder-head">
                <span className="ladder-index">{step.index + 1}</span>
                <span className="ladder-label">{stepLabel(step)}</span>
                <span className="ladder-weight muted" title="planned canary weight during this step">
                  {plannedWeight} %
                </span>
              </div>
              <div className="ladder-meta muted">
                {state === 'now' ? <strong className="ladder-now">{stepWaitsFor(step, rollout.status)}</strong> : state === 'skipped' ? 'skipped' : state === 'done' ? 'done' : 'planned'}
                {took ? ` · ${took}` : ''}
              </div>
            </div>
          </li>
        )
      })}
    </ol>
  )
}
