'use client'

import Link from 'next/link'
import { useRouter } from 'next/navigation'
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { useLive, useNow, useOnServer } from '../../../../components/live-provider.tsx'
import { RolloutRow, rolloutHref } from '../../../../components/rollout-row.tsx'
import { LoadError, Loading, NotFound } from '../../../../components/states.tsx'
import { useViewer } from '../../../../components/viewer.tsx'
import { graphql } from '../../../../gql/index.ts'
import type { RolloutSummaryFragment } from '../../../../gql/graphql.ts'
import { canOperate } from '../../../../lib/commands.ts'
import { formatAgo, isActive } from '../../../../lib/format.ts'
import { mergeRows, overlayEvent } from '../../../../lib/live-rows.ts'

const ApplicationPageQuery = graphql(`
  query ApplicationPage($name: String!) {
    application(name: $name) {
      id
      name
      stableVersion
      spec
      createdAt
      updatedAt
      rollouts(first: 30) {
        edges {
          node {
            ...RolloutSummary
          }
        }
      }
    }
  }
`)

const ApplicationLive = graphql(`
  subscription ApplicationLive($name: String!) {
    rolloutEvents(application: $name) {
      kind
      seq
      rollout {
        ...RolloutSummary
      }
    }
  }
`)

const StartRollout = graphql(`
  mutation StartRollout($application: String!, $version: String!) {
    startRollout(application: $application, version: $version) {
      id
    }
  }
`)

function StartForm({ application, disabledReason }: { application: string; disabledReason: string | null }) {
  const [version, setVersion] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [state, start] = useMutation(StartRollout)
  const router = useRouter()
  async function submit(event: FormEvent) {
    event.preventDefault()
    setError(null)
    const result = await start({ application, version: version.trim() }, { additionalTypenames: ['Rollout'] })
    if (result.error) return setError(result.error.graphQLErrors.map((e) => e.message).join('; ') || result.error.message)
    if (result.data) router.push(rolloutHref(result.data.startRollout.id))
  }
  return (
    <form className="start-form" onSubmit={submit} aria-label="Start a rollout">
      <label className="field field-inline">
        <span>Roll out version</span>
        <input name="version" value={version} onChange={(e) => setVersion(e.target.value)} placeholder="v2" required maxLength={64} pattern="[A-Za-z0-9][A-Za-z0-9._+\-]*" />
      </label>
      <button type="submit" className="button button-primary" disabled={state.fetching || disabledReason !== null} title={disabledReason ?? undefined}>
        {state.fetching ? 'Starting…' : 'Start rollout'}
      </button>
      {disabledReason ? <span className="muted small">{disabledReason}</span> : null}
      {error ? (
        <p className="notice notice-bad" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  )
}

/** One application: its spec, its rollouts (live) with outcomes and durations, and starting a new one. */
export function ApplicationClient({ name }: { name: string }) {
  const onServer = useOnServer()
  const now = useNow()
  const viewer = useViewer()
  const { reconnects } = useLive()
  const [result, reexecute] = useQuery({ query: ApplicationPageQuery, variables: { name }, pause: onServer })
  const [live] = useSubscription({ query: ApplicationLive, variables: { name }, pause: onServer }, (overlay: Map<string, RolloutSummaryFragment> | undefined, event) =>
    overlayEvent(overlay, event.rolloutEvents.rollout),
  )
  useEffect(() => {
    if (reconnects > 0) reexecute({ requestPolicy: 'network-only' })
  }, [reconnects, reexecute])
  const app = result.data?.application
  const rollouts = useMemo(() => mergeRows(app?.rollouts.edges.map((e) => e.node) ?? [], live.data), [app, live.data])
  const finished = useMemo(() => [...(live.data?.values() ?? [])].filter((r) => !isActive(r.status)).length, [live.data])
  // A promotion changes the stable version: read the application again when a rollout ends.
  useEffect(() => {
    if (finished > 0) reexecute({ requestPolicy: 'network-only' })
  }, [finished, reexecute])

  if (!result.data) {
    return result.error ? <LoadError error={result.error} retry={() => reexecute({ requestPolicy: 'network-only' })} /> : <Loading what={name} />
  }
  if (!app) {
    return (
      <NotFound what="Application">
        <p className="muted">
          There is no application named <code>{name}</code>. <Link href="/applications">All applications</Link>
        </p>
      </NotFound>
    )
  }
  const active = rollouts.find((r) => isActive(r.status))
  return (
    <article className="stack">
      <nav aria-label="Breadcrumb" className="crumbs small">
        <Link href="/applications">Applications</Link>
      </nav>
      <div className="page-head">
        <h1>{app.name}</h1>
        <span className="muted">
          stable <strong className="version">{app.stableVersion ?? 'none yet'}</strong> · spec updated {formatAgo(app.updatedAt, now)}
        </span>
      </div>
      {canOperate(viewer.scope) ? (
        <section className="card">
          <StartForm application={app.name} disabledReason={active ? `${active.toVersion} is rolling out; wait for it to finish.` : null} />
        </section>
      ) : null}
      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title" className="card-title">
          Rollouts <span className="count">{rollouts.length}</span>
        </h2>
        {rollouts.length === 0 ? (
          <p className="muted empty">No rollouts yet.</p>
        ) : (
          <ul className="rollout-list">
            {rollouts.map((r) => (
              <RolloutRow key={r.id} rollout={r} now={now} />
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="spec-title">
        <h2 id="spec-title" className="card-title">
          Spec
        </h2>
        <pre className="spec">{JSON.stringify(app.spec, null, 2)}</pre>
      </section>
    </article>
  )
}
