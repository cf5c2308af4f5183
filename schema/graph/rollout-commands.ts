import { commandRefusal } from '../commands.ts'
import { preflight } from '../preflight.ts'
import { beginRollout } from '../rollout-start.ts'
import { assertSpec } from '../spec.ts'
import type { CommandKind, Rollout } from '../store/models.ts'
import { builder } from './builder.ts'
import { visibleTo, type GraphContext } from './context.ts'
import { badInput, conflict, invalidDocument, notFound } from './errors.ts'
import { parseGlobalId } from './ids.ts'
import { RolloutRef } from './rollout.ts'

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/
const MAX_REASON = 1000

function checkReason(reason: string | null | undefined): string | null {
  if (reason == null) return null
  if (reason.length > MAX_REASON) throw badInput(`reason: at most ${MAX_REASON} characters`, 'reason')
  return reason
}

/**
 * Operator commands never change a rollout here: the controller that holds the rollout is
 * its only writer. The API checks the command is legal now, records it with its actor,
 * and publishes it; the controller applies it (at once, on the event) and decides.
 */
async function command(
  ctx: GraphContext,
  rawId: string,
  kind: CommandKind,
  options: { full?: boolean; reason?: string | null } = {},
): Promise<Rollout> {
  const id = parseGlobalId(rawId, 'Rollout')
  const reason = checkReason(options.reason)
  const rollout = await ctx.store.rollouts.byId(id)
  // A rollout of an application the token may not see does not exist, as far as it can tell.
  if (!rollout || !visibleTo(ctx.actor)(rollout.applicationName)) throw notFound(`rollout ${rawId} does not exist`)
  const refusal = commandRefusal(kind, rollout.status)
  if (refusal) throw conflict(refusal)
  const actor = ctx.actor?.name ?? 'unknown'
  const recorded = await ctx.store.commands.record({ rolloutId: id, kind, full: options.full ?? false, actor, reason })
  const at = recorded.createdAt.toISOString()
  await ctx.bus.publish('rollout.command', {
    commandId: recorded.id,
    rolloutId: id,
    application: rollout.applicationName,
    kind,
    full: recorded.full,
    actor,
    at,
  })
  await ctx.bus.publish('rollout.changed', {
    rolloutId: id,
    application: rollout.applicationName,
    seq: rollout.seq,
    status: rollout.status,
    kind: 'command',
    at,
  })
  return rollout
}

builder.mutationFields((t) => ({
  startRollout: t.field({
    type: RolloutRef,
    description: 'Starts rolling out a version; refused (CONFLICT) while another rollout of the application is active.',
    authScopes: { operate: true },
    args: { application: t.arg.string({ required: true }), version: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      if (!VERSION.test(args.version)) {
        throw badInput('version: 1-64 characters of letters, digits and . _ + -, starting with a letter or digit', 'version')
      }
      const app = args.application.length <= 63 && visibleTo(ctx.actor)(args.application) ? await ctx.store.applications.byName(args.application) : null
      if (!app) throw notFound(`application "${args.application.slice(0, 63)}" does not exist`)
      if (app.stableVersion === args.version) throw conflict(`${args.version} is already the stable version of ${app.name}`)
      const spec = assertSpec(app.spec)
      const issues = await preflight(ctx.bus, spec, args.version)
      if (issues && issues.length > 0) {
        const fields = issues.map((issue) => {
          const index = spec.gates.findIndex((gate) => gate.name === issue.gate)
          return { path: `gates[${index}].query`, message: `${issue.provider}: ${issue.message}` }
        })
        throw invalidDocument(`provider gates of ${app.name} (their dry run failed)`, fields)
      }
      return beginRollout(ctx.store, ctx.bus, app, args.version)
    },
  }),
  promoteRollout: t.field({
    type: RolloutRef,
    description: 'Advances to the next step, or with full: true straight to 100 % and promotion.',
    authScopes: { operate: true },
    args: { id: t.arg.id({ required: true }), full: t.arg.boolean({ required: false }) },
    resolve: (_root, args, ctx) => command(ctx, args.id, 'PROMOTE', { full: args.full ?? false }),
  }),
  pauseRollout: t.field({
    type: RolloutRef,
    authScopes: { operate: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: false }) },
    resolve: (_root, args, ctx) => command(ctx, args.id, 'PAUSE', { reason: args.reason }),
  }),
  resumeRollout: t.field({
    type: RolloutRef,
    authScopes: { operate: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => command(ctx, args.id, 'RESUME'),
  }),
  rollbackRollout: t.field({
    type: RolloutRef,
    authScopes: { operate: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: false }) },
    resolve: (_root, args, ctx) => command(ctx, args.id, 'ROLLBACK', { reason: args.reason }),
  }),
  abortRollout: t.field({
    type: RolloutRef,
    description: 'Stops the rollout where it is and sends all traffic to the stable version.',
    authScopes: { operate: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: false }) },
    resolve: (_root, args, ctx) => command(ctx, args.id, 'ABORT', { reason: args.reason }),
  }),
}))
