'use client'

import Link from 'next/link'
import { useEffect, useMemo } from 'react'
import { useQuery, useSubscription } from 'urql'
import { StatusBadge } from '../../../components/badges.tsx'
import { useLive, useNow, useOnServer } from '../../../components/live-provider.tsx'
import { RolloutRow, rolloutHref } from '../../../components/rollout-row.tsx'
import { LoadError, Loading } from '../../../components/states.tsx'
import { graphql } from '../../../gql/index.ts'
import type { RolloutSummaryFragment } from '../../../gql/graphql.ts'
import { formatAgo, isActive } from '../../../lib/format.ts'
import { mergeRows, overlayEvent } from '../../../lib/live-rows.ts'

const ApplicationsPageQuery = graphql(`
  query ApplicationsPage {
    applications(first: 100) {
      edges {
        node {
          id
          name
          stableVersion
          updatedAt
          rollouts(first: 6) {
            edges {
              node {
                ...RolloutSummary
              }
            }
          }
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`)

const ApplicationsLive = graphql(`
  subscription ApplicationsLive {
    rolloutEvents {
      kind
      seq
      rollout {
        ...RolloutSummary
      }
    }
  }
`)

/** Every application: its stable version, the rollout in flight, and how the recent ones ended. */
export function ApplicationsClient() {
  const onServer = useOnServer()
  const now = useNow()
  const { reconnects } = useLive()
  const [result, reexecute] = useQuery({ query: ApplicationsPageQuery, pause: onServer })
  const [live] = useSubscription({ query: ApplicationsLive, pause: onServer }, (overlay: Map<string, RolloutSummaryFragment> | undefined, event) =>
    overlayEvent(overlay, event.rolloutEvents.rollout),
  )
  useEffect(() => {
    if (reconnects > 0) reexecute({ requestPolicy: 'network-only' })
  }, [reconnects, reexecute])
  // A promotion changes an application's stable version: read it again when a rollout finishes.
  const finishedCount = useMemo(() => [...(live.data?.values() ?? [])].filter((r) => !isActive(r.status)).length, [live.data])
  useEffect(() => {
    if (finishedCount > 0) reexecute({ requestPolicy: 'network-only' })
  }, [finishedCount, reexecute])

  if (!result.data) {
    return (
      <>
        <h1>Applications</h1>
        {result.error ? <LoadError error={result.error} retry={() => reexecute({ requestPolicy: 'network-only' })} /> : <Loading what="applications" />}
      </>
    )
  }
  const apps = result.data.applications.edges.map((e) => e.node)
  return (
    <>
      <div className="page-head">
        <h1>Applications</h1>
      </div>
      {apps.length === 0 ? (
        <div className="card empty-state">
          <h2>No applications yet</h2>
          <p className="muted">
            Apply a spec with the <code>applyApplication</code> mutation (an admin token), or set <code>SENTRA_CONFIG</code>.
          </p>
        </div>
      ) : (
        <ul className="apps">
          {apps.map((app) => {
            const rollouts = mergeRows(
              app.rollouts.edges.map((e) => e.node),
              live.data,
              (r) => r.applicationName === app.name,
            )
            const current = rollouts.find((r) => isActive(r.status))
            const recent = rollouts.filter((r) => !isActive(r.status)).slice(0, 5)
            return (
              <li key={app.id} className="card app" data-application={app.name}>
                <div className="app-head">
                  <h2 className="card-title">
                    <Link href={`/applications/${encodeURIComponent(app.name)}`}>{app.name}</Link>
                  </h2>
                  <span className="muted small">
                    stable <strong className="version">{app.stableVersion ?? 'none yet'}</strong> · spec updated {formatAgo(app.updatedAt, now)}
                  </span>
                </div>
                {current ? (
                  <ul className="rollout-list">
                    <RolloutRow rollout={current} now={now} />
                  </ul>
                ) : (
                  <p className="muted small">Nothing rolling out.</p>
                )}
                {recent.length > 0 ? (
                  <div className="outcomes small">
                    <span className="muted">Recent:</span>
                    {recent.map((r) => (
                      <Link key={r.id} href={rolloutHref(r.id)} className="outcome">
                        {r.toVersion} <StatusBadge status={r.status} />
                      </Link>
                    ))}
                  </div>
                ) : null}
              </li>
            )
          })}
        </ul>
      )}
    </>
  )
}
