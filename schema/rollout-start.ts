import type { Bus } from './events/bus.ts'
import { plannedSteps } from './rollout-steps.ts'
import { assertSpec } from './spec.ts'
import type { Application, Rollout } from './store/models.ts'
import type { Store } from './store/index.ts'

/**
 * Creates a PENDING rollout of `version` with the spec's steps and announces it; the
 * controller takes it from there. A second active rollout of the application is a
 * ConflictError from the store (a unique index, so even two servers racing cannot both win).
 */
export async function beginRollout(store: Store, bus: Bus, app: Application, version: string): Promise<Rollout> {
  const rollout = await store.rollouts.create({ application: app, toVersion: version, steps: plannedSteps(assertSpec(app.spec)) })
  await bus.publish('rollout.changed', {
    rolloutId: rollout.id,
    application: app.name,
    seq: rollout.seq,
    status: rollout.status,
    kind: 'created',
    at: rollout.createdAt.toISOString(),
  })
  return rollout
}
