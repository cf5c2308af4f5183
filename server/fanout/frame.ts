import type { ExecutionResult } from 'graphql'

/**
 * The `payload` of a graphql-ws `next` message, serialized exactly as graphql-ws's own
 * emit does (errors through toJSON, the key omitted when there are none), so a shared
 * execution's bytes are the bytes each subscriber would have received on its own.
 */
export function serializePayload(result: ExecutionResult): string {
  const { errors, ...rest } = result
  return JSON.stringify(errors ? { ...rest, errors: errors.map((error) => error.toJSON()) } : rest)
}

/**
 * A complete graphql-ws `next` message around an already serialized payload: only the
 * operation id differs between subscribers, so the payload is never stringified again.
 * Same key order as graphql-ws (id, type, payload).
 */
export function nextFrame(id: string, payload: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`
}
