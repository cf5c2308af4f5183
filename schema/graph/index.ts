import type { GraphQLSchema } from 'graphql'
import { builder } from './builder.ts'
import './scalars.ts'
import './enums.ts'
import './application.ts'
import './rollout.ts'
import './trace-fields.ts'
import './rollout-commands.ts'
import './rollout-events.ts'
import './token.ts'
import './provider.ts'
import './policy.ts'
import './webhook.ts'
import './audit.ts'

export type { Actor, GraphContext } from './context.ts'
export { createContext, hasScope } from './context.ts'

let built: GraphQLSchema | null = null

/** The one schema every process serves; built once. */
export function graphSchema(): GraphQLSchema {
  built ??= builder.toSchema({ sortSchema: true })
  return built
}
