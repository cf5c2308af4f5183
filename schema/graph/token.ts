import type { ApiToken } from '../store/models.ts'
import { builder } from './builder.ts'
import { TokenScopeEnum } from './enums.ts'
import { badInput, notFound } from './errors.ts'

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$/

export const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  description: 'An API token. The token itself is shown once, when created; only its hash is kept.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    scope: t.expose('scope', { type: TokenScopeEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
})

const CreatedTokenRef = builder.objectRef<{ token: string; apiToken: ApiToken }>('CreatedApiToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Shown only now; store it safely.' }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (c) => c.apiToken }),
  }),
})

const ViewerRef = builder.objectRef<{ name: string; scope: ApiToken['scope'] }>('Viewer').implement({
  description: 'Who the caller is.',
  fields: (t) => ({
    name: t.exposeString('name'),
    scope: t.expose('scope', { type: TokenScopeEnum }),
  }),
})

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    resolve: (_root, _args, ctx) => ({ name: ctx.actor?.name ?? 'anonymous', scope: ctx.actor?.scope ?? 'read' }),
  }),
  apiTokens: t.field({
    type: [ApiTokenRef],
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.store.tokens.list(),
  }),
}))

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreatedTokenRef,
    authScopes: { admin: true },
    args: { name: t.arg.string({ required: true }), scope: t.arg({ type: TokenScopeEnum, required: true }) },
    resolve: (_root, args, ctx) => {
      if (!TOKEN_NAME.test(args.name)) throw badInput('name: 1-128 letters, digits, spaces and . _ @ -', 'name')
      return ctx.store.tokens.create(args.name, args.scope)
    },
  }),
  revokeApiToken: t.field({
    type: 'Boolean',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      if (args.id.length > 64) throw badInput('id: not a valid token id', 'id')
      if (!(await ctx.store.tokens.revoke(args.id))) throw notFound(`token ${args.id} does not exist or is already revoked`)
      return true
    },
  }),
}))
