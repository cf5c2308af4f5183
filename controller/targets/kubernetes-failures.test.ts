import { afterEach, describe, expect, it } from 'vitest'
import { KubernetesStandIn } from '../../test/standins/kubernetes.ts'
import { KubernetesTarget } from './kubernetes.ts'
import { canaryApp, fixture, image, kubeConfigFor, NAMESPACE, rollout, routeWeights, type Fixture } from './kubernetes-test-support.ts'

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

function writes(standIn: KubernetesStandIn): string[] {
  return standIn
    .calls()
    .filter((c) => ['create', 'update', 'patch', 'delete'].includes(c.verb))
    .map((c) => `${c.verb} ${c.path.split('/').slice(-2).join('/')}`)
}

describe('KubernetesTarget, optimistic concurrency', () => {
  it('retries a 409 Conflict with a fresh read, and every write is conditional and made by field manager sentra', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    standIn.resetCalls()
    standIn.injectFault({ kind: 'conflict', verb: 'patch', pathIncludes: '/httproutes/', times: 2 })
    await target.setWeight(r, 30)
    expect(routeWeights(standIn)).toEqual([
      ['web', 70],
      ['web-canary', 30],
    ])
    expect(standIn.calls().map((c) => c.verb)).toEqual(['get', 'patch', 'get', 'patch', 'get', 'patch'])
    expect(new Set(standIn.calls().filter((c) => c.verb === 'patch').map((c) => `${c.fieldManager} ${c.contentType}`))).toEqual(new Set(['sentra application/merge-patch+json']))
  })

  it('a change made by someone else between read and write is not overwritten blindly (real 409 from a stale resourceVersion)', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    // Another writer adds a label after Sentra's read: the stale patch gets 409, the retry keeps the label.
    let raced = false
    const original = target.client.get.bind(target.client)
    target.client.get = (async (kind: 'HTTPRoute', namespace: string, name: string) => {
      const read = await original(kind, namespace, name)
      if (kind === 'HTTPRoute' && !raced) {
        raced = true
        await fetch(`${standIn.url}/apis/gateway.networking.k8s.io/v1/namespaces/${NAMESPACE}/httproutes/web`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ metadata: { labels: { team: 'shop' } } }),
        })
      }
      return read
    }) as typeof target.client.get
    standIn.resetCalls()
    await target.setWeight(r, 20)
    expect(standIn.calls().filter((c) => c.verb === 'patch' && c.fieldManager === 'sentra').length).toBe(2)
    expect(routeWeights(standIn)).toEqual([
      ['web', 80],
      ['web-canary', 20],
    ])
    expect((standIn.object('HTTPRoute', NAMESPACE, 'web')!.metadata as { labels: object }).labels).toEqual({ team: 'shop' })
  })

  it('gives up after repeated conflicts with the API server message', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    standIn.injectFault({ kind: 'conflict', verb: 'patch', pathIncludes: '/httproutes/' })
    await expect(target.setWeight(r, 30)).rejects.toThrow(/patch HTTPRoute shop\/web: Operation cannot be fulfilled on httproutes.gateway.networking.k8s.io "web": the object has been modified.*\(409 Conflict\)/)
    expect(routeWeights(standIn)).toEqual([
      ['web', 100],
      ['web-canary', 0],
    ])
  })
})

describe('KubernetesTarget, a canary that does not progress', () => {
  it('prepare fails with the Deployment condition, canaryFailure reports it, rollback cleans up', async () => {
    const { standIn, target } = await open({ standIn: { progressDeadlineMs: 300 } })
    standIn.failVersion('1.1.0')
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await expect(target.prepare(r)).rejects.toThrow(/Deployment shop\/web-canary failed to progress: ProgressDeadlineExceeded: ReplicaSet "web-canary-[a-z0-9]+" has timed out progressing\./)
    expect(await target.canaryFailure(r)).toMatch(/^canary Deployment shop\/web-canary \(1\.1\.0\) failed: ProgressDeadlineExceeded: ReplicaSet "web-canary-[a-z0-9]+" has timed out progressing\.$/)
    // Another version's rollout is not blamed for it.
    expect(await target.canaryFailure(rollout(app, '1.0.0', '1.2.0'))).toBeNull()
    await target.rollback(r)
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
    expect(routeWeights(standIn)).toEqual([['web', 100]])
    expect(await target.canaryFailure(r)).toBeNull()
  })

  it('a stable version that does not progress fails ensureStable with the reason', async () => {
    const { standIn, target } = await open({ standIn: { progressDeadlineMs: 300 } })
    standIn.failVersion('9.9.9')
    await expect(target.ensureStable(canaryApp(), '9.9.9')).rejects.toThrow(/Deployment shop\/web failed to progress: ProgressDeadlineExceeded/)
  })

  it('a readiness wait has its own limit too', async () => {
    const { standIn, target } = await open({ standIn: { progressDeadlineMs: 60_000 }, target: { readyTimeoutMs: 400 } })
    standIn.failVersion('1.1.0')
    const app = canaryApp()
    await target.ensureStable(app, '1.0.0')
    await expect(target.prepare(rollout(app, '1.0.0', '1.1.0'))).rejects.toThrow(/Deployment shop\/web-canary was not ready after 0 s: 0\/2 updated|Deployment shop\/web-canary was not ready after 0 s: 2\/2 updated, 0\/2 available/)
  })
})

