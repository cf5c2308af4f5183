import type { Payloads } from '../events/channels.ts'
import type { Rollout } from '../store/models.ts'
import { builder } from './builder.ts'
import { createLoaders } from './loaders.ts'
import { visibleTo, type GraphContext } from './context.ts'
import { badInput, graphError, notFound } from './errors.ts'
import { parseGlobalId } from './ids.ts'
import { RolloutRef } from './rollout.ts'

type Change = Payloads['rollout.changed']

/** Refetches on every event: subscribers always get current state, and fresh loaders (no stale rows). */
async function current(ctx: GraphContext, rolloutId: string): Promise<Rollout | null> {
  ctx.loaders = createLoaders(ctx.store, visibleTo(ctx.actor))
  return ctx.loaders.rollout.load(rolloutId)
}

/**
 * Ends a subscription once its token is revoked or expired: the token is checked again
 * (one indexed read, no hashing) before each event is sent, so an open subscription does
 * not outlive its token.
 */
async function* whileTokenValid<T>(ctx: GraphContext, events: AsyncIterable<T>): AsyncGenerator<T> {
  for await (const event of events) {
    if (ctx.actor && !(await ctx.store.tokens.isActive(ctx.actor.tokenId))) {
      throw graphError('UNAUTHENTICATED', 'the token is no longer valid (revoked or expired)')
    }
    yield event
  }
}

async function* changesOf(ctx: GraphContext, rolloutId: string): AsyncGenerator<{ rolloutId: string }> {
  // Subscribe before reading, so nothing that happens in between is missed.
  const events = ctx.bus.iterate('rollout.changed', { filter: (e) => e.rolloutId === rolloutId })
  try {
    await events.ready
    const rollout = await ctx.store.rollouts.byId(rolloutId)
    // Not visible to this token: the same answer as a rollout that does not exist.
    if (!rollout || !visibleTo(ctx.actor)(rollout.applicationName)) throw notFound('rollout does not exist')
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
    subscribe: (_root, args, ctx) => whileTokenValid(ctx, changesOf(ctx, parseGlobalId(args.id, 'Rollout'))),
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
      const visible = visibleTo(ctx.actor)
      return whileTokenValid(ctx, ctx.bus.iterate('rollout.changed', { filter: (e) => visible(e.application) && (application === null || e.application === application) }))
    },
    resolve: async (event: Change, _args, ctx) => {
      const rollout = await current(ctx, event.rolloutId)
      if (!rollout) throw notFound('rollout no longer exists')
      return { kind: event.kind, seq: event.seq, at: new Date(event.at), rollout }
    },
  }),
}))
