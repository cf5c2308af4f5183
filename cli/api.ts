import { ApiError, NetworkError, type ApiErrorEntry } from './errors.ts'
import type { Connection } from './connection.ts'
import type { TypedDocumentString } from './gql/graphql.ts'
import { isPersistedMiss, operationPayload } from './persisted.ts'

/** How long one HTTP request may take before the CLI gives up on it. */
export const REQUEST_TIMEOUT_MS = 30_000
/** Answers larger than this are refused rather than buffered. */
const MAX_RESPONSE_BYTES = 16 << 20

/** A typed GraphQL request over HTTP; resolves to `data`, or throws {@link ApiError} / {@link NetworkError}. */
export type Request = <TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables) => Promise<TResult>

export interface Api {
  readonly connection: Connection
  readonly request: Request
}

/** The GraphQL errors of a response body, with their codes and spec issues. */
export function errorEntries(errors: unknown): ApiErrorEntry[] {
  if (!Array.isArray(errors)) return []
  return errors.map((raw: unknown) => {
    const error = (raw ?? {}) as { message?: unknown; extensions?: { code?: unknown; issues?: unknown } }
    const issues = Array.isArray(error.extensions?.issues)
      ? error.extensions.issues.flatMap((i: unknown) => {
          const issue = (i ?? {}) as { path?: unknown; message?: unknown }
          return typeof issue.message === 'string' ? [{ path: typeof issue.path === 'string' ? issue.path : '', message: issue.message }] : []
        })
      : []
    return {
      message: typeof error.message === 'string' ? error.message : 'unknown error',
      code: typeof error.extensions?.code === 'string' ? error.extensions.code : null,
      issues,
    }
  })
}

function describeFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined
  if (cause && typeof cause.message === 'string' && cause.message !== '') return cause.message
  if (cause && typeof cause.code === 'string') return cause.code
  return error instanceof Error ? error.message : String(error)
}

/** A client for the connection's `/graphql` endpoint, authenticated with its token. */
export function createApi(connection: Connection): Api {
  /** By hash first (cli/persisted.ts); as text only when the server does not know the hash. */
  async function request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    try {
      return await send<TResult, TVariables>(document, variables, false)
    } catch (error) {
      if (error instanceof ApiError && isPersistedMiss(error.errors)) return send<TResult, TVariables>(document, variables, true)
      throw error
    }
  }

  async function send<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, asText: boolean): Promise<TResult> {
    const url = connection.graphqlUrl
    const { query, ...rest } = operationPayload(document, variables, { asText })
    let response: Response
    let text: string
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${connection.token}`,
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
        },
        body: JSON.stringify(query === '' ? rest : { query, ...rest }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: 'error',
      })
      const length = Number(response.headers.get('content-length') ?? 0)
      if (length > MAX_RESPONSE_BYTES) throw new NetworkError(url, `the answer is too large (${length} bytes)`)
      text = await response.text()
    } catch (error) {
      if (error instanceof NetworkError) throw error
      throw new NetworkError(url, describeFailure(error))
    }
    let body: { data?: unknown; errors?: unknown }
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      const snippet = text.slice(0, 120).replace(/\s+/g, ' ').trim()
      throw new NetworkError(url, `HTTP ${response.status}, not a GraphQL answer${snippet ? `: ${snippet}` : ''}`)
    }
    const errors = errorEntries(body?.errors)
    if (errors.length > 0) throw new ApiError(errors)
    if (!response.ok || body?.data === undefined || body.data === null) {
      throw new ApiError([{ message: `HTTP ${response.status} with no data`, code: null, issues: [] }])
    }
    return body.data as TResult
  }
  return { connection, request }
}
