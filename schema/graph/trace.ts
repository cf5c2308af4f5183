import type { LinkedTrace } from '../store/models.ts'
import { builder } from './builder.ts'

export const TraceRef = builder.objectRef<LinkedTrace>('LinkedTrace').implement({
  description: 'A trace linked to a rollout step: an exemplar of what the canary or the baseline served.',
  fields: (t) => ({
    id: t.exposeID('id'),
    traceId: t.exposeString('traceId'),
    stepIndex: t.exposeInt('stepIndex'),
    version: t.exposeString('version'),
    status: t.exposeString('status'),
    durationMs: t.exposeFloat('durationMs'),
    rootName: t.exposeString('rootName'),
    at: t.expose('at', { type: 'DateTime' }),
  }),
})
