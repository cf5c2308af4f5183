import { prepareApplication } from '../application-apply.ts'
import { DEFAULT_ENVIRONMENT } from '../spec/normalize.ts'
import { builder } from './builder.ts'
import { visibleApplications, visibleTo } from './context.ts'
import { forbidden, invalidDocument } from './errors.ts'
import { RolloutStatusEnum } from './enums.ts'
import { pageArgs, toConnection } from './pagination.ts'
import { ApplicationRef, RolloutRef } from './refs.ts'

export { ApplicationRef }

builder.node(ApplicationRef, {
  description: 'An application Sentra rolls out: its spec and its stable version.',
  id: { resolve: (app) => app.id },
  loadMany: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.application.load(id))),
  fields: (t) => ({
    name: t.exposeString('name'),
    spec: t.field({ type: 'JSON', description: 'The validated spec, with defaults filled in.', resolve: (app) => app.spec }),
    stableVersion: t.exposeString('stableVersion', { nullable: true }),
    policy: t.string({ nullable: true, description: 'The policy the spec was completed with at apply.', resolve: (app) => (app.spec as { policy?: string }).policy ?? null }),
    environment: t.string({ description: 'The environment whose guardrails the spec satisfied at apply.', resolve: (app) => (app.spec as { environment?: string }).environment ?? DEFAULT_ENVIRONMENT }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    rollouts: t.connection({
      type: RolloutRef,
      args: { status: t.arg({ type: [RolloutStatusEnum], required: false }) },
      resolve: async (app, args, ctx) => {
        const { first, after } = pageArgs(args)
        return toConnection(await ctx.store.rollouts.list({ first, after, application: app.name, statuses: args.status ?? null }))
      },
    }),
  }),
})

builder.queryFields((t) => ({
  applications: t.connection({
    type: ApplicationRef,
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageArgs(args)
      return toConnection(await ctx.store.applications.list({ first, after, names: visibleApplications(ctx.actor) }))
    },
  }),
  application: t.field({
    type: ApplicationRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    // An application the token may not see is null, exactly like one that does not exist.
    resolve: (_root, args, ctx) => (args.name.length > 63 || !visibleTo(ctx.actor)(args.name) ? null : ctx.store.applications.byName(args.name)),
  }),
}))

builder.mutationFields((t) => ({
  applyApplication: t.field({
    type: ApplicationRef,
    description: 'Creates or updates an application from its spec (the document `sentra apply -f` sends).',
    authScopes: { applicationAdmin: true },
    args: { spec: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, args, ctx) => {
      const parsed = await prepareApplication(ctx.store.policies, args.spec)
      if (!parsed.ok) throw invalidDocument('spec', parsed.issues)
      // Decided by the token's own list alone, before the application is looked up, so the
      // answer says nothing about whether an application of that name exists.
      if (!visibleTo(ctx.actor)(parsed.spec.name)) throw forbidden('applyApplication: this token may apply only the applications it is limited to')
      const app = await ctx.store.applications.upsert(parsed.spec.name, parsed.spec)
      await ctx.bus.publish('application.changed', { applicationId: app.id, name: app.name, at: new Date().toISOString() })
      return app
    },
  }),
}))
