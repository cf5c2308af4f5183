import SchemaBuilder from '@pothos/core'
import RelayPlugin from '@pothos/plugin-relay'
import ScopeAuthPlugin from '@pothos/plugin-scope-auth'
import type { Json } from '../store/models.ts'
import { hasScope, type GraphContext } from './context.ts'
import { forbidden, unauthenticated } from './errors.ts'

/**
 * The one Pothos builder. It defines no types itself: each type family lives in its own
 * file beside the root fields that return it.
 */
export const builder = new SchemaBuilder<{
  Context: GraphContext
  DefaultFieldNullability: false
  /**
   * `admin` is administration of Sentra itself (tokens, providers, policies, webhooks): an
   * admin token limited to some applications does not have it, or it could mint itself an
   * unlimited token. `applicationAdmin` (applying application specs) is any admin token;
   * which applications it may apply is checked by the field.
   */
  AuthScopes: { read: boolean; operate: boolean; admin: boolean; applicationAdmin: boolean }
  Scalars: {
    ID: { Input: string; Output: string }
    DateTime: { Input: Date; Output: Date }
    JSON: { Input: Json; Output: unknown }
  }
}>({
  // ScopeAuth first, so authorization runs before anything else a field does.
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      read: hasScope(ctx.actor, 'read'),
      operate: hasScope(ctx.actor, 'operate'),
      admin: hasScope(ctx.actor, 'admin') && ctx.actor?.applications === null,
      applicationAdmin: hasScope(ctx.actor, 'admin'),
    }),
    unauthorizedError: (_parent, ctx, info, result) =>
      ctx.actor === null ? unauthenticated() : forbidden(`${info.parentType.name}.${info.fieldName}: ${result.message}`),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { authScopes: { read: true } },
    nodesQueryOptions: false,
    // Rollouts and applications are not paged backwards; keep the schema honest about it.
    defaultConnectionFieldOptions: {},
  },
})

builder.queryType({ authScopes: { read: true } })
builder.mutationType({})

