'use client'

import { useRef, useState, type KeyboardEvent } from 'react'
import { graphql } from '../gql/index.ts'
import type { TraceWaterfallFragment } from '../gql/graphql.ts'
import { formatSpanMs, layoutWaterfall, safeTraceUrl, waterfallTicks } from '../lib/waterfall.ts'

export const TraceWaterfallFields = graphql(`
  fragment TraceWaterfall on LinkedTrace {
    traceId
    durationMs
    spanCount
    url
    spans {
      spanId
      parentSpanId
      name
      service
      kind
      startOffsetMs
      durationMs
      status
      attributes
    }
  }
`)

/** Deeper spans stop indenting here so their bars keep room on a phone-width screen. */
const MAX_INDENT = 12

function attributeText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * One trace's spans as a waterfall: nested by parent, bars to the trace's time scale, error
 * spans marked in words as well as colour. Each row is a button: arrow keys move between
 * rows, Enter or Space shows the span's attributes.
 */
export function TraceWaterfall({ trace }: { trace: TraceWaterfallFragment }) {
  const layout = layoutWaterfall(trace.spans)
  const ticks = waterfallTicks(layout.totalMs)
  const [open, setOpen] = useState<string | null>(null)
  const list = useRef<HTMLOListElement>(null)
  const link = safeTraceUrl(trace.url)

  function onKeyDown(event: KeyboardEvent<HTMLOListElement>) {
    const keys: Record<string, (i: number, n: number) => number> = {
      ArrowDown: (i, n) => Math.min(n - 1, i + 1),
      ArrowUp: (i) => Math.max(0, i - 1),
      Home: () => 0,
      End: (_i, n) => n - 1,
    }
    const move = keys[event.key]
    if (!move || !list.current) return
    const buttons = [...list.current.querySelectorAll<HTMLButtonElement>('button.span-row')]
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement)
    if (index < 0) return
    event.preventDefault()
    buttons[move(index, buttons.length)]?.focus()
  }

  return (
    <div className="waterfall" data-trace-id={trace.traceId}>
      <div className="waterfall-head small muted">
        <span>
          {layout.rows.length} span{layout.rows.length === 1 ? '' : 's'}
          {trace.spanCount > layout.rows.length ? ` of ${trace.spanCount} (the rest were not kept)` : ''} · {formatSpanMs(trace.durationMs)}
          {layout.errorCount > 0 ? ` · ${layout.errorCount} with errors` : ''}
        </span>
        {link ? (
          <a href={link} target="_blank" rel="noopener noreferrer" data-testid="trace-link">
            Open in Tempo/Grafana ↗
          </a>
        ) : null}
      </div>
      {layout.rows.length === 0 ? (
        <p className="muted small empty">This trace has no spans stored.</p>
      ) : (
        <>
          <div className="waterfall-axis small muted" aria-hidden="true">
            {ticks.map((tick) => (
              <span key={tick} style={{ left: `${layout.totalMs > 0 ? (tick / layout.totalMs) * 100 : 0}%` }}>
                {formatSpanMs(tick)}
              </span>
            ))}
          </div>
          <ol className="waterfall-rows" ref={list} onKeyDown={onKeyDown} aria-label={`Spans of trace ${trace.traceId}`}>
            {layout.rows.map((row) => {
              const { span } = row
              const expanded = open === span.spanId
              const attributes = span.attributes && typeof span.attributes === 'object' ? Object.entries(span.attributes as Record<string, unknown>) : []
              const label = `${span.name}, ${span.service}, ${formatSpanMs(span.durationMs)}, starts at ${formatSpanMs(span.startOffsetMs)}${row.error ? ', error' : ''}${row.orphan ? ', parent not kept' : ''}`
              return (
                <li key={span.spanId} className={`span${row.error ? ' span-error' : ''}`} data-span-id={span.spanId} data-depth={row.depth}>
                  <button type="button" className="span-row" aria-expanded={expanded} aria-label={label} onClick={() => setOpen(expanded ? null : span.spanId)}>
                    <span className="span-name" style={{ paddingLeft: `${Math.min(row.depth, MAX_INDENT) * 12}px` }}>
                      {row.error ? (
                        <span className="badge tone-bad span-error-mark" title="error status">
                          error
                        </span>
                      ) : null}
                      <span className="span-title">{span.name}</span> <span className="muted small">{span.service}</span>
                    </span>
                    <span className="span-track" aria-hidden="true">
                      <span className="span-bar" style={{ left: `${row.offsetPct}%`, width: `${row.widthPct}%` }} />
                    </span>
                    <span className="span-duration small">{formatSpanMs(span.durationMs)}</span>
                  </button>
                  {expanded ? (
                    <dl className="span-details small">
                      {[
                        ['kind', span.kind],
                        ['status', span.status],
                        ['starts', `+${formatSpanMs(span.startOffsetMs)}`],
                        ['span id', span.spanId],
                        ...attributes.map(([key, value]) => [key, attributeText(value)] as const),
                      ].map(([key, value], i) => (
                        <div key={`${i}:${key}`} className="span-attribute">
                          <dt>
                            <code>{key}</code>
                          </dt>
                          <dd>{value}</dd>
                        </div>
                      ))}
                    </dl>
                  ) : null}
                </li>
              )
            })}
          </ol>
        </>
      )}
    </div>
  )
}
