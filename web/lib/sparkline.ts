/**
 * Chart data shaping for the canary-vs-baseline sparklines: telemetry windows grouped by
 * signal into time series, and those series scaled into SVG path data. Pure; unit-tested
 * in test/web.
 */
import { SIGNAL_ORDER } from './format.ts'

export interface WindowLike {
  startAt: string
  endAt: string
  canary: readonly { signal: string; value: number | null }[]
  baseline: readonly { signal: string; value: number | null }[]
}

export interface SeriesPoint {
  /** The window's end, ms since the epoch. */
  t: number
  canary: number | null
  baseline: number | null
}

export interface SignalSeries {
  signal: string
  points: SeriesPoint[]
}

/**
 * One series per signal, points oldest first (windows may come in any order; two windows
 * ending at the same instant keep the later one). Signals in SIGNAL_ORDER first, others
 * after, alphabetically.
 */
export function seriesBySignal(windows: readonly WindowLike[]): SignalSeries[] {
  const sorted = [...windows]
    .map((w) => ({ w, t: Date.parse(w.endAt) }))
    .filter(({ t }) => Number.isFinite(t))
    .sort((a, b) => a.t - b.t)
  const bySignal = new Map<string, Map<number, SeriesPoint>>()
  for (const { w, t } of sorted) {
    const signals = new Set([...w.canary.map((v) => v.signal), ...w.baseline.map((v) => v.signal)])
    for (const signal of signals) {
      const points = bySignal.get(signal) ?? new Map<number, SeriesPoint>()
      bySignal.set(signal, points)
      points.set(t, {
        t,
        canary: finiteOrNull(w.canary.find((v) => v.signal === signal)?.value),
        baseline: finiteOrNull(w.baseline.find((v) => v.signal === signal)?.value),
      })
    }
  }
  const rank = (signal: string) => {
    const i = SIGNAL_ORDER.indexOf(signal)
    return i === -1 ? SIGNAL_ORDER.length : i
  }
  return [...bySignal.entries()]
    .map(([signal, points]) => ({ signal, points: [...points.values()] }))
    .sort((a, b) => rank(a.signal) - rank(b.signal) || a.signal.localeCompare(b.signal))
}

function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

export interface ChartBox {
  width: number
  height: number
  /** Inner padding, so strokes and markers are not clipped. */
  pad: number
}

export interface SparklineGeometry {
  canary: string
  baseline: string
  /** The value at the top of the chart (the bottom is 0). */
  yMax: number
  tMin: number
  tMax: number
  /** x of each decision marker inside the time range. */
  markers: { x: number; label: string }[]
  /** The last point with a value, for a dot at the end of each line. */
  lastCanary: { x: number; y: number } | null
  lastBaseline: { x: number; y: number } | null
}

/**
 * SVG path data for both lines on a shared scale: time on x (the series' range), value on
 * y from 0 to a little above the largest value. A missing value breaks the line (no data
 * is not zero). Markers at decision times within the range.
 */
export function sparkline(points: readonly SeriesPoint[], box: ChartBox, decisions: readonly { at: string; label: string }[] = []): SparklineGeometry {
  const empty: SparklineGeometry = { canary: '', baseline: '', yMax: 0, tMin: 0, tMax: 0, markers: [], lastCanary: null, lastBaseline: null }
  if (points.length === 0) return empty
  const tMin = points[0]!.t
  const tMax = points[points.length - 1]!.t
  const values = points.flatMap((p) => [p.canary, p.baseline]).filter((v): v is number => v !== null)
  const top = values.length > 0 ? Math.max(...values) : 0
  const yMax = top > 0 ? top * 1.15 : 1
  const innerW = box.width - box.pad * 2
  const innerH = box.height - box.pad * 2
  const x = (t: number) => box.pad + (tMax === tMin ? innerW : ((t - tMin) / (tMax - tMin)) * innerW)
  const y = (v: number) => box.pad + innerH - (Math.max(0, v) / yMax) * innerH
  const r = (n: number) => Math.round(n * 10) / 10

  function path(pick: (p: SeriesPoint) => number | null): { d: string; last: { x: number; y: number } | null } {
    let d = ''
    let drawing = false
    let last: { x: number; y: number } | null = null
    for (const p of points) {
      const v = pick(p)
      if (v === null) {
        drawing = false
        continue
      }
      const px = r(x(p.t))
      const py = r(y(v))
      d += `${drawing ? 'L' : 'M'}${px} ${py} `
      drawing = true
      last = { x: px, y: py }
    }
    // A lone point still shows: a short flat segment.
    if (points.filter((p) => pick(p) !== null).length === 1 && last) d = `M${r(last.x - 2)} ${last.y} L${last.x} ${last.y}`
    return { d: d.trim(), last }
  }

  const canary = path((p) => p.canary)
  const baseline = path((p) => p.baseline)
  const markers = decisions
    .map((d) => ({ t: Date.parse(d.at), label: d.label }))
    .filter(({ t }) => Number.isFinite(t) && t >= tMin && t <= tMax)
    .map(({ t, label }) => ({ x: r(x(t)), label }))
  return { canary: canary.d, baseline: baseline.d, yMax, tMin, tMax, markers, lastCanary: canary.last, lastBaseline: baseline.last }
}

/** The latest point with a canary or baseline value, for the numbers beside a chart. */
export function latest(points: readonly SeriesPoint[]): { canary: number | null; baseline: number | null } {
  let canary: number | null = null
  let baseline: number | null = null
  for (const p of points) {
    if (p.canary !== null) canary = p.canary
    if (p.baseline !== null) baseline = p.baseline
  }
  return { canary, baseline }
}
