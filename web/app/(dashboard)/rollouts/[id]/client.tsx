'use client'

import Link from 'next/link'
import { useEffect } from 'react'
import { useQuery, useSubscription } from 'urql'
import { StatusBadge, ActionBadge } from '../../../../components/badges.tsx'
import { DecisionTimeline } from '../../../../components/decision-timeline.tsx'
import { GatesPanel } from '../../../../components/gates-panel.tsx'
import { LinkedTraces } from '../../../../components/linked-traces.tsx'
import { useLive, useNow, useOnServer } from '../../../../components/live-provider.tsx'
import { RolloutControls } from '../../../../components/rollout-controls.tsx'
import { LoadError, Loading, NotFound } from '../../../../components/states.tsx'
import { StepsLadder } from '../../../../components/steps-ladder.tsx'
import { useViewer } from '../../../../components/viewer.tsx'
import { WeightBar } from '../../../../components/weight-bar.tsx'
import { WindowCharts } from '../../../../components/window-charts.tsx'
import { graphql } from '../../../../gql/index.ts'
import { formatAgo, formatDuration, isActive, stepLabel, versionsLabel } from '../../../../lib/format.ts'
import { newer } from '../../../../lib/live-rows.ts'

export const RolloutDetailFields = graphql(`
  fragment RolloutDetail on Rollout {
    id
    seq
    applicationName
    fromVersion
    toVersion
    status
    createdAt
    startedAt
    finishedAt
    stepStartedAt
    currentStepIndex
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
    ...StepsLadder
    ...GatesPanel
    ...WindowCharts
    ...DecisionTimeline
    ...RolloutControls
  }
`)

const RolloutPageQuery = graphql(`
  query RolloutPage($id: ID!) {
    rollout(id: $id) {
      ...RolloutDetail
    }
  }
`)

const RolloutLive = graphql(`
  subscription RolloutLive($id: ID!) {
    rolloutChanged(id: $id) {
      ...RolloutDetail
    }
  }
`)

/** The rollout now, and again after every change: weight, steps, gates, windows, decisions, controls. */
export function RolloutClient({ id }: { id: string }) {
  const onServer = useOnServer()
  const now = useNow()
  const viewer = useViewer()
  const { reconnects } = useLive()
  const [result, reexecute] = useQuery({ query: RolloutPageQuery, variables: { id }, pause: onServer })
  const [live] = useSubscription({ query: RolloutLive, variables: { id }, pause: onServer })
  useEffect(() => {
    if (reconnects > 0) reexecute({ requestPolicy: 'network-only' })
  }, [reconnects, reexecute])

  const rollout = newer(result.data?.rollout, live.data?.rolloutChanged)
  if (!rollout) {
    if (result.error) return <LoadError error={result.error} retry={() => reexecute({ requestPolicy: 'network-only' })} />
    if (result.data) {
      return (
        <NotFound what="Rollout">
          <p className="muted">
            No rollout has the id <code>{id}</code>. <Link href="/">All rollouts</Link>
          </p>
        </NotFound>
      )
    }
    return <Loading what="the rollout" />
  }

  const active = isActive(rollout.status)
  const step = rollout.currentStep
  return (
    <article className="rollout" data-rollout-id={rollout.id} data-status={rollout.status}>
      <nav aria-label="Breadcrumb" className="crumbs small">
        <Link href="/">Rollouts</Link> / <Link href={`/applications/${encodeURIComponent(rollout.applicationName)}`}>{rollout.applicationName}</Link>
      </nav>
      <header className="rollout-head">
        <div className="rollout-head-title">
          <h1>
            {rollout.applicationName} <span className="versions">{versionsLabel(rollout.fromVersion, rollout.toVersion)}</span>
          </h1>
          <StatusBadge status={rollout.status} />
        </div>
        <div className="rollout-head-facts muted small">
          {rollout.startedAt ? <span>started {formatAgo(rollout.startedAt, now)}</span> : <span>created {formatAgo(rollout.createdAt, now)}</span>}
          {rollout.finishedAt && rollout.startedAt ? <span> · took {formatDuration(Date.parse(rollout.finishedAt) - Date.parse(rollout.startedAt))}</span> : null}
          {active && step ? (
            <span>
              {' '}
              · step {step.index + 1} of {rollout.steps.length}: {stepLabel(step)}
              {rollout.stepStartedAt ? `, for ${formatDuration(now - Date.parse(rollout.stepStartedAt))}` : ''}
            </span>
          ) : null}
        </div>
        <WeightBar rollout={rollout} />
        {rollout.lastDecision ? (
          <p className="last-decision" data-testid="last-decision">
            <ActionBadge action={rollout.lastDecision.action} /> {rollout.lastDecision.reason}{' '}
            <span className="muted nowrap">
              · {rollout.lastDecision.actor === 'controller' ? 'Sentra' : rollout.lastDecision.actor}, {formatAgo(rollout.lastDecision.at, now)}
            </span>
          </p>
        ) : null}
        <RolloutControls rollout={rollout} scope={viewer.scope} now={now} />
      </header>

      <div className="grid-2">
        <section className="card" aria-labelledby="steps-title">
          <h2 id="steps-title" className="card-title">
            Steps
          </h2>
          <StepsLadder rollout={rollout} now={now} />
        </section>
        <section className="card" aria-labelledby="gates-title">
          <h2 id="gates-title" className="card-title">
            Gates
          </h2>
          <GatesPanel rollout={rollout} now={now} />
        </section>
      </div>

      <section className="card" aria-labelledby="windows-title">
        <h2 id="windows-title" className="card-title">
          Canary vs baseline
        </h2>
        <WindowCharts rollout={rollout} />
      </section>

      <section className="card" aria-labelledby="traces-title">
        <h2 id="traces-title" className="card-title">
          Linked traces
        </h2>
        <LinkedTraces rolloutId={rollout.id} seq={rollout.seq} now={now} />
      </section>

      <section className="card" aria-labelledby="decisions-title">
        <h2 id="decisions-title" className="card-title">
          Decisions <span className="count">{rollout.decisions.length}</span>
        </h2>
        <DecisionTimeline rollout={rollout} now={now} />
      </section>
    </article>
  )
}
