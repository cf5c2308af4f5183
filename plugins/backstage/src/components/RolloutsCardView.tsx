import { APPLICATION_NAME_RULE } from '../api/names'
import type { ApplicationRollouts, Rollout } from '../api/types'
import { SENTRA_APPLICATION_ANNOTATION, type EntityApplication } from '../entity'
import { dashboardLink, describeStep, formatDuration, formatInstant, rolloutDuration, versionChange } from './format'
import { CardFrame, DashboardLink, Notice, StatusChip, WeightBar } from './parts'
import type { RolloutsState } from './useApplicationRollouts'

export interface RolloutsCardViewProps {
  entityName: string
  target: EntityApplication
  state: RolloutsState
  dashboardUrl: string | null
  /** Epoch ms, for the duration of a rollout still running. */
  now: number
}

const TITLE = 'Sentra rollouts'

/** The card for every state, from data alone (no fetching): what SentraRolloutsCard renders. */
export function RolloutsCardView({ entityName, target, state, dashboardUrl, now }: RolloutsCardViewProps) {
  if (target.kind === 'missing') {
    return (
      <CardFrame title={TITLE}>
        <Notice tone="info">
          <strong>{entityName}</strong> is not linked to a Sentra application. Add the annotation <code>{SENTRA_APPLICATION_ANNOTATION}: &lt;application&gt;</code> to its catalog-info.yaml.
        </Notice>
      </CardFrame>
    )
  }
  if (target.kind === 'invalid') {
    return (
      <CardFrame title={TITLE}>
        <Notice tone="error">
          The annotation <code>{SENTRA_APPLICATION_ANNOTATION}</code> of <strong>{entityName}</strong> is “{target.value.slice(0, 80)}”, which is not a Sentra application name ({APPLICATION_NAME_RULE}).
        </Notice>
      </CardFrame>
    )
  }
  const application = target.application
  const appLink = dashboardLink(dashboardUrl, 'application', application)
  const action = appLink ? <DashboardLink href={appLink}>Open in Sentra</DashboardLink> : undefined

  if (state.status === 'loading') {
    return (
      <CardFrame title={TITLE} action={action}>
        <Notice tone="info">Loading the rollouts of {application}…</Notice>
      </CardFrame>
    )
  }
  if (state.status === 'not-found') {
    return (
      <CardFrame title={TITLE}>
        <Notice tone="error">
          Sentra has no application named <strong>{application}</strong>. Check the annotation <code>{SENTRA_APPLICATION_ANNOTATION}</code>, or apply the application in Sentra (<code>sentra apply -f app.yaml</code>).
        </Notice>
      </CardFrame>
    )
  }
  if (state.status === 'error') {
    return (
      <CardFrame title={TITLE} action={action}>
        <Notice tone="error">Could not load the rollouts of {application}: {state.error.message}</Notice>
      </CardFrame>
    )
  }
  return (
    <CardFrame title={TITLE} action={action}>
      <Loaded data={state.data} dashboardUrl={dashboardUrl} now={now} />
    </CardFrame>
  )
}

function Loaded({ data, dashboardUrl, now }: { data: ApplicationRollouts; dashboardUrl: string | null; now: number }) {
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <div>
        <strong>{data.name}</strong> · stable version <code>{data.stableVersion ?? 'none yet'}</code>
      </div>
      {data.active ? <ActiveRollout rollout={data.active} dashboardUrl={dashboardUrl} now={now} /> : <Notice tone="info">No rollout in progress.</Notice>}
      <RecentRollouts rollouts={data.recent} dashboardUrl={dashboardUrl} now={now} />
    </div>
  )
}

function ActiveRollout({ rollout, dashboardUrl, now }: { rollout: Rollout; dashboardUrl: string | null; now: number }) {
  const step = describeStep(rollout)
  const decision = rollout.lastDecision
  return (
    <div aria-label="Current rollout" style={{ display: 'grid', gap: 8 }}>
      <div style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
        {/* The spaces are for copied text and screen readers; the flex gap spaces it on screen. */}
        <span>Current rollout:</span> <DashboardLink href={dashboardLink(dashboardUrl, 'rollout', rollout.id)}>{versionChange(rollout)}</DashboardLink>{' '}
        <StatusChip status={rollout.status} /> <span style={{ opacity: 0.7 }}>for {formatDuration(rolloutDuration(rollout, now))}</span>
      </div>
      <WeightBar weight={rollout.canaryWeight} />
      {step ? <div>{step}</div> : null}
      {decision ? (
        <div style={{ opacity: 0.85 }}>
          Last decision: <strong>{decision.action}</strong> by {decision.actor} at {formatInstant(decision.at)}: {decision.reason}
        </div>
      ) : null}
    </div>
  )
}

function RecentRollouts({ rollouts, dashboardUrl, now }: { rollouts: Rollout[]; dashboardUrl: string | null; now: number }) {
  if (rollouts.length === 0) return <div>No rollouts yet.</div>
  return (
    <table style={{ width: '100%', borderCollapse: 'collapse' }}>
      <caption style={{ textAlign: 'left', fontWeight: 600, paddingBottom: 4 }}>Recent rollouts</caption>
      <thead>
        <tr style={{ textAlign: 'left' }}>
          <th>Version</th>
          <th>Outcome</th>
          <th>Started</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {rollouts.map((rollout) => (
          <tr key={rollout.id} data-rollout-id={rollout.id}>
            <td>
              <DashboardLink href={dashboardLink(dashboardUrl, 'rollout', rollout.id)}>{versionChange(rollout)}</DashboardLink>
            </td>
            <td>
              <StatusChip status={rollout.status} />
            </td>
            <td>{formatInstant(rollout.startedAt ?? rollout.createdAt)}</td>
            <td>{formatDuration(rolloutDuration(rollout, now))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
