import { graphql } from '../gql/index.ts'
import type { GatesPanelFragment } from '../gql/graphql.ts'
import { describeJudge, formatAgo, formatValue, readGateResultEvidence, signalLabel, signalUnit } from '../lib/format.ts'
import { VerdictBadge } from './badges.tsx'

export const GatesPanelFields = graphql(`
  fragment GatesPanel on Rollout {
    gates {
      name
      signal
      provider
      query
      judge
      dryRun
      lastResult {
        at
        verdict
        value
        reason
        evidence
      }
    }
  }
`)

/** Every gate with its latest verdict, the canary's value against the baseline or threshold, and why. */
export function GatesPanel({ rollout, now }: { rollout: GatesPanelFragment; now: number }) {
  if (rollout.gates.length === 0) return <p className="muted">No gates: this application is rolled out on its steps alone.</p>
  return (
    <div className="table-wrap">
      <table className="gates">
        <thead>
          <tr>
            <th scope="col">Gate</th>
            <th scope="col">Verdict</th>
            <th scope="col">Canary</th>
            <th scope="col">Baseline</th>
            <th scope="col">Rule</th>
          </tr>
        </thead>
        <tbody>
          {rollout.gates.map((gate) => {
            const result = gate.lastResult
            const extra = readGateResultEvidence(result?.evidence)
            const unit = extra.unit ?? signalUnit(gate.signal)
            return (
              <tr key={gate.name} data-gate={gate.name}>
                <th scope="row">
                  <div>{gate.name}</div>
                  <div className="muted small">
                    {gate.signal ? signalLabel(gate.signal) : `${gate.provider ?? 'provider'} query`}
                    {gate.dryRun ? <span className="tag">dry run</span> : null}
                  </div>
                </th>
                <td>
                  <VerdictBadge verdict={result?.verdict} />
                  {result ? <div className="muted small">{formatAgo(result.at, now)}</div> : null}
                </td>
                <td className="num">{result ? formatValue(result.value, unit) : '—'}</td>
                <td className="num">{result ? formatValue(extra.baseline, unit) : '—'}</td>
                <td>
                  <div className="small">{describeJudge(gate.judge, unit)}</div>
                  {result?.reason ? <div className="muted small gate-reason">{result.reason}</div> : null}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
