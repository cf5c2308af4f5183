import type { Payloads } from '../events/channels.ts'
import type { Rollout } from '../store/models.ts'
import { builder } from './builder.ts'
import { createLoaders } from './loaders.ts'
import type { GraphContext } from './context.ts'
import { badInput, notFound } from './errors.ts'
import { parseGlobalId } from './ids.ts'
import { RolloutRef } from './rollout.ts'

type Change = Payloads['rollout.changed']

/** Refetches on every event: subscribers always get current state, and fresh loaders (no stale rows). */
async function current(ctx: GraphContext, rolloutId: string): Promise<Rollout | null> {
  ctx.loaders = createLoaders(ctx.store)
  return ctx.loaders.rollout.load(rolloutId)
}

async function* changesOf(ctx: GraphContext, rolloutId: string): AsyncGenerator<{ rolloutId: string }> {
  // Subscribe before reading, so nothing that happens in between is missed.
  const events = ctx.bus.iterate('rollout.changed', { filter: (e) => e.rolloutId === rolloutId })
  try {
    await events.ready
    if (!(await ctx.store.rollouts.byId(rolloutId))) throw notFound('rollout does not exist')
    yield { rolloutId }
    for await (const event of events) yield event
  } finally {
    await events.return?.()
  }
}

interface RolloutEventShape {
  kind: Change['kind']
  seq: number
  at: Date
  rollout: Rollout
}

const RolloutEventRef = builder.objectRef<RolloutEventShape>('RolloutEvent').implement({
  description: 'Something changed in a rollout; `rollout` is its state after the change.',
  fields: (t) => ({
    kind: t.exposeString('kind', { description: 'created, state, weight, step, window, decision or command.' }),
    seq: t.exposeInt('seq'),
    at: t.expose('at', { type: 'DateTime' }),
    rollout: t.field({ type: RolloutRef, resolve: (e) => e.rollout }),
  }),
})

builder.subscriptionType({ authScopes: { read: true } })

builder.subscriptionFields((t) => ({
  rolloutChanged: t.field({
    type: RolloutRef,
    description: 'The rollout now, then again after every change to its state, weight, windows or decisions.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => changesOf(ctx, parseGlobalId(args.id, 'Rollout')),
    resolve: async (event: { rolloutId: string }, _args, ctx) => {
      const rollout = await current(ctx, event.rolloutId)
      if (!rollout) throw notFound('rollout no longer exists')
      return rollout
    },
  }),
  rolloutEvents: t.field({
    type: RolloutEventRef,
    description: 'Every rollout change, optionally of one application: for dashboards and tools.',
    args: { application: t.arg.string({ required: false }) },
    subscribe: (_root, args, ctx) => {
      const application = args.application ?? null
      if (application !== null && application.length > 63) throw badInput('application: too long', 'application')
      return ctx.bus.iterate('rollout.changed', { filter: (e) => application === null || e.application === application })
    },
    resolve: async (event: Change, _args, ctx) => {
      const rollout = await current(ctx, event.rolloutId)
      if (!rollout) throw notFound('rollout no longer exists')
      return { kind: event.kind, seq: event.seq, at: new Date(event.at), rollout }
    },
  }),
}))
