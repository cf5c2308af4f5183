import type { Decision } from '../store/models.ts'
import { builder } from './builder.ts'

export const DecisionRef = builder.objectRef<Decision>('Decision').implement({
  description: 'What Sentra (or a person) decided, why, and the evidence it decided on. Append-only.',
  fields: (t) => ({
    id: t.exposeID('id'),
    seq: t.exposeInt('seq'),
    at: t.expose('at', { type: 'DateTime' }),
    action: t.exposeString('action'),
    actor: t.exposeString('actor', { description: '"controller", or the name of the API token that commanded it.' }),
    reason: t.exposeString('reason'),
    stepIndex: t.exposeInt('stepIndex'),
    fromWeight: t.exposeInt('fromWeight'),
    toWeight: t.exposeInt('toWeight'),
    evidence: t.field({ type: 'JSON', description: 'Gate results with the values and thresholds that decided it.', resolve: (d) => d.evidence }),
  }),
})
