import type { Actor } from '../../schema/graph/index.ts'

/**
 * Everything an execution's result depends on besides the event: the document, the
 * operation, the variables and who may see what. Two subscribers with equal keys receive
 * byte-identical results, so they may share one source stream and one execution per event.
 *
 * The authorization part is the token's scope and its application set (not its id or
 * name: nothing a subscription returns depends on those). Different scopes or different
 * application sets never share: a token limited to app A must never receive app B data,
 * and objects it may not see must look missing to it, as they would on its own.
 */
export function fanoutKey({ query, operationName, variables, actor }: { query: string; operationName: string | null | undefined; variables: unknown; actor: Actor }): string {
  const applications = actor.applications === null ? '*' : JSON.stringify([...actor.applications].sort())
  return JSON.stringify([actor.scope, applications, operationName ?? null, canonicalJson(variables ?? null), query])
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` variables share a key. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key])
  return sorted
}
