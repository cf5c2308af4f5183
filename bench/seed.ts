import { plannedSteps } from '../schema/rollout-steps.ts'
import { assertSpec } from '../schema/spec.ts'
import type { Application, Store } from '../schema/store/index.ts'
import { demoSpec } from '../test/support/api.ts'

export interface SeedOptions {
  /** Applications the rollouts are spread over, round-robin (created with the 6-step demo spec). Default `['batched']`. */
  applications?: readonly string[]
}

/**
 * Seeds `count` finished rollouts of the demo spec (6 steps each), each with a gate result,
 * a telemetry window, a linked trace and two decisions, so every nested list of a rollout
 * has rows. Each rollout is marked SUCCEEDED before the next one of its application starts
 * (only one may be active per application). Shared by the API benchmark; the same data the
 * batching test seeds.
 */
export async function seedRollouts(store: Store, count: number, { applications = ['batched'] }: SeedOptions = {}): Promise<void> {
  if (applications.length === 0) throw new Error('seedRollouts: at least one application is needed')
  const apps: Application[] = []
  for (const name of applications) apps.push(await store.applications.upsert(name, assertSpec(demoSpec(name))))
  for (let i = 0; i < count; i++) {
    const app = apps[i % apps.length]!
    const version = `v${Math.floor(i / apps.length) + 2}`
    const steps = plannedSteps(assertSpec(app.spec))
    const rollout = await store.rollouts.create({ application: app, toVersion: version, steps })
    await store.rollouts.update(rollout.id, { status: 'SUCCEEDED', finishedAt: new Date() })
    await store.evidence.addGateResult({ rolloutId: rollout.id, stepIndex: 1, gate: 'errors', verdict: 'PASS', value: 0.001, reason: 'ok', evidence: {}, windowId: null })
    await store.evidence.addWindow({
      rolloutId: rollout.id,
      stepIndex: 1,
      provider: 'builtin',
      startAt: new Date(Date.now() - 5000),
      endAt: new Date(),
      canary: { errorRate: 0.001 },
      baseline: { errorRate: 0.002 },
    })
    await store.evidence.saveTraces([
      {
        rolloutId: rollout.id, stepIndex: 1, traceId: '0af7651916cd43dd8448eb211c80319c', version: version, status: 'ok', durationMs: 12.5, rootName: 'GET /', at: new Date(),
        application: app.name, service: app.name, error: false, source: 'otlp', spans: [],
      },
    ])
    for (let seq = 1; seq <= 2; seq++) {
      await store.decisions.append({
        rolloutId: rollout.id,
        seq,
        action: seq === 1 ? 'SET_WEIGHT' : 'PROMOTE',
        actor: 'controller',
        reason: 'healthy',
        stepIndex: 0,
        fromWeight: 0,
        toWeight: 5,
        evidence: { gates: [] },
      })
    }
  }
}