describe('KubernetesTarget, abort and restart', () => {
  it('rollback of a rollout that never prepared changes nothing; a later prepare replaces a leftover canary', async () => {
    const { standIn, target, logs } = await open()
    const app = canaryApp()
    await target.ensureStable(app, '1.0.0')
    standIn.resetCalls()
    const revision = standIn.store.revision
    await target.rollback(rollout(app, '1.0.0', '1.1.0'))
    // Only deletes of what is not there (404): the cluster's revision does not move.
    expect(writes(standIn).every((w) => w.startsWith('delete'))).toBe(true)
    expect(standIn.store.revision).toBe(revision)

    // A crash left the canary of 1.1.0 at 40 %; the next rollout (1.2.0) starts clean.
    const old = rollout(app, '1.0.0', '1.1.0')
    await target.prepare(old)
    await target.setWeight(old, 40)
    const next = rollout(app, '1.0.0', '1.2.0')
    await target.prepare(next)
    expect(image(standIn, 'web-canary')).toBe('ghcr.io/acme/web:1.2.0')
    expect(routeWeights(standIn)).toEqual([
      ['web', 100],
      ['web-canary', 0],
    ])
    expect(logs.some((l) => l.includes('removing the canary of version 1.1.0'))).toBe(true)
    expect(await target.observedWeight(old)).toBe(0)
  })

  it('a new target instance (Sentra restarted) picks up the rollout from the cluster, duplicating nothing', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    await target.setWeight(r, 25)
    await target.close()
    const restarted = new KubernetesTarget({ kubeConfig: kubeConfigFor(standIn), pollMs: 200 })
    opened.push({ standIn, target: restarted, logs: [] })
    expect(await restarted.observedWeight(r)).toBe(25)
    standIn.resetCalls()
    const revision = standIn.store.revision
    await restarted.ensureStable(app, '1.0.0')
    await restarted.prepare(r)
    await restarted.setWeight(r, 25)
    expect(writes(standIn)).toEqual([])
    expect(standIn.store.revision).toBe(revision)
    expect(standIn.store.list((await import('../../test/standins/kubernetes-resources.ts')).RESOURCES[0]!, NAMESPACE, () => true)).toHaveLength(2)
  })

  it('a closed target refuses work', async () => {
    const { target } = await open()
    await target.close()
    await expect(target.ensureStable(canaryApp(), '1.0.0')).rejects.toThrow(/closed/)
  })
})

