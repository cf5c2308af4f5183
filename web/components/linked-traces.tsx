'use client'

import { useEffect, useRef, useState } from 'react'
import { useQuery } from 'urql'
import { graphql } from '../gql/index.ts'
import type { LinkedTraceRowFragment } from '../gql/graphql.ts'
import { formatAgo } from '../lib/format.ts'
import { formatSpanMs } from '../lib/waterfall.ts'
import { useLive, useOnServer } from './live-provider.tsx'
import { LoadError } from './states.tsx'
import { TraceWaterfall } from './trace-waterfall.tsx'

export const LinkedTraceRowFields = graphql(`
  fragment LinkedTraceRow on LinkedTrace {
    id
    traceId
    rootName
    service
    version
    stepIndex
    start
    durationMs
    error
    source
    ...TraceWaterfall
  }
`)

const RolloutTracesQuery = graphql(`
  query RolloutTraces($id: ID!, $errorOnly: Boolean, $first: Int!, $after: String) {
    rollout(id: $id) {
      id
      traces(errorOnly: $errorOnly, first: $first, after: $after) {
        edges {
          cursor
          node {
            ...LinkedTraceRow
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`)

/** Traces per page: each carries its spans (up to 500), so pages stay small. */
export const TRACES_PER_PAGE = 10
/** New traces arrive without a rollout event of their own; a rollout change refetches, at most this often. */
const REFRESH_EVERY_MS = 10_000

function TraceItem({ trace, open, toggle, now }: { trace: LinkedTraceRowFragment; open: boolean; toggle: () => void; now: number }) {
  return (
    <li className={`trace-item${trace.error ? ' trace-error' : ''}`} data-trace-id={trace.traceId} data-error={trace.error}>
      <button type="button" className="trace-summary" aria-expanded={open} onClick={toggle}>
        <span className={`badge ${trace.error ? 'tone-bad' : 'tone-neutral'}`}>{trace.error ? 'Error' : 'OK'}</span>
        <span className="trace-name">{trace.rootName}</span>
        <span className="muted small">
          {trace.service} {trace.version} · step {trace.stepIndex + 1} · {formatAgo(trace.start, now)}
        </span>
        <span className="trace-duration">{formatSpanMs(trace.durationMs)}</span>
      </button>
      {open ? <TraceWaterfall trace={trace} /> : null}
    </li>
  )
}

/**
 * The traces linked to a rollout, errors first and then the slowest (the API's order), a
 * page at a time, optionally errors only; each opens into its span waterfall. The first
 * trace of a page is open, as it is the one most worth reading.
 */
export function LinkedTraces({ rolloutId, seq, now }: { rolloutId: string; seq: number; now: number }) {
  const onServer = useOnServer()
  const { reconnects } = useLive()
  const [errorOnly, setErrorOnly] = useState(false)
  // Cursors of the pages before this one: "Newer" pops, "Next" pushes.
  const [cursors, setCursors] = useState<(string | null)[]>([null])
  const after = cursors[cursors.length - 1] ?? null
  const [openId, setOpenId] = useState<string | null | undefined>(undefined)
  const [result, reexecute] = useQuery({ query: RolloutTracesQuery, variables: { id: rolloutId, errorOnly, first: TRACES_PER_PAGE, after }, pause: onServer })

  // Refetch after the rollout changed (or the connection came back): at most every few
  // seconds, and once more after the last change of a burst.
  const seen = useRef(`${seq}:${reconnects}`)
  const lastRefresh = useRef(Date.now())
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => {
    const key = `${seq}:${reconnects}`
    if (onServer || seen.current === key) return
    seen.current = key
    if (pending.current) return
    const refresh = () => {
      pending.current = undefined
      lastRefresh.current = Date.now()
      reexecute({ requestPolicy: 'network-only' })
    }
    pending.current = setTimeout(refresh, Math.max(0, lastRefresh.current + REFRESH_EVERY_MS - Date.now()))
  }, [seq, reconnects, onServer, reexecute])
  useEffect(() => () => clearTimeout(pending.current), [])

  const connection = result.data?.rollout?.traces
  const traces = connection?.edges.map((edge) => edge.node) ?? []
  const shownOpen = openId === undefined ? (traces[0]?.id ?? null) : openId
  const page = cursors.length

  const changeFilter = (value: boolean) => {
    setErrorOnly(value)
    setCursors([null])
    setOpenId(undefined)
  }
  const turn = (next: (string | null)[]) => {
    setCursors(next)
    setOpenId(undefined)
  }

  return (
    <div className="linked-traces" data-testid="linked-traces">
      <div className="traces-toolbar">
        <label className="field-inline small">
          <input type="checkbox" checked={errorOnly} onChange={(event) => changeFilter(event.target.checked)} /> Errors only
        </label>
        <span className="muted small">Errors first, then the slowest.</span>
      </div>
      {result.error && !connection ? (
        <LoadError error={result.error} retry={() => reexecute({ requestPolicy: 'network-only' })} />
      ) : !connection ? (
        <p className="muted small" aria-busy="true">
          Loading traces…
        </p>
      ) : traces.length === 0 ? (
        <div className="empty-state traces-empty" role="status" data-testid="traces-empty">
          <h3>{page > 1 ? 'No more traces' : errorOnly ? 'No error traces' : 'No linked traces yet'}</h3>
          <p className="muted small">
            {errorOnly
              ? 'None of the traces linked to this rollout has an error span.'
              : 'Sentra links the canary’s and the baseline’s error and slowest traces here as they arrive: from services sending OTLP to its /v1/traces, or from a Tempo gate’s exemplars.'}
          </p>
        </div>
      ) : (
        <ol className="trace-list">
          {traces.map((trace) => (
            <TraceItem key={trace.id} trace={trace} now={now} open={shownOpen === trace.id} toggle={() => setOpenId(shownOpen === trace.id ? null : trace.id)} />
          ))}
        </ol>
      )}
      {page > 1 || connection?.pageInfo.hasNextPage ? (
        <nav className="pager small" aria-label="Trace pages">
          <button type="button" className="button" disabled={page <= 1} onClick={() => turn(cursors.slice(0, -1))}>
            Previous
          </button>
          <span className="muted">page {page}</span>
          <button
            type="button"
            className="button"
            disabled={!connection?.pageInfo.hasNextPage || !connection.pageInfo.endCursor}
            onClick={() => turn([...cursors, connection?.pageInfo.endCursor ?? null])}
          >
            Next
          </button>
        </nav>
      ) : null}
    </div>
  )
}
