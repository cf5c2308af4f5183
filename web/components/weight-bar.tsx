import { graphql } from '../gql/index.ts'
import type { WeightBarFragment } from '../gql/graphql.ts'

export const WeightBarFields = graphql(`
  fragment WeightBar on Rollout {
    status
    canaryWeight
    desiredWeight
    steps {
      index
      kind
      setWeight
    }
  }
`)

/**
 * The canary's share of traffic: filled to what the target reports, a marker where the
 * controller wants it, and ticks at the weights the steps plan.
 */
export function WeightBar({ rollout, compact = false }: { rollout: WeightBarFragment; compact?: boolean }) {
  const planned = [...new Set(rollout.steps.flatMap((s) => (s.kind === 'SET_WEIGHT' && s.setWeight !== null ? [s.setWeight] : [])))]
  const moving = rollout.desiredWeight !== rollout.canaryWeight
  return (
    <div className={`weight${compact ? ' weight-compact' : ''}`}>
      <div
        className="weight-track"
        role="meter"
        aria-label="Canary traffic"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={rollout.canaryWeight}
        aria-valuetext={`${rollout.canaryWeight} % of traffic on the new version${moving ? `, moving to ${rollout.desiredWeight} %` : ''}`}
      >
        <div className="weight-fill" style={{ width: `${rollout.canaryWeight}%` }} />
        {moving ? <div className="weight-desired" style={{ left: `${rollout.desiredWeight}%` }} title={`desired ${rollout.desiredWeight} %`} /> : null}
        {compact ? null : planned.map((w) => <div key={w} className="weight-tick" style={{ left: `${w}%` }} title={`step at ${w} %`} />)}
      </div>
      <span className="weight-label" data-testid="canary-weight">
        {rollout.canaryWeight} %{moving ? ` → ${rollout.desiredWeight} %` : ''}
      </span>
    </div>
  )
}
