import { type Insertable } from 'kysely'
import { plannedSteps } from '../../schema/rollout-steps.ts'
import { assertSpec, type AppSpec } from '../../schema/spec.ts'
import type { Store } from '../../schema/store/index.ts'
import { newId } from '../../schema/store/ids.ts'
import type { ApplicationsTable, RolloutStepsTable, RolloutsTable } from '../../schema/store/tables.ts'
import { CANARY_VERSION, STABLE_VERSION } from './traffic.ts'

/** The canary weight every seeded rollout is at (its first step, done). */
export const SEEDED_WEIGHT = 25
/** Rows per INSERT: well under MySQL's 65,535 placeholders and SQLite's 32,766. */
const BATCH = 500

export function applicationName(index: number): string {
  return `bench-${String(index).padStart(6, '0')}`
}

/**
 * A canary at 25 % in an analyze step judged by the sequential tests on the built-in
 * errorRate and latencyP95, ticking every `intervalSeconds`. The analysis runs at least a day,
 * so a healthy canary holds there (every tick judges and writes its evidence) and stays active.
 */
export function benchSpec(name: string, intervalSeconds: number): AppSpec {
  return assertSpec({
    name,
    target: { kind: 'kubernetes', namespace: 'bench', deployment: name, service: name },
    strategy: { canary: { steps: [{ setWeight: SEEDED_WEIGHT }, { analyze: { min: '24h' } }] } },
    gates: [
      { name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01, margin: '1%' } },
      { name: 'latency', signal: 'latencyP95', judge: { kind: 'sequential', alpha: 0.01, margin: '50%' } },
    ],
    interval: `${intervalSeconds}s`,
  })
}

/**
 * Adds applications `from`..`to - 1`, each with stable v1 and an active rollout to v2 that is
 * PROGRESSING in its analyze step at 25 %, as the controller would have left it. Multi-row
 * INSERTs through the store's own connection, in one transaction per batch (10,000 rollouts in
 * seconds; the repositories write one row at a time). Returns the new rollouts' ids.
 */
export async function seedActiveRollouts(store: Store, from: number, to: number, intervalSeconds: number): Promise<string[]> {
  const ids: string[] = []
  for (let start = from; start < to; start += BATCH) {
    const end = Math.min(to, start + BATCH)
    const now = Date.now()
    const applications: Insertable<ApplicationsTable>[] = []
    const rollouts: Insertable<RolloutsTable>[] = []
    const steps: Insertable<RolloutStepsTable>[] = []
    for (let i = start; i < end; i++) {
      const name = applicationName(i)
      const spec = benchSpec(name, intervalSeconds)
      const applicationId = newId()
      const rolloutId = newId()
      ids.push(rolloutId)
      applications.push({ id: applicationId, name, spec: JSON.stringify(spec), stable_version: STABLE_VERSION, created_at: now, updated_at: now })
      rollouts.push({
        id: rolloutId,
        application_id: applicationId,
        application_name: name,
        from_version: STABLE_VERSION,
        to_version: CANARY_VERSION,
        status: 'PROGRESSING',
        desired_weight: SEEDED_WEIGHT,
        canary_weight: SEEDED_WEIGHT,
        current_step_index: 1,
        step_started_at: now,
        seq: 2,
        active_key: applicationId,
        created_at: now,
        started_at: now,
        finished_at: null,
        updated_at: now,
      })
      plannedSteps(spec).forEach((step, idx) => {
        steps.push({
          rollout_id: rolloutId,
          idx,
          kind: step.kind,
          spec: JSON.stringify(step.spec),
          status: idx === 0 ? 'COMPLETED' : 'RUNNING',
          started_at: now,
          finished_at: idx === 0 ? now : null,
        })
      })
    }
    await store.db.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('applications').values(applications).execute()
      await trx.insertInto('rollouts').values(rollouts).execute()
      await trx.insertInto('rollout_steps').values(steps).execute()
    })
  }
  return ids
}
