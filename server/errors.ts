import { GraphQLError } from 'graphql'
import { BadCursorError, ConflictError, NotFoundError } from '../schema/store/errors.ts'
import { SpecError } from '../schema/spec.ts'
import { isStoreUnavailable, STORE_RETRY_AFTER_SECONDS, STORE_UNAVAILABLE_MESSAGE } from './health.ts'
import { badInput, conflict, invalidDocument, notFound } from '../schema/graph/errors.ts'

/**
 * Known domain errors become GraphQL errors with their code; anything else is masked as
 * "Unexpected error." so no stack trace or SQL text reaches a client.
 */
export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error
  const path = error instanceof GraphQLError ? error.path : undefined
  const mapped = mapDomainError(original)
  if (mapped) return new GraphQLError(mapped.message, { path, extensions: mapped.extensions })
  // The database went away mid-request: retryable and not our bug, so no stack in the log either.
  if (isStoreUnavailable(original)) return new GraphQLError(STORE_UNAVAILABLE_MESSAGE, { path, extensions: { code: 'STORE_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) } } } })
  if (error instanceof GraphQLError && !error.originalError) return error
  // Yoga reads `variables`/`extensions` of a GET query string or a form body with a bare
  // JSON.parse; bad text throws a SyntaxError here, unwrapped (resolver errors come wrapped
  // in a GraphQLError), and it is the client's mistake, not ours.
  if (error instanceof SyntaxError) {
    return new GraphQLError('the request is not valid: its variables or extensions are not JSON', { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } })
  }
  if (original instanceof GraphQLError) {
    // Our resolvers' errors carry a code; graphql-js's own (e.g. a bad enum in variables)
    // read best as graphql-js wrote them, with the variable and path it names.
    if (original.extensions.code !== undefined || !(error instanceof GraphQLError)) {
      return new GraphQLError(original.message, { path, extensions: original.extensions })
    }
    return error
  }
  console.error('unexpected error while answering GraphQL:', original)
  return new GraphQLError(message, { path, extensions: { code: 'INTERNAL_SERVER_ERROR' } })
}

function mapDomainError(error: unknown): GraphQLError | null {
  if (error instanceof ConflictError) return conflict(error.message)
  if (error instanceof NotFoundError) return notFound(error.message)
  if (error instanceof BadCursorError) return badInput(error.message, 'after')
  if (error instanceof SpecError) return invalidDocument('spec', error.issues)
  return null
}
