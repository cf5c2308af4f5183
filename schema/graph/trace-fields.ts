import type { LinkedTrace } from '../store/models.ts'
import { builder } from './builder.ts'
import { DecisionRef } from './decision.ts'
import { pageArgs, toConnection } from './pagination.ts'
import { RolloutRef } from './refs.ts'
import { StepRef } from './step.ts'
import { TraceConnectionRef, TraceRef } from './trace.ts'
import { evidenceLogLines, evidenceTraceIds, type EvidenceLogLine } from './trace-evidence.ts'

/**
 * Where linked traces hang off the rest of the graph: Rollout.traces, RolloutStep.traces,
 * Decision.traces and Decision.logLines. Kept apart from the parent types so trace.ts and
 * step.ts do not import each other.
 */

const ORDER = 'Error traces first, then the slowest, then by id.'

builder.objectField(RolloutRef, 'traces', (t) =>
  t.connection(
    {
      type: TraceRef,
      description: `Traces linked to this rollout, over all steps. ${ORDER}`,
      args: { errorOnly: t.arg.boolean({ required: false, description: 'Only traces with an error.' }) },
      resolve: async (rollout, args, ctx) => {
        const { first, after } = pageArgs(args)
        return toConnection(await ctx.loaders.tracePages({ errorOnly: args.errorOnly ?? false, first, after }).load(rollout.id))
      },
    },
    TraceConnectionRef,
  ),
)

builder.objectField(StepRef, 'traces', (t) =>
  t.connection(
    {
      type: TraceRef,
      description: `Traces linked to this step. ${ORDER}`,
      args: { errorOnly: t.arg.boolean({ required: false, description: 'Only traces with an error.' }) },
      resolve: async (step, args, ctx) => {
        const { first, after } = pageArgs(args)
        const page = await ctx.loaders.stepTracePages({ errorOnly: args.errorOnly ?? false, first, after }).load({ rolloutId: step.rolloutId, stepIndex: step.index })
        return toConnection(page)
      },
    },
    TraceConnectionRef,
  ),
)

export const LogLineRef = builder.objectRef<EvidenceLogLine>('LogLine').implement({
  description: 'A log line a decision was made on (from a Loki gate).',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    line: t.exposeString('line'),
    labels: t.field({ type: 'JSON', description: 'The stream labels, name to value.', resolve: (l) => l.labels }),
  }),
})

builder.objectFields(DecisionRef, (t) => ({
  traces: t.field({
    type: [TraceRef],
    description: 'The linked traces this decision was made on (error traces first); those no longer stored are left out.',
    resolve: async (decision, _a, ctx) => {
      const ids = evidenceTraceIds(decision.evidence)
      const traces = await ctx.loaders.traceByRef.loadMany(ids.map((traceId) => ({ rolloutId: decision.rolloutId, traceId })))
      return traces.filter((t): t is LinkedTrace => t !== null && !(t instanceof Error))
    },
  }),
  logLines: t.field({
    type: [LogLineRef],
    description: 'The log lines this decision was made on (Loki gates), as the decision recorded them.',
    resolve: (decision) => evidenceLogLines(decision.evidence),
  }),
}))
