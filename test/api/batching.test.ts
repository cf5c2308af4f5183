import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { plannedSteps } from '../../schema/rollout-steps.ts'
import { assertSpec } from '../../schema/spec.ts'
import type { Store } from '../../schema/store/index.ts'
import { DIALECTS } from '../support/databases.ts'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'

const PAGE = /* GraphQL */ `
  query Page($first: Int!) {
    rollouts(first: $first) {
      edges {
        node {
          id status canaryWeight
          application { name stableVersion }
          steps { index kind status setWeight }
          currentStep { index }
          gates { name lastResult { verdict value } }
          gateResults(last: 5) { gate verdict }
          windows(last: 2) { endAt canary { signal value } }
          traces(first: 2) { edges { node { traceId step { index } } } }
          lastDecision { action reason evidence }
          decisions(last: 3) { seq action }
          commands { kind }
        }
      }
    }
  }
`

/** Seeds `count` finished rollouts, each with evidence and decisions. */
async function seed(store: Store, count: number): Promise<void> {
  const app = await store.applications.upsert('batched', assertSpec(demoSpec('batched')))
  const steps = plannedSteps(assertSpec(app.spec))
  for (let i = 0; i < count; i++) {
    const rollout = await store.rollouts.create({ application: app, toVersion: `v${i + 2}`, steps })
    await store.rollouts.update(rollout.id, { status: 'SUCCEEDED', finishedAt: new Date() })
    await store.evidence.addGateResult({ rolloutId: rollout.id, stepIndex: 1, gate: 'errors', verdict: 'PASS', value: 0.001, reason: 'ok', evidence: {}, windowId: null })
    await store.evidence.addWindow({ rolloutId: rollout.id, stepIndex: 1, provider: 'builtin', startAt: new Date(Date.now() - 5000), endAt: new Date(), canary: { errorRate: 0.001 }, baseline: { errorRate: 0.002 } })
    await store.evidence.saveTraces([
      {
        rolloutId: rollout.id, stepIndex: 1, traceId: '0af7651916cd43dd8448eb211c80319c', version: `v${i + 2}`, status: 'ok', durationMs: 12.5, rootName: 'GET /', at: new Date(),
        application: app.name, service: app.name, error: false, source: 'otlp', spans: [],
      },
    ])
    for (let seq = 1; seq <= 2; seq++) {
      await store.decisions.append({ rolloutId: rollout.id, seq, action: seq === 1 ? 'SET_WEIGHT' : 'PROMOTE', actor: 'controller', reason: 'healthy', stepIndex: 0, fromWeight: 0, toWeight: 5, evidence: { gates: [] } })
    }
  }
}

describe.each(DIALECTS)('batched nested lists on %s', (dialect) => {
  let api: TestApi

  beforeAll(async () => {
    api = await startTestApi(dialect)
    await seed(api.store, 50)
  }, 120_000)
  afterAll(async () => {
    await api?.close()
  })

  async function queriesFor(first: number): Promise<number> {
    const before = api.store.db.stats.queries
    const result = await api.gql<{ rollouts: { edges: { node: { steps: unknown[]; decisions: unknown[]; gates: { lastResult: unknown }[] } }[] } }>(PAGE, { first })
    expect(result.errors).toBeUndefined()
    const edges = result.data!.rollouts.edges
    expect(edges).toHaveLength(first)
    for (const { node } of edges) {
      expect(node.steps).toHaveLength(6)
      expect(node.decisions).toHaveLength(2)
      expect(node.gates.find((g) => g.lastResult !== null)).toBeTruthy()
    }
    return api.store.db.stats.queries - before
  }

  it('costs the same constant number of SQL queries for 5 rollouts as for 50', async () => {
    // A token's first use records last_used_at (once a minute): keep that write out of the count.
    await api.gql(`{ viewer { name } }`)
    const five = await queriesFor(5)
    const fifty = await queriesFor(50)
    expect(fifty).toBe(five)
    // auth + page + one per nested list kind; nothing per rollout.
    expect(fifty).toBeLessThanOrEqual(14)
  })
})
