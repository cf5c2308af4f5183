/**
 * Typed URL state: the rollout list's filters live in the query string (shareable, and
 * kept on reload), parsed and written only through these functions. Pure; the hook that
 * binds them to the router is in web/lib/use-url-state.ts.
 */
import type { RolloutStatus } from '../gql/graphql.ts'
import { isRolloutStatus, ROLLOUT_STATUSES } from './format.ts'

export type SearchParamsInput = URLSearchParams | Readonly<Record<string, string | string[] | undefined>>

export interface RolloutFilters {
  /** One application's rollouts, or every application's (null). */
  application: string | null
  /** Any of these statuses; empty = every status. */
  status: RolloutStatus[]
}

export const NO_FILTERS: RolloutFilters = { application: null, status: [] }

function all(params: SearchParamsInput, key: string): string[] {
  if (params instanceof URLSearchParams) return params.getAll(key)
  const value = params[key]
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

const APPLICATION = /^[a-z0-9][a-z0-9-]{0,62}$/i

/**
 * Reads `?application=demo&status=PROGRESSING,PAUSED` (also `status=A&status=B`); unknown
 * statuses and malformed names are dropped rather than sent to the API.
 */
export function parseRolloutFilters(params: SearchParamsInput): RolloutFilters {
  const application = all(params, 'application')[0]?.trim() ?? ''
  const requested = all(params, 'status').flatMap((v) => v.split(',')).map((v) => v.trim().toUpperCase())
  const status = ROLLOUT_STATUSES.filter((s) => requested.includes(s))
  return { application: APPLICATION.test(application) ? application : null, status: status.filter(isRolloutStatus) }
}

/** The query string for filters ("" when none), in a stable order: `?application=…&status=A,B`. */
export function serializeRolloutFilters(filters: RolloutFilters): string {
  const params = new URLSearchParams()
  if (filters.application) params.set('application', filters.application)
  const status = ROLLOUT_STATUSES.filter((s) => filters.status.includes(s))
  if (status.length > 0) params.set('status', status.join(','))
  const text = params.toString().replace(/%2C/g, ',')
  return text ? `?${text}` : ''
}

/** Whether a rollout (as its list row knows it) passes the filters. */
export function matchesFilters(filters: RolloutFilters, rollout: { applicationName: string; status: RolloutStatus }): boolean {
  if (filters.application !== null && rollout.applicationName !== filters.application) return false
  return filters.status.length === 0 || filters.status.includes(rollout.status)
}
