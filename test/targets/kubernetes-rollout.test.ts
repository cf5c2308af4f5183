/**
 * Rollouts of a Kubernetes application through the real controller (startControllerRuntime
 * with `targets: { kubernetes }`), the API on SQLite, and the Kubernetes API stand-in.
 *
 * Gates: none. Kubernetes traffic does not pass through Sentra's proxy, so the built-in
 * signals (errorRate, latencyP95) have no data for a Kubernetes application, and an
 * analysis on them would be INCONCLUSIVE until it pauses. The spec walks setWeight steps
 * and a pause that a person resumes (resumeRollout), which is how a team without a
 * Prometheus provider would run it; a failing version is caught by the Deployment's
 * progress deadline (canaryFailure), which needs no telemetry at all.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { KubernetesTarget } from '../../controller/targets/kubernetes.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { image, kubeConfigFor, routeWeights, seedObjects, NAMESPACE } from '../../controller/targets/kubernetes-test-support.ts'
import { KubernetesStandIn } from '../standins/kubernetes.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 120_000 })

const ROLLOUT = `query($id: ID!) { rollout(id: $id) { id status canaryWeight desiredWeight decisions { action reason } } }`

interface RolloutView {
  id: string
  status: string
  canaryWeight: number
  desiredWeight: number
  decisions: { action: string; reason: string }[]
}

const SPEC = {
  name: 'web',
  target: { kind: 'kubernetes', namespace: NAMESPACE, deployment: 'web', service: 'web', httpRoute: 'web' },
  strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: '1s' } }] } },
  interval: '1s',
}

describe('a Kubernetes application rolled out by the controller (stand-in API server)', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let standIn: KubernetesStandIn

  async function start(version: string): Promise<string> {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "web", version: $v) { id } }`, { v: version }, api.tokens.operate)
    expect(started.errors).toBeUndefined()
    return started.data!.startRollout.id
  }
  const view = async (id: string): Promise<RolloutView> => (await api.gql<{ rollout: RolloutView }>(ROLLOUT, { id })).data!.rollout
  const until = (id: string, done: (r: RolloutView) => boolean, what: string) => waitFor(() => view(id), done, { timeoutMs: 60_000, what })

  beforeAll(async () => {
    standIn = await KubernetesStandIn.start({ readyDelayMs: 30, progressDeadlineMs: 500 })
    for (const object of seedObjects(2, true)) standIn.seed(object)
    api = await startTestApi('sqlite')
    const kubernetes = new KubernetesTarget({ kubeConfig: kubeConfigFor(standIn), pollMs: 200 })
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false, targets: { kubernetes } })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: SPEC }, api.tokens.admin)
    expect(applied.errors).toBeUndefined()
  })
  afterAll(async () => {
    await runtime?.stop()
    await api?.close()
    await standIn?.close()
  })

  it('deploys the first version by setting the stable Deployment image', async () => {
    const id = await start('1.0.0')
    const done = await until(id, (r) => r.status === 'SUCCEEDED', 'initial deploy')
    expect(done.decisions.map((d) => d.action)).toEqual(['INITIAL_DEPLOY'])
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.0.0')
  })

  it('walks the HTTPRoute weights step by step, waits for a person, and promotes', async () => {
    const id = await start('1.1.0')
    const paused = await until(id, (r) => r.status === 'PAUSED', 'the pause step')
    // The weight the rollout shows is the one read back from the HTTPRoute.
    expect(paused.canaryWeight).toBe(20)
    expect(routeWeights(standIn)).toEqual([
      ['web', 80],
      ['web-canary', 20],
    ])
    expect(image(standIn, 'web-canary')).toBe('ghcr.io/acme/web:1.1.0')

    const resumed = await api.gql(`mutation($id: ID!) { resumeRollout(id: $id) { id } }`, { id }, api.tokens.operate)
    expect(resumed.errors).toBeUndefined()
    // The decision is stored before it is carried out: wait for the weight read back after promote too.
    const done = await until(id, (r) => (r.status === 'SUCCEEDED' && r.canaryWeight === 100) || r.status === 'ROLLED_BACK', 'promotion')
    expect(done.status).toBe('SUCCEEDED')
    expect(done.decisions.map((d) => d.action)).toContain('PROMOTE')
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.1.0')
    expect(routeWeights(standIn)).toEqual([['web', 100]])
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect((await api.store.applications.byName('web'))?.stableVersion).toBe('1.1.0')
  })

  it('rolls back a version whose Deployment never becomes ready (progress deadline), with the reason', async () => {
    standIn.failVersion('1.2.0')
    const id = await start('1.2.0')
    const done = await until(id, (r) => ['ROLLED_BACK', 'SUCCEEDED', 'FAILED'].includes(r.status) && standIn.object('Deployment', NAMESPACE, 'web-canary') === undefined, 'rollback')
    expect(done.status).toBe('ROLLED_BACK')
    const rollback = done.decisions.find((d) => d.action === 'ROLLBACK')
    expect(rollback?.reason).toMatch(/ProgressDeadlineExceeded/)
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.1.0')
    expect(routeWeights(standIn)).toEqual([['web', 100]])
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
  })
})
