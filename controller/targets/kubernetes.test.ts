import { afterEach, describe, expect, it } from 'vitest'
import { canaryApp, fixture, image, NAMESPACE, replicas, rollout, routeWeights, selector, type Fixture } from './kubernetes-test-support.ts'

const opened: Fixture[] = []

async function open(options: Parameters<typeof fixture>[0] = {}): Promise<Fixture> {
  const made = await fixture(options)
  opened.push(made)
  return made
}

afterEach(async () => {
  for (const f of opened.splice(0)) {
    await f.target.close()
    await f.standIn.close()
  }
})

describe('KubernetesTarget, canary by HTTPRoute weight', () => {
  it('labels the stable Deployment, makes it select by role, and runs the version asked for', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    await target.ensureStable(app, '1.0.0')
    await target.ensureStable(app, '1.0.0')
    const stable = standIn.object('Deployment', NAMESPACE, 'web')!
    expect((stable.spec as { template: { metadata: { labels: object } } }).template.metadata.labels).toEqual({
      app: 'web',
      'sentra.dev/application': 'web',
      'sentra.dev/version': '1.0.0',
      'sentra.dev/role': 'stable',
    })
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'stable' })
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.0.0')
  })

  it('prepares a canary Deployment and Service, sets route weights per step, observes them, and promotes', async () => {
    // Ready only after 500 ms: long enough that the first read finds it not ready even on a busy machine, so it is watched.
    const { standIn, target } = await open({ standIn: { readyDelayMs: 500 } })
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    await target.prepare(r)
    expect(image(standIn, 'web-canary')).toBe('ghcr.io/acme/web:1.1.0')
    expect(replicas(standIn, 'web-canary')).toBe(2)
    // Readiness was waited for with a watch of the one Deployment.
    expect(standIn.calls().some((c) => c.verb === 'watch' && c.path.endsWith('/deployments'))).toBe(true)
    expect(selector(standIn, 'web-canary')).toEqual({ app: 'web', 'sentra.dev/role': 'canary' })
    expect(routeWeights(standIn)).toEqual([
      ['web', 100],
      ['web-canary', 0],
    ])
    expect(await target.observedWeight(r)).toBe(0)

    for (const weight of [10, 50]) {
      await target.setWeight(r, weight)
      await target.setWeight(r, weight)
      expect(routeWeights(standIn)).toEqual([
        ['web', 100 - weight],
        ['web-canary', weight],
      ])
      expect(await target.observedWeight(r)).toBe(weight)
    }
    expect(await target.canaryFailure(r)).toBeNull()

    await target.setWeight(r, 100)
    await target.promote(r)
    await target.promote(r)
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.1.0')
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(standIn.object('Service', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(routeWeights(standIn)).toEqual([['web', 100]])
    expect(await target.observedWeight(r)).toBe(100)
    // A later ensureStable of the promoted version changes nothing.
    standIn.resetCalls()
    await target.ensureStable(app, '1.1.0')
    expect(standIn.calls().filter((c) => c.verb !== 'get')).toEqual([])
  })

  it('rolls back: all weight to stable, the canary scaled to zero and removed; twice is harmless', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    await target.setWeight(r, 50)
    standIn.resetCalls()
    await target.rollback(r)
    const writes = standIn.calls().filter((c) => c.verb === 'patch' || c.verb === 'delete').map((c) => `${c.verb} ${c.path.split('/').slice(-2).join('/')}`)
    expect(writes).toEqual(['patch httproutes/web', 'patch deployments/web-canary', 'delete deployments/web-canary', 'delete services/web-canary'])
    await target.rollback(r)
    expect(routeWeights(standIn)).toEqual([['web', 100]])
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.0.0')
    expect(await target.observedWeight(r)).toBe(0)
  })
})
