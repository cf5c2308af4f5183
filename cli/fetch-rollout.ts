import type { Request } from './api.ts'
import { ApiError } from './errors.ts'
import type { CliRolloutDetailFragment } from './gql/graphql.ts'
import { RolloutQuery } from './operations/rollouts.ts'

/** One rollout by its id, or an {@link ApiError} (`NOT_FOUND`) when there is none. */
export async function fetchRollout(request: Request, id: string): Promise<CliRolloutDetailFragment> {
  const { rollout } = await request(RolloutQuery, { id })
  if (!rollout) throw new ApiError([{ message: `no rollout with id ${id}`, code: 'NOT_FOUND', issues: [] }])
  return rollout
}
