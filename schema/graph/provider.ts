import { parseProviderSpec } from '../provider-spec.ts'
import type { StoredProvider } from '../store/providers.ts'
import { builder } from './builder.ts'
import { badInput, invalidDocument, notFound } from './errors.ts'

/** Credentials never leave the server: the graph says only whether there are any. */
const ProviderRef = builder.objectRef<StoredProvider>('TelemetryProviderConfig').implement({
  description: 'A telemetry provider (Prometheus, Loki or Tempo) declared once and used by the gates of its kind.',
  fields: (t) => ({
    name: t.string({ resolve: (p) => p.spec.name }),
    kind: t.string({ description: 'prometheus, loki or tempo.', resolve: (p) => p.spec.kind }),
    url: t.string({ resolve: (p) => p.spec.url }),
    timeout: t.string({ resolve: (p) => p.spec.timeout }),
    tenant: t.string({ nullable: true, resolve: (p) => p.spec.tenant ?? null }),
    headerNames: t.stringList({ description: 'Names of the extra headers sent (values are not shown).', resolve: (p) => Object.keys(p.spec.headers).sort() }),
    authentication: t.string({
      description: 'none, bearer or basic (credentials are not shown).',
      resolve: (p) => (p.spec.bearerToken !== undefined ? 'bearer' : p.spec.basicAuth !== undefined ? 'basic' : 'none'),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

builder.queryFields((t) => ({
  providers: t.field({
    type: [ProviderRef],
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.store.providers.list(),
  }),
}))

builder.mutationFields((t) => ({
  applyProvider: t.field({
    type: ProviderRef,
    description: 'Creates or replaces a telemetry provider (YAML or JSON text, or an object).',
    authScopes: { admin: true },
    args: { spec: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, args, ctx) => {
      const parsed = parseProviderSpec(args.spec)
      if (!parsed.ok) throw invalidDocument('provider', parsed.issues)
      return ctx.store.providers.upsert(parsed.provider)
    },
  }),
  deleteProvider: t.field({
    type: 'Boolean',
    authScopes: { admin: true },
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      if (args.name.length > 63) throw badInput('name: too long', 'name')
      if (!(await ctx.store.providers.delete(args.name))) throw notFound(`provider "${args.name}" does not exist`)
      return true
    },
  }),
}))
