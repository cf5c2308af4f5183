'use client'

import Link from 'next/link'
import { useEffect, useMemo } from 'react'
import { useQuery, useSubscription } from 'urql'
import { LoadError, Loading } from '../../components/states.tsx'
import { RolloutRow } from '../../components/rollout-row.tsx'
import { useLive, useNow, useOnServer } from '../../components/live-provider.tsx'
import { graphql } from '../../gql/index.ts'
import type { RolloutSummaryFragment } from '../../gql/graphql.ts'
import { isActive, ROLLOUT_STATUSES, statusLabel } from '../../lib/format.ts'
import { mergeRows, overlayEvent } from '../../lib/live-rows.ts'
import { matchesFilters, NO_FILTERS, type RolloutFilters } from '../../lib/url-state.ts'
import { useRolloutFilters } from '../../lib/use-url-state.ts'

const RolloutsPageQuery = graphql(`
  query RolloutsPage($application: String, $status: [RolloutStatus!]) {
    rollouts(first: 50, application: $application, status: $status) {
      edges {
        node {
          ...RolloutSummary
        }
      }
      pageInfo {
        hasNextPage
      }
    }
    applications(first: 100) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`)

const RolloutsLive = graphql(`
  subscription RolloutsLive($application: String) {
    rolloutEvents(application: $application) {
      kind
      seq
      rollout {
        ...RolloutSummary
      }
    }
  }
`)

function Filters({ filters, setFilters, applications }: { filters: RolloutFilters; setFilters: (f: RolloutFilters) => void; applications: string[] }) {
  const toggle = (status: (typeof ROLLOUT_STATUSES)[number]) =>
    setFilters({ ...filters, status: filters.status.includes(status) ? filters.status.filter((s) => s !== status) : [...filters.status, status] })
  const filtered = filters.application !== null || filters.status.length > 0
  return (
    <form className="filters" aria-label="Filter rollouts" onSubmit={(e) => e.preventDefault()}>
      <label className="field field-inline">
        <span>Application</span>
        <select value={filters.application ?? ''} onChange={(e) => setFilters({ ...filters, application: e.target.value || null })} name="application">
          <option value="">All applications</option>
          {[...new Set([...applications, ...(filters.application ? [filters.application] : [])])].map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <fieldset className="chips">
        <legend>Status</legend>
        {ROLLOUT_STATUSES.map((status) => (
          <label key={status} className="chip">
            <input type="checkbox" checked={filters.status.includes(status)} onChange={() => toggle(status)} name="status" value={status} />
            <span>{statusLabel(status)}</span>
          </label>
        ))}
      </fieldset>
      {filtered ? (
        <button type="button" className="button button-quiet" onClick={() => setFilters(NO_FILTERS)}>
          Clear filters
        </button>
      ) : null}
    </form>
  )
}

function RolloutList({ title, rows, now, empty }: { title: string; rows: RolloutSummaryFragment[]; now: number; empty: string }) {
  return (
    <section className="card" aria-labelledby={`${title}-title`}>
      <h2 id={`${title}-title`} className="card-title">
        {title} <span className="count">{rows.length}</span>
      </h2>
      {rows.length === 0 ? (
        <p className="muted empty">{empty}</p>
      ) : (
        <ul className="rollout-list">
          {rows.map((r) => (
            <RolloutRow key={r.id} rollout={r} now={now} />
          ))}
        </ul>
      )}
    </section>
  )
}

/** Every rollout, live: new ones appear, and each row's status, weight, step and last decision move as they change. */
export function RolloutsClient() {
  const [filters, setFilters] = useRolloutFilters()
  const onServer = useOnServer()
  const now = useNow()
  const { reconnects } = useLive()
  const variables = useMemo(() => ({ application: filters.application, status: filters.status.length > 0 ? filters.status : null }), [filters])
  const [result, reexecute] = useQuery({ query: RolloutsPageQuery, variables, pause: onServer })
  const [live] = useSubscription(
    { query: RolloutsLive, variables: { application: filters.application }, pause: onServer },
    (overlay: Map<string, RolloutSummaryFragment> | undefined, event) => overlayEvent(overlay, event.rolloutEvents.rollout),
  )
  // Events published while the connection was down are lost: read the list again.
  useEffect(() => {
    if (reconnects > 0) reexecute({ requestPolicy: 'network-only' })
  }, [reconnects, reexecute])

  const rows = useMemo(
    () => mergeRows(result.data?.rollouts.edges.map((e) => e.node) ?? [], live.data, (r) => matchesFilters(filters, r)),
    [result.data, live.data, filters],
  )
  const applications = result.data?.applications.edges.map((e) => e.node.name) ?? []

  let body
  if (!result.data && result.error) body = <LoadError error={result.error} retry={() => reexecute({ requestPolicy: 'network-only' })} />
  else if (!result.data) body = <Loading what="rollouts" />
  else if (rows.length === 0 && filters.application === null && filters.status.length === 0)
    body = (
      <div className="card empty-state">
        <h2>No rollouts yet</h2>
        <p className="muted">
          Start one with the <code>startRollout</code> mutation, or from an <Link href="/applications">application</Link>&apos;s page.
        </p>
      </div>
    )
  else {
    const active = rows.filter((r) => isActive(r.status))
    const finished = rows.filter((r) => !isActive(r.status))
    body = (
      <>
        <RolloutList title="Active" rows={active} now={now} empty="Nothing is rolling out right now." />
        <RolloutList title="Recent" rows={finished} now={now} empty="No finished rollouts match." />
        {result.data.rollouts.pageInfo.hasNextPage ? <p className="muted small">Showing the 50 most recent rollouts; filter by application or status to see others.</p> : null}
      </>
    )
  }

  return (
    <>
      <div className="page-head">
        <h1>Rollouts</h1>
        <Filters filters={filters} setFilters={setFilters} applications={applications} />
      </div>
      {body}
    </>
  )
}