describe('KubernetesTarget, bad input', () => {
  it('refuses versions that cannot be an image tag and label, before writing anything', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    for (const version of ['', 'has space', '-leading', 'a'.repeat(64), 'x/y', 'tag:colon']) {
      await expect(target.ensureStable(app, version)).rejects.toThrow(/version ".*" (must be 1 to 63|may contain only)/)
      await expect(target.prepare(rollout(app, '1.0.0', version))).rejects.toThrow(/version/)
    }
    expect(writes(standIn)).toEqual([])
    await expect(target.setWeight(rollout(app, '1.0.0', '1.1.0'), 101)).rejects.toThrow(RangeError)
    await expect(target.setWeight(rollout(app, '1.0.0', '1.1.0'), Number.NaN)).rejects.toThrow(RangeError)
  })

  it('hostile annotations on the cluster objects are ignored or refused, never obeyed blindly', async () => {
    const { standIn, target } = await open({ replicas: 3, withRoute: false })
    const app = canaryApp({ withRoute: false })
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    for (const saved of ['abc', '-1', '1e9', '99999999']) {
      await fetch(`${standIn.url}/apis/apps/v1/namespaces/${NAMESPACE}/deployments/web`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ metadata: { annotations: { 'sentra.dev/replicas': saved } } }),
      })
      await target.setWeight(r, 50)
      // The stable Deployment's own count (3) is used instead.
      const counts = [standIn.object('Deployment', NAMESPACE, 'web'), standIn.object('Deployment', NAMESPACE, 'web-canary')].map((d) => (d!.spec as { replicas: number }).replicas)
      expect(counts.every((n) => Number.isInteger(n) && n >= 1 && n <= 3)).toBe(true)
    }
    await target.rollback(r)
    expect(Number.isInteger((standIn.object('Deployment', NAMESPACE, 'web')!.spec as { replicas: number }).replicas)).toBe(true)

    await fetch(`${standIn.url}/apis/apps/v1/namespaces/${NAMESPACE}/deployments/web`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { annotations: { 'sentra.dev/container': 'nope' } } }),
    })
    await expect(target.prepare(rollout(app, '1.0.0', '1.2.0'))).rejects.toThrow(/has no container named "nope" \(annotation sentra.dev\/container\)/)
    expect(standIn.object('Deployment', NAMESPACE, 'web-canary')).toBeUndefined()
  })

  it('says what is missing: the Deployment, the Service, the route backend', async () => {
    const { standIn, target } = await open()
    const app = canaryApp()
    await expect(target.ensureStable({ ...app, target: { ...app.target, deployment: 'nope' } as typeof app.target }, '1.0.0')).rejects.toThrow(
      /Deployment shop\/nope does not exist: create it/,
    )
    await expect(target.ensureStable({ ...app, target: { ...app.target, service: 'nope' } as typeof app.target }, '1.0.0')).rejects.toThrow(/Service shop\/nope does not exist/)
    await target.ensureStable(app, '1.0.0')
    await expect(target.prepare(rollout({ ...app, target: { ...app.target, httpRoute: 'nope' } as typeof app.target }, '1.0.0', '1.1.0'))).rejects.toThrow(
      /HTTPRoute shop\/nope does not exist/,
    )
    const routeWithoutWeb = standIn.object('HTTPRoute', NAMESPACE, 'web')!
    await fetch(`${standIn.url}/apis/gateway.networking.k8s.io/v1/namespaces/${NAMESPACE}/httproutes/web`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { rules: [{ backendRefs: [{ name: 'other', port: 80 }] }] } }),
    })
    await expect(target.prepare(rollout(app, '1.0.0', '1.1.0'))).rejects.toThrow(/HTTPRoute shop\/web has no backendRef to Service web/)
    void routeWithoutWeb
  })

  it('turns 500s, non-JSON answers, resets and timeouts into clear errors that change nothing', async () => {
    const { standIn, target } = await open({ target: { requestTimeoutMs: 300 } })
    const app = canaryApp()
    const r = rollout(app, '1.0.0', '1.1.0')
    await target.ensureStable(app, '1.0.0')
    await target.prepare(r)
    await target.setWeight(r, 10)
    const cases: [Parameters<KubernetesStandIn['injectFault']>[0]['kind'], RegExp][] = [
      ['status500', /read HTTPRoute shop\/web: Internal error occurred: injected fault \(500 InternalError\)/],
      ['garbage', /read HTTPRoute shop\/web: .*(not JSON|Unexpected token|JSON)/],
      ['reset', /read HTTPRoute shop\/web: .*(socket hang up|ECONNRESET|reset)/i],
      ['hang', /read HTTPRoute shop\/web: the API server did not answer within 300 ms/],
    ]
    for (const [kind, message] of cases) {
      standIn.clearFaults()
      standIn.injectFault({ kind, verb: 'get', pathIncludes: '/httproutes/' })
      await expect(target.setWeight(r, 50)).rejects.toThrow(message)
      await expect(target.observedWeight(r)).rejects.toThrow(message)
    }
    standIn.clearFaults()
    expect(routeWeights(standIn)).toEqual([
      ['web', 90],
      ['web-canary', 10],
    ])
    expect(await target.observedWeight(r)).toBe(10)
  })

  it('an API server that is not there is an error naming the call', async () => {
    const standIn = await KubernetesStandIn.start()
    const config = kubeConfigFor(standIn)
    await standIn.close()
    const target = new KubernetesTarget({ kubeConfig: config, requestTimeoutMs: 2000 })
    await expect(target.ensureStable(canaryApp(), '1.0.0')).rejects.toThrow(/read Deployment shop\/web-canary: .*(ECONNREFUSED|connect)/)
    await target.close()
  })
})
