import { builder } from './builder.ts'
import { ApplicationRef, RolloutRef } from './refs.ts'
import { CommandRef } from './command.ts'
import { DecisionRef } from './decision.ts'
import { RolloutStatusEnum } from './enums.ts'
import { visibleApplications } from './context.ts'
import { badInput } from './errors.ts'
import { GateRef, GateResultRef, gatesOf } from './gate.ts'
import { parseGlobalId } from './ids.ts'
import { pageArgs, toConnection } from './pagination.ts'
import { StepRef } from './step.ts'
import { TelemetryWindowRef } from './telemetry.ts'

export { RolloutRef }

/** `last` on evidence lists: how many of the most recent to return (all when omitted). */
export function lastArg(value: number | null | undefined, path = 'last'): number | null {
  if (value == null) return null
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw badInput(`${path}: must be between 1 and 1000`, path)
  return value
}

builder.node(RolloutRef, {
  description: 'One attempt to move an application from its stable version to a new one.',
  id: { resolve: (r) => r.id },
  loadMany: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.rollout.load(id))),
  fields: (t) => ({
    application: t.field({
      type: ApplicationRef,
      resolve: async (r, _args, ctx) => {
        const app = await ctx.loaders.application.load(r.applicationId)
        if (!app) throw new Error(`rollout ${r.id} refers to missing application ${r.applicationId}`)
        return app
      },
    }),
    applicationName: t.exposeString('applicationName'),
    fromVersion: t.exposeString('fromVersion', { nullable: true, description: 'The stable version when the rollout started; null for an initial deploy.' }),
    toVersion: t.exposeString('toVersion'),
    status: t.expose('status', { type: RolloutStatusEnum }),
    canaryWeight: t.exposeInt('canaryWeight', { description: 'Percent of traffic the target last reported on the new version.' }),
    desiredWeight: t.exposeInt('desiredWeight', { description: 'Percent of traffic the controller last decided for the new version.' }),
    currentStepIndex: t.exposeInt('currentStepIndex'),
    stepStartedAt: t.expose('stepStartedAt', { type: 'DateTime', nullable: true }),
    seq: t.exposeInt('seq', { description: 'Per-rollout change sequence number; a gap means a missed event.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    evidencePrunedAt: t.expose('evidencePrunedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When evidence retention (SENTRA_EVIDENCE_RETENTION_DAYS) deleted this finished rollout\'s telemetry windows and gate results; its decisions, steps and linked traces stay. Null while they are kept.',
    }),
    steps: t.field({ type: [StepRef], resolve: (r, _a, ctx) => ctx.loaders.steps.load(r.id) }),
    currentStep: t.field({
      type: StepRef,
      nullable: true,
      resolve: async (r, _a, ctx) => (await ctx.loaders.steps.load(r.id))[r.currentStepIndex] ?? null,
    }),
    gates: t.field({
      type: [GateRef],
      description: "The application's gates with each one's latest result in this rollout.",
      resolve: (r, _a, ctx) => gatesOf(r, ctx),
    }),
    gateResults: t.field({
      type: [GateResultRef],
      args: { last: t.arg.int({ required: false }) },
      resolve: (r, args, ctx) => ctx.loaders.gateResults(lastArg(args.last)).load(r.id),
    }),
    windows: t.field({
      type: [TelemetryWindowRef],
      args: { last: t.arg.int({ required: false }) },
      resolve: (r, args, ctx) => ctx.loaders.windows(lastArg(args.last)).load(r.id),
    }),
    // traces: schema/graph/trace-fields.ts
    decisions: t.field({
      type: [DecisionRef],
      description: 'Every decision, oldest first (append-only).',
      args: { last: t.arg.int({ required: false }) },
      resolve: (r, args, ctx) => ctx.loaders.decisions(lastArg(args.last)).load(r.id),
    }),
    lastDecision: t.field({ type: DecisionRef, nullable: true, resolve: (r, _a, ctx) => ctx.loaders.lastDecision.load(r.id) }),
    commands: t.field({
      type: [CommandRef],
      description: 'Operator commands recorded for this rollout, oldest first.',
      resolve: (r, _a, ctx) => ctx.loaders.commands.load(r.id),
    }),
  }),
})

builder.queryFields((t) => ({
  rollouts: t.connection({
    type: RolloutRef,
    args: {
      application: t.arg.string({ required: false }),
      status: t.arg({ type: [RolloutStatusEnum], required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageArgs(args)
      if (args.application != null && args.application.length > 63) throw badInput('application: too long', 'application')
      if (args.status && args.status.length > 8) throw badInput('status: at most 8 statuses', 'status')
      return toConnection(
        // A per-application token's list holds only its applications; naming another gives an empty list, as for a name that does not exist.
        await ctx.store.rollouts.list({ first, after, application: args.application ?? null, statuses: args.status ?? null, applications: visibleApplications(ctx.actor) }),
      )
    },
  }),
  rollout: t.field({
    type: RolloutRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.loaders.rollout.load(parseGlobalId(args.id, 'Rollout')),
  }),
}))
