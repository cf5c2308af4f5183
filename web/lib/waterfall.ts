/**
 * Span waterfall layout: a trace's spans (in any order, possibly with parents that were not
 * kept) → rows in tree order with their depth, and their start and length as percentages of
 * the trace's duration. Pure, so the component only draws.
 */

export type SpanStatusName = 'OK' | 'ERROR' | 'UNSET'

export interface WaterfallSpan {
  spanId: string
  parentSpanId?: string | null
  name: string
  startOffsetMs: number
  durationMs: number
  status: SpanStatusName
}

export interface WaterfallRow<S extends WaterfallSpan = WaterfallSpan> {
  span: S
  /** 0 for a root (or a span whose parent is not among the spans), +1 per ancestor shown. */
  depth: number
  /** Where the bar starts, 0-100 % of the trace's duration. */
  offsetPct: number
  /** How long the bar is, % of the trace's duration (at least `minWidthPct` so a 0 ms span stays visible). */
  widthPct: number
  error: boolean
  /** Its parent span was named but is not among the spans (cut off at the 500-span limit, or lost). */
  orphan: boolean
  childCount: number
}

export interface WaterfallLayout<S extends WaterfallSpan = WaterfallSpan> {
  rows: WaterfallRow<S>[]
  /** The scale's end: the latest span end (ms from the trace's start). */
  totalMs: number
  errorCount: number
}

/** A finite, non-negative number of milliseconds; anything else (NaN, negative, Infinity) is 0. */
function ms(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0
}

function byStart(a: WaterfallSpan, b: WaterfallSpan): number {
  return ms(a.startOffsetMs) - ms(b.startOffsetMs) || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0)
}

export function layoutWaterfall<S extends WaterfallSpan>(spans: readonly S[], { minWidthPct = 0.5 }: { minWidthPct?: number } = {}): WaterfallLayout<S> {
  // The first span with an id wins: a duplicate id would otherwise appear twice or loop.
  const byId = new Map<string, S>()
  for (const span of spans) if (!byId.has(span.spanId)) byId.set(span.spanId, span)
  const unique = [...byId.values()]

  const children = new Map<string, S[]>()
  const roots: S[] = []
  for (const span of unique) {
    const parent = span.parentSpanId
    if (parent && parent !== span.spanId && byId.has(parent)) {
      const list = children.get(parent) ?? []
      list.push(span)
      children.set(parent, list)
    } else {
      roots.push(span)
    }
  }
  for (const list of children.values()) list.sort(byStart)
  roots.sort(byStart)

  const totalMs = unique.reduce((latest, span) => Math.max(latest, ms(span.startOffsetMs) + ms(span.durationMs)), 0)
  const pct = (value: number) => (totalMs > 0 ? (value / totalMs) * 100 : 0)
  const rows: WaterfallRow<S>[] = []
  const placed = new Set<string>()

  // Iterative depth-first walk (a deep trace must not overflow the stack); `placed` also breaks parent cycles.
  const walk = (root: S) => {
    const stack: { span: S; depth: number }[] = [{ span: root, depth: 0 }]
    while (stack.length > 0) {
      const { span, depth } = stack.pop()!
      if (placed.has(span.spanId)) continue
      placed.add(span.spanId)
      // Spans end by totalMs, so only the minimum width can push a bar past 100 %: then it starts a little earlier.
      const widthPct = totalMs > 0 ? Math.min(100, Math.max(minWidthPct, pct(ms(span.durationMs)))) : 100
      const offsetPct = totalMs > 0 ? Math.max(0, Math.min(pct(ms(span.startOffsetMs)), 100 - widthPct)) : 0
      const kids = children.get(span.spanId) ?? []
      rows.push({
        span,
        depth,
        offsetPct,
        widthPct,
        error: span.status === 'ERROR',
        orphan: depth === 0 && !!span.parentSpanId && span.parentSpanId !== span.spanId && !byId.has(span.parentSpanId),
        childCount: kids.length,
      })
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ span: kids[i]!, depth: depth + 1 })
    }
  }
  for (const root of roots) walk(root)
  // Spans only reachable through a cycle (a → b → a) have no root: show them at the top level too.
  for (const span of unique.slice().sort(byStart)) if (!placed.has(span.spanId)) walk(span)

  return { rows, totalMs, errorCount: rows.filter((row) => row.error).length }
}

/** Round tick marks for the time axis: 0 and a few steps of 1, 2, 2.5 or 5 × 10^n ms up to `totalMs`. */
export function waterfallTicks(totalMs: number, target = 4): number[] {
  if (!(totalMs > 0) || !Number.isFinite(totalMs)) return [0]
  const raw = totalMs / target
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude
  const ticks: number[] = []
  for (let t = 0; t <= totalMs + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)))
  return ticks
}

/** A span's duration for people: 0.42 ms, 12 ms, 1.3 s. */
export function formatSpanMs(value: number): string {
  const v = ms(value)
  if (v < 1) return `${Number(v.toFixed(2))} ms`
  if (v < 1000) return `${Number(v.toPrecision(3))} ms`
  return `${Number((v / 1000).toPrecision(3))} s`
}

/** Only links we can vouch for: a URL that is not http(s) (javascript:, data:…) is not shown. */
export function safeTraceUrl(url: string | null | undefined): string | null {
  return url && /^https?:\/\/[^\s]+$/i.test(url) ? url : null
}
