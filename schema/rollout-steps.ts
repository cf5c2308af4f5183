import type { AppSpec } from './spec.ts'
import { stepKind } from './spec.ts'
import type { StepKind } from './store/models.ts'

export interface PlannedStep {
  kind: StepKind
  spec: Record<string, unknown>
}

/**
 * The steps a new rollout of this spec will walk through, snapshotted into the rollout so a
 * later spec change does not move the ground under a running rollout. Blue/green is the
 * same walk: preview at 0 % public traffic, analyse, then switch all traffic at once.
 */
export function plannedSteps(spec: AppSpec): PlannedStep[] {
  const { strategy } = spec
  if (strategy.canary) {
    return strategy.canary.steps.map((step) => ({ kind: stepKind(step), spec: { ...step } }))
  }
  const blueGreen = strategy.blueGreen ?? {}
  // Without gates there is nothing to analyse: an analyze step would wait for ever.
  const analyze: PlannedStep[] = spec.gates.length > 0 ? [{ kind: 'analyze', spec: { analyze: { ...(blueGreen.analyze ?? {}) } } }] : []
  return [
    { kind: 'setWeight', spec: { setWeight: 0 } },
    ...analyze,
    ...(blueGreen.autoPromote === false ? [{ kind: 'pause' as const, spec: { pause: {} } }] : []),
    { kind: 'setWeight', spec: { setWeight: 100 } },
  ]
}
