'use client'

import { useQuery } from 'urql'
import { graphql } from '../gql/index.ts'
import type { TokenScope } from '../gql/graphql.ts'
import { isUnauthenticated } from '../lib/client.ts'
import { useOnServer } from './live-provider.tsx'

const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      name
      scope
    }
  }
`)

/** Who the session's token is: its name and scope (null until known). */
export function useViewer(): { name: string | null; scope: TokenScope | null; unauthenticated: boolean } {
  const onServer = useOnServer()
  const [result] = useQuery({ query: ViewerQuery, pause: onServer, requestPolicy: 'cache-first' })
  return {
    name: result.data?.viewer.name ?? null,
    scope: result.data?.viewer.scope ?? null,
    unauthenticated: isUnauthenticated(result.error),
  }
}

/** The header's right side: who is signed in, and signing out. */
export function ViewerMenu() {
  const viewer = useViewer()
  return (
    <div className="viewer">
      {viewer.name ? (
        <span className="viewer-name" data-testid="viewer">
          {viewer.name} <span className="tag">{viewer.scope?.toLowerCase()}</span>
        </span>
      ) : null}
      <form method="post" action="/logout">
        <button type="submit" className="button button-quiet">
          Sign out
        </button>
      </form>
    </div>
  )
}
