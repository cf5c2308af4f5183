/** What the global setup hands every test file (vitest `inject('sentra')`). */
export interface SentraFixture {
  /** http://127.0.0.1:<port>: a real Sentra server (server/main.ts) with a controller beside it. */
  url: string
  /** The admin token (SENTRA_ADMIN_TOKEN) of that server. */
  token: string
  /** An application with three rollouts: v1 SUCCEEDED (initial deploy), v2 ABORTED, v3 PAUSED at 20 %. */
  application: string
  rollouts: { v1: string; v2: string; v3: string }
}

declare module 'vitest' {
  export interface ProvidedContext {
    sentra: SentraFixture
  }
}

/** A GraphQL call with the admin token, for setting up state (not the client under test). */
export async function adminGraphql<T>(fixture: Pick<SentraFixture, 'url' | 'token'>, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${fixture.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.token}` },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await response.json()) as { data?: T; errors?: unknown[] }
  if (body.errors || !body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors ?? body).slice(0, 1000)}`)
  return body.data
}
