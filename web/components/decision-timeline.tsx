import { graphql } from '../gql/index.ts'
import type { DecisionTimelineFragment } from '../gql/graphql.ts'
import { formatClock, formatDuration, formatValue, readDecisionEvidence, statusLabel } from '../lib/format.ts'
import { ActionBadge, VerdictBadge } from './badges.tsx'

export const DecisionTimelineFields = graphql(`
  fragment DecisionTimeline on Rollout {
    decisions(last: 50) {
      id
      seq
      at
      action
      actor
      reason
      stepIndex
      fromWeight
      toWeight
      evidence
    }
  }
`)

type DecisionItem = DecisionTimelineFragment['decisions'][number]

function Evidence({ decision }: { decision: DecisionItem }) {
  const evidence = readDecisionEvidence(decision.evidence)
  return (
    <div className="evidence">
      <dl className="evidence-facts small">
        <dt>Step</dt>
        <dd>
          {decision.stepIndex + 1}
          {evidence.step ? ` (${statusLabel(evidence.step)})` : ''}
          {evidence.elapsedMs !== null ? `, after ${formatDuration(evidence.elapsedMs)}` : ''}
        </dd>
        <dt>Weight</dt>
        <dd>
          {decision.fromWeight} % → {decision.toWeight} %
        </dd>
        {evidence.command ? (
          <>
            <dt>Command</dt>
            <dd>
              {statusLabel(evidence.command.kind)}
              {evidence.command.full ? ' (fully)' : ''} by {evidence.command.actor}
              {evidence.command.reason ? `: “${evidence.command.reason}”` : ''}
            </dd>
          </>
        ) : null}
        {evidence.canaryFailure ? (
          <>
            <dt>Canary failure</dt>
            <dd>{evidence.canaryFailure}</dd>
          </>
        ) : null}
      </dl>
      {evidence.gates.length > 0 ? (
        <div className="table-wrap">
          <table className="evidence-gates small">
            <thead>
              <tr>
                <th scope="col">Gate</th>
                <th scope="col">Verdict</th>
                <th scope="col">Canary</th>
                <th scope="col">Baseline</th>
                <th scope="col">Requests (canary / baseline)</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {evidence.gates.map((g) => (
                <tr key={g.gate}>
                  <th scope="row">
                    {g.gate}
                    {g.dryRun ? <span className="tag">dry run</span> : null}
                  </th>
                  <td>
                    <VerdictBadge verdict={g.verdict} />
                  </td>
                  <td className="num">{formatValue(g.value, g.unit)}</td>
                  <td className="num">{formatValue(g.baseline, g.unit)}</td>
                  <td className="num">
                    {g.canaryRequests ?? '—'} / {g.baselineRequests ?? '—'}
                  </td>
                  <td>{g.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <details className="raw">
        <summary className="small">Raw evidence (JSON)</summary>
        <pre>{JSON.stringify(decision.evidence, null, 2)}</pre>
      </details>
    </div>
  )
}

/** Every decision, newest first: who or what, when, why; the evidence behind it on demand. */
export function DecisionTimeline({ rollout, now }: { rollout: DecisionTimelineFragment; now: number }) {
  if (rollout.decisions.length === 0) return <p className="muted">No decisions yet.</p>
  const newestFirst = [...rollout.decisions].reverse()
  return (
    <ol className="timeline" aria-label="Decisions, newest first">
      {newestFirst.map((d) => (
        <li key={d.id} className="timeline-item" data-action={d.action} data-seq={d.seq}>
          <details>
            <summary>
              <span className="timeline-time muted" title={d.at}>
                {formatClock(d.at, now)}
              </span>
              <ActionBadge action={d.action} />
              <span className="timeline-actor" title={d.actor === 'controller' ? 'decided by Sentra' : 'commanded by a person (token name)'}>
                {d.actor === 'controller' ? 'Sentra' : d.actor}
              </span>
              <span className="timeline-reason">{d.reason}</span>
              {d.fromWeight !== d.toWeight && d.action !== 'SET_WEIGHT' ? (
                <span className="timeline-weights muted nowrap">
                  {d.fromWeight} % → {d.toWeight} %
                </span>
              ) : null}
            </summary>
            <Evidence decision={d} />
          </details>
        </li>
      ))}
    </ol>
  )
}
