import { graphql } from '../gql/index.ts'
import type { WindowChartsFragment } from '../gql/graphql.ts'
import { formatSignal, signalLabel, statusLabel } from '../lib/format.ts'
import { latest, seriesBySignal, sparkline, type SignalSeries } from '../lib/sparkline.ts'

export const WindowChartsFields = graphql(`
  fragment WindowCharts on Rollout {
    evidencePrunedAt
    windows(last: 60) {
      id
      startAt
      endAt
      stepIndex
      canary {
        signal
        value
      }
      baseline {
        signal
        value
      }
    }
    decisions(last: 50) {
      id
      at
      action
    }
  }
`)

const BOX = { width: 260, height: 64, pad: 4 }

function Sparkline({ series, decisions }: { series: SignalSeries; decisions: { at: string; label: string }[] }) {
  const geometry = sparkline(series.points, BOX, decisions)
  const now = latest(series.points)
  const label = signalLabel(series.signal)
  const description = `${label}: canary ${formatSignal(series.signal, now.canary)}, baseline ${formatSignal(series.signal, now.baseline)}, over ${series.points.length} windows`
  return (
    <figure className="chart" data-signal={series.signal}>
      <figcaption>
        <span className="chart-title">{label}</span>
        <span className="chart-values">
          <span className="legend-canary" title="canary (new version)">
            {formatSignal(series.signal, now.canary)}
          </span>
          <span className="muted"> vs </span>
          <span className="legend-baseline" title="baseline (stable version)">
            {formatSignal(series.signal, now.baseline)}
          </span>
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${BOX.width} ${BOX.height}`} role="img" aria-label={description} preserveAspectRatio="none">
        <title>{description}</title>
        <line className="chart-axis" x1={BOX.pad} x2={BOX.width - BOX.pad} y1={BOX.height - BOX.pad} y2={BOX.height - BOX.pad} />
        {geometry.markers.map((m, i) => (
          <line key={`${m.x}-${i}`} className="chart-marker" x1={m.x} x2={m.x} y1={BOX.pad} y2={BOX.height - BOX.pad}>
            <title>{m.label}</title>
          </line>
        ))}
        <path className="chart-baseline" d={geometry.baseline} />
        <path className="chart-canary" d={geometry.canary} />
        {geometry.lastCanary ? <circle className="chart-canary-dot" cx={geometry.lastCanary.x} cy={geometry.lastCanary.y} r={2.5} /> : null}
      </svg>
      <div className="chart-scale muted small">0 – {formatSignal(series.signal, geometry.yMax)}</div>
    </figure>
  )
}

/** Canary vs baseline over the recent windows, one small chart per signal, with decision markers. */
export function WindowCharts({ rollout }: { rollout: WindowChartsFragment }) {
  const series = seriesBySignal(rollout.windows)
  if (series.length === 0 && rollout.evidencePrunedAt) {
    return (
      <p className="muted">
        Telemetry windows and gate results were deleted on {new Date(rollout.evidencePrunedAt).toISOString().slice(0, 10)} (evidence retention, <code>SENTRA_EVIDENCE_RETENTION_DAYS</code>). The decisions keep their own evidence.
      </p>
    )
  }
  if (series.length === 0) {
    return <p className="muted">No telemetry windows yet: they appear once an analysis step reads the canary and the baseline.</p>
  }
  const decisions = rollout.decisions.map((d) => ({ at: d.at, label: statusLabel(d.action) }))
  return (
    <div>
      <div className="chart-legend small">
        <span className="legend-canary">━ canary (new)</span> <span className="legend-baseline">━ baseline (stable)</span>{' '}
        <span className="legend-marker">┆ decision</span>
      </div>
      <div className="charts">
        {series.map((s) => (
          <Sparkline key={s.signal} series={s} decisions={decisions} />
        ))}
      </div>
    </div>
  )
}
