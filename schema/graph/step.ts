import type { RolloutStep } from '../store/models.ts'
import { builder } from './builder.ts'
import { StepKindEnum, StepStatusEnum } from './enums.ts'

function field(step: RolloutStep, key: string): string | null {
  const inner = step.spec[step.kind]
  if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
    const value = inner[key]
    return typeof value === 'string' ? value : null
  }
  return null
}

export const StepRef = builder.objectRef<RolloutStep>('RolloutStep').implement({
  description: 'One step of a rollout, as the spec had it when the rollout started.',
  fields: (t) => ({
    index: t.exposeInt('index'),
    kind: t.expose('kind', { type: StepKindEnum }),
    status: t.expose('status', { type: StepStatusEnum }),
    setWeight: t.int({
      nullable: true,
      resolve: (s) => (s.kind === 'setWeight' && typeof s.spec.setWeight === 'number' ? s.spec.setWeight : null),
    }),
    analyzeMin: t.string({ nullable: true, resolve: (s) => (s.kind === 'analyze' ? field(s, 'min') : null) }),
    analyzeMax: t.string({ nullable: true, resolve: (s) => (s.kind === 'analyze' ? field(s, 'max') : null) }),
    pauseDuration: t.string({
      nullable: true,
      description: 'Null for a pause that waits for a person.',
      resolve: (s) => (s.kind === 'pause' ? field(s, 'duration') : null),
    }),
    spec: t.field({ type: 'JSON', resolve: (s) => s.spec }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
})
