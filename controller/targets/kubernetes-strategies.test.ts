import { afterEach, describe, expect, it } from 'vitest'
import { at, blueGreenApp, canaryApp, eventually, fixture, image, NAMESPACE, replicas, rollout, selector, type Fixture } from './kubernetes-test-support.ts'

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

describe('KubernetesTarget, canary by replica ratio (no HTTPRoute)', () => {
  it('one Service selects both; replicas follow the weight and observedWeight reports the real ratio', async () => {
    const { standIn, target } = await open({ replicas: 4, withRoute: false })
    const app = canaryApp({ withRoute: false })
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    expect(selector(standIn, 'web')).toEqual({ app: 'web' })
    await target.prepare(r)
    await target.prepare(r)
    // At 0 % the canary has no pods: the shared Service must not reach it.
    expect(replicas(standIn, 'web-canary')).toBe(0)
    expect(await target.observedWeight(r)).toBe(0)

    await target.setWeight(r, 50)
    await target.setWeight(r, 50)
    expect([replicas(standIn, 'web'), replicas(standIn, 'web-canary')]).toEqual([2, 2])
    expect(await eventually(async () => (await target.observedWeight(r)) === 50)).toBe(true)

    // 10 % of 4 pods is one canary pod of four: 25 % really.
    await target.setWeight(r, 10)
    expect([replicas(standIn, 'web'), replicas(standIn, 'web-canary')]).toEqual([3, 1])
    expect(await eventually(async () => (await target.observedWeight(r)) === 25)).toBe(true)

    await target.setWeight(r, 100)
    await target.promote(r)
    await target.promote(r)
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.1.0')
    expect(replicas(standIn, 'web')).toBe(4)
    expect(at(standIn.object('Deployment', NAMESPACE, 'web'), 'metadata', 'annotations', 'sentra.dev/replicas')).toBeUndefined()
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(await target.observedWeight(r)).toBe(100)
  })

  it('rollback gives the stable Deployment its replicas back and removes the canary', async () => {
    const { standIn, target } = await open({ replicas: 3, withRoute: false })
    const app = canaryApp({ withRoute: false })
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    await target.setWeight(r, 50)
    expect(replicas(standIn, 'web')).toBeLessThan(3)
    await target.rollback(r)
    await target.rollback(r)
    expect(replicas(standIn, 'web')).toBe(3)
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(await target.observedWeight(r)).toBe(0)
  })
})

describe('KubernetesTarget, blue/green', () => {
  it('previews the new pods, switches the active Service selector at 100, and promotes', async () => {
    const { standIn, target } = await open({ replicas: 2, withRoute: false })
    const app = blueGreenApp()
    const r = rollout(app, '1.0.0', '2.0.0')
    await target.ensureStable(app, '1.0.0')
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'stable' })
    await target.prepare(r)
    await target.prepare(r)
    expect(replicas(standIn, 'web-canary')).toBe(2)
    expect(selector(standIn, 'web-preview')).toEqual({ app: 'web', 'sentra.dev/role': 'canary' })
    await target.setWeight(r, 0)
    expect(await target.observedWeight(r)).toBe(0)
    await expect(target.setWeight(r, 40)).rejects.toThrow(/weight must be 0 or 100/)

    await target.setWeight(r, 100)
    await target.setWeight(r, 100)
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'canary' })
    expect(await target.observedWeight(r)).toBe(100)
    // ensureStable of the old version during the rollout leaves the switch alone.
    await target.ensureStable(app, '1.0.0')
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'canary' })

    await target.promote(r)
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:2.0.0')
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'stable' })
    expect(standIn.object('Service', NAMESPACE, 'web-preview')).toBeUndefined()
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(await target.observedWeight(r)).toBe(100)
  })

  it('keeps the old pods for scaleDownDelay after the switch, then scales them down (also after a restart)', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const { standIn, target, logs } = await open({ replicas: 1, withRoute: false, target: { now: () => now } })
    const app = blueGreenApp('1h')
    const r = rollout(app, '1.0.0', '2.0.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    await target.setWeight(r, 100)
    await target.promote(r)
    await target.promote(r)
    // Switched, old version still running under the stable Deployment.
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'canary' })
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.0.0')
    expect(at(standIn.object('Deployment', NAMESPACE, 'web-canary'), 'metadata', 'annotations', 'sentra.dev/scale-down-at')).toBe('2026-01-01T01:00:00.000Z')
    expect(logs.some((l) => l.includes('keeps running until 2026-01-01T01:00:00.000Z'))).toBe(true)
    expect(await target.observedWeight(r)).toBe(100)

    // A new Sentra (the timer is gone) after the delay: ensureStable of the promoted version finishes it.
    await target.close()
    now += 2 * 3600_000
    const { KubernetesTarget } = await import('./kubernetes.ts')
    const { kubeConfigFor } = await import('./kubernetes-test-support.ts')
    const restarted = new KubernetesTarget({ kubeConfig: kubeConfigFor(standIn), pollMs: 200, now: () => now })
    opened.push({ standIn, target: restarted, logs })
    await restarted.ensureStable(app, '2.0.0')
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:2.0.0')
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'stable' })
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
  })

  it('a new rollout during the scale-down delay finishes the last promotion first (never back to the old version)', async () => {
    const { standIn, target, logs } = await open({ replicas: 1, withRoute: false })
    const app = blueGreenApp('1h')
    const first = rollout(app, '1.0.0', '2.0.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(first)
    await target.setWeight(first, 100)
    await target.promote(first)
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.0.0')
    const next = rollout(app, '2.0.0', '3.0.0')
    await target.ensureStable(app, '2.0.0')
    await target.prepare(next)
    expect(logs.some((l) => l.includes('finishing the promotion of 2.0.0 before the rollout of 3.0.0'))).toBe(true)
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:2.0.0')
    expect(image(standIn, 'web-canary')).toBe('ghcr.io/acme/web:3.0.0')
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'stable' })
    expect(await target.observedWeight(next)).toBe(0)
  })

  it('rollback switches back to stable and removes the preview', async () => {
    const { standIn, target } = await open({ replicas: 1, withRoute: false })
    const app = blueGreenApp()
    const r = rollout(app, '1.0.0', '2.0.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    await target.setWeight(r, 100)
    await target.rollback(r)
    await target.rollback(r)
    expect(selector(standIn, 'web')).toEqual({ app: 'web', 'sentra.dev/role': 'stable' })
    expect(standIn.object('Service', NAMESPACE, 'web-preview')).toBeUndefined()
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(image(standIn, 'web')).toBe('ghcr.io/acme/web:1.0.0')
  })
})
