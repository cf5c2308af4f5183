import { GraphQLError } from 'graphql'

/** The codes DESIGN.md promises in `extensions.code`. */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'CONFLICT'

export interface FieldIssue {
  path: string
  message: string
}

export function graphError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } })
}

/** A bad argument or spec; `path` names the offending field (e.g. `strategy.canary.steps[2].setWeight`). */
export function badInput(message: string, path?: string, issues?: readonly FieldIssue[]): GraphQLError {
  return graphError('BAD_USER_INPUT', message, {
    ...(path !== undefined ? { path } : {}),
    ...(issues ? { issues } : {}),
  })
}

export const notFound = (message: string): GraphQLError => graphError('NOT_FOUND', message)
export const conflict = (message: string): GraphQLError => graphError('CONFLICT', message)
export const forbidden = (message: string): GraphQLError => graphError('FORBIDDEN', message)
export const unauthenticated = (): GraphQLError =>
  graphError('UNAUTHENTICATED', 'a valid API token is required (Authorization: Bearer <token>)')

/** A document that failed validation: every issue, the first one's path in `extensions.path`. */
export function invalidDocument(what: string, issues: readonly FieldIssue[]): GraphQLError {
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')
  return badInput(`invalid ${what}: ${summary}`, issues[0]?.path ?? '', issues)
}
