/**
 * The docker target against the real Docker engine (started by .ci/run), with images this
 * test makes by `docker import`. Without an engine the suite fails in CI and is skipped elsewhere.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ProxyRegistry } from '../../controller/proxy/index.ts'
import { createDockerTarget, type DockerTarget, type DockerTargetOptions } from '../../controller/targets/docker.ts'
import { freePort } from '../../controller/targets/process-port.ts'
import { rollout } from '../../controller/targets/process-test-support.ts'
import { assertSpec, type AppSpec } from '../../schema/spec.ts'
import {
  checkDockerEngine,
  containersOf,
  dockerAppDoc,
  dockerSuiteRuns,
  importTestImage,
  removeContainersOf,
  removeImages,
  requireEngine,
  TEST_DOCKER_HOST,
  testDocker,
  uniqueApp,
  versionsServed,
} from '../support/docker.ts'

vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 })

const engine = await checkDockerEngine()
const REPO = `sentra-target-test-${process.pid}/web`
const IMAGES = { good1: `${REPO}:v1`, good2: `${REPO}:v2`, crash: `${REPO}:v3-crash`, failStart: `${REPO}:v4-fail` }

const opened: DockerTarget[] = []
const apps: string[] = []
const logs: string[] = []

function target(options: Partial<DockerTargetOptions> = {}): DockerTarget {
  const made = createDockerTarget({ proxies: new ProxyRegistry(), host: TEST_DOCKER_HOST, log: (line) => logs.push(line), healthTimeoutMs: 30_000, stopGraceSeconds: 1, retireDelayMs: 0, pull: false, ...options })
  opened.push(made)
  return made
}

async function app(extra: Record<string, unknown> = {}): Promise<AppSpec> {
  const name = uniqueApp('dt')
  apps.push(name)
  return assertSpec(dockerAppDoc(name, REPO, await freePort(), extra))
}

function url(spec: AppSpec): string {
  if (spec.target.kind !== 'docker') throw new Error('not a docker target')
  return `http://${spec.target.listen}`
}

/** version -> container ids, from the engine (not from the target). */
async function containerIds(application: string): Promise<Record<string, string[]>> {
  const byVersion: Record<string, string[]> = {}
  for (const info of await containersOf(application)) (byVersion[info.Labels['sentra.version'] ?? '?'] ??= []).push(info.Id)
  return byVersion
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  while (Date.now() < deadline) {
    last = await read()
    if (done(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
}

describe.runIf(dockerSuiteRuns(engine))('DockerTarget on the real Docker engine', () => {
  beforeAll(async () => {
    requireEngine(engine)
    await importTestImage(IMAGES.good1)
    await importTestImage(IMAGES.good2)
    await importTestImage(IMAGES.crash, { crashAfterSeconds: 5, crashCode: 3 })
    await importTestImage(IMAGES.failStart, { failAtStart: 7 })
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()))
    for (const name of apps.splice(0)) await removeContainersOf(name)
    logs.length = 0
  })
  afterAll(async () => {
    await removeImages(Object.values(IMAGES))
  })

  it('runs the stable as a labelled container on host networking; ensureStable twice makes no second container', async () => {
    const t = target()
    const spec = await app()
    await t.ensureStable(spec, 'v1')
    const first = await containerIds(spec.name)
    expect(Object.keys(first)).toEqual(['v1'])
    await t.ensureStable(spec, 'v1')
    expect(await containerIds(spec.name)).toEqual(first)
    const [info] = await containersOf(spec.name)
    expect(info?.Labels).toMatchObject({ 'sentra.application': spec.name, 'sentra.version': 'v1', 'sentra.role': 'stable' })
    expect(info?.HostConfig.NetworkMode).toBe('host')
    expect(Number(info?.Labels['sentra.port'])).toBeGreaterThan(0)
    expect(await versionsServed(url(spec), 8)).toEqual(new Map([['v1:200', 8]]))
  })

  it('splits traffic by weight through the proxy; repeated calls change nothing and weights cost no engine call', async () => {
    const t = target()
    const spec = await app()
    const r = rollout(spec, 'v1', 'v2')
    await t.ensureStable(spec, 'v1')
    await t.prepare(r)
    await t.prepare(r)
    expect(await t.observedWeight(r)).toBe(0)
    const ids = await containerIds(spec.name)
    expect(Object.keys(ids).sort()).toEqual(['v1', 'v2'])
    expect(ids.v2).toHaveLength(1)

    const callsBefore = t.engineCalls
    await t.setWeight(r, 50)
    await t.setWeight(r, 50)
    expect(t.engineCalls).toBe(callsBefore)
    expect(await t.observedWeight(r)).toBe(50)
    const split = await versionsServed(url(spec), 48)
    expect(split.get('v1:200')).toBeGreaterThan(0)
    expect(split.get('v2:200')).toBeGreaterThan(0)
    // The controller calls these on every tick: adopted state, nothing new, one list per canaryFailure.
    await t.ensureStable(spec, 'v1')
    await t.prepare(r)
    expect(await t.canaryFailure(r)).toBeNull()
    expect(await t.observedWeight(r)).toBe(50)
    expect(await containerIds(spec.name)).toEqual(ids)
    await expect(t.setWeight(r, 101)).rejects.toThrow(/within 0..100/)
    await expect(t.setWeight(r, Number.NaN)).rejects.toThrow(/within 0..100/)
  })

  it('promote: the canary container becomes stable and the old one is removed after the delay', async () => {
    const t = target({ retireDelayMs: 1500 })
    const spec = await app()
    const r = rollout(spec, 'v1', 'v2')
    await t.ensureStable(spec, 'v1')
    await t.prepare(r)
    const canaryId = (await containerIds(spec.name)).v2?.[0]
    await t.setWeight(r, 100)
    await t.promote(r)
    await t.promote(r)
    expect(await t.observedWeight(r)).toBe(100)
    expect(await versionsServed(url(spec), 8)).toEqual(new Map([['v2:200', 8]]))
    // Still there right after the switch (draining), gone after the delay.
    expect(Object.keys(await containerIds(spec.name)).sort()).toEqual(['v1', 'v2'])
    const after = await eventually(() => containerIds(spec.name), (ids) => ids.v1 === undefined, 'the old stable to be removed')
    expect(after).toEqual({ v2: [canaryId] })
    // The promoted container is the same one, and ensureStable of it changes nothing.
    await t.ensureStable(spec, 'v2')
    expect(await containerIds(spec.name)).toEqual({ v2: [canaryId] })
  })

  it('blue/green: the preview gets no public traffic; after the switch the old version keeps running for scaleDownDelay', async () => {
    const t = target({ retireDelayMs: 0 })
    const spec = await app({ strategy: { blueGreen: { scaleDownDelay: '2s' } } })
    const r = rollout(spec, 'v1', 'v2')
    await t.ensureStable(spec, 'v1')
    await t.prepare(r)
    expect(await versionsServed(url(spec), 8)).toEqual(new Map([['v1:200', 8]]))
    const preview = await fetch(`${url(spec)}/`, { headers: { 'x-sentra-canary': 'always' } })
    await preview.arrayBuffer()
    expect(preview.headers.get('x-sentra-version')).toBe('v2')
    await t.setWeight(r, 100)
    await t.promote(r)
    expect(await versionsServed(url(spec), 8)).toEqual(new Map([['v2:200', 8]]))
    // The old version is still there right after the switch, so switching back stays instant.
    expect(Object.keys(await containerIds(spec.name)).sort()).toEqual(['v1', 'v2'])
    await eventually(() => containerIds(spec.name), (ids) => ids.v1 === undefined, 'the old version to be scaled down')
  })

  it('rollback: all traffic to stable, the canary container stopped and removed; repeated rollback is harmless', async () => {
    const t = target()
    const spec = await app()
    const r = rollout(spec, 'v1', 'v2')
    await t.ensureStable(spec, 'v1')
    await t.prepare(r)
    await t.setWeight(r, 50)
    await t.rollback(r)
    await t.rollback(r)
    expect(await t.observedWeight(r)).toBe(0)
    expect(Object.keys(await containerIds(spec.name))).toEqual(['v1'])
    expect(await versionsServed(url(spec), 8)).toEqual(new Map([['v1:200', 8]]))
  })

  it('after a restart (a new target, its proxy gone) finds its containers by label and continues: no duplicates', async () => {
    const spec = await app()
    const r = rollout(spec, 'v1', 'v2')
    const before = target()
    await before.ensureStable(spec, 'v1')
    await before.prepare(r)
    await before.setWeight(r, 50)
    const ids = await containerIds(spec.name)
    // close() leaves the containers running (docs/docker.md, "Restarts"); only the proxy stops.
    await before.close()
    expect(await containerIds(spec.name)).toEqual(ids)

    const after = target()
    expect(await after.canaryFailure(r)).toBeNull()
    await after.ensureStable(spec, 'v1')
    await after.prepare(r)
    expect(await after.observedWeight(r)).toBe(0)
    await after.setWeight(r, 50)
    expect(await containerIds(spec.name)).toEqual(ids)
    expect(logs.filter((line) => line.includes('adopting running container'))).toHaveLength(2)
    const split = await versionsServed(url(spec), 48)
    expect(split.get('v1:200')).toBeGreaterThan(0)
    expect(split.get('v2:200')).toBeGreaterThan(0)
  })

  it('a rollback after a restart brings the stable back behind the proxy and removes the canary', async () => {
    const spec = await app()
    const r = rollout(spec, 'v1', 'v2')
    const before = target()
    await before.ensureStable(spec, 'v1')
    await before.prepare(r)
    const stableId = (await containerIds(spec.name)).v1
    await before.close()
    const after = target()
    await after.rollback(r)
    expect(await containerIds(spec.name)).toEqual({ v1: stableId })
    expect(await versionsServed(url(spec), 4)).toEqual(new Map([['v1:200', 4]]))
  })

  it('an image the engine does not have: prepare fails with the engine message and leaves nothing', async () => {
    const t = target()
    const spec = await app()
    await t.ensureStable(spec, 'v1')
    const r = rollout(spec, 'v1', 'v404')
    await expect(t.prepare(r)).rejects.toThrow(new RegExp(`image ${REPO}:v404 not found: No such image: ${REPO}:v404`))
    expect(Object.keys(await containerIds(spec.name))).toEqual(['v1'])
    expect(await t.canaryFailure(r)).toBeNull()
  })

  it('with pulling on, a missing image is pulled, and the failed pull is the evidence', async () => {
    const t = target({ pull: true })
    const spec = await app()
    await expect(t.prepare(rollout(spec, null, 'v404'))).rejects.toThrow(new RegExp(`image ${REPO}:v404 not found locally; pulling it failed: .+`))
    expect(await containerIds(spec.name)).toEqual({})
  })

  it('a container that exits after it became healthy is a canary failure with its exit code and last output', async () => {
    const t = target()
    const spec = await app()
    const r = rollout(spec, 'v1', 'v3-crash')
    await t.ensureStable(spec, 'v1')
    await t.prepare(r)
    await t.setWeight(r, 20)
    const failure = await eventually(() => t.canaryFailure(r), (value) => value !== null, 'the canary failure')
    expect(failure).toMatch(/^canary container sentra-dt-.*-v3-crash \(v3-crash\) exited with code 3 \(last output: .*fatal: out of cheese after 5 s\)$/)
    // Not started again behind the controller's back: prepare refuses until the rollback.
    await expect(t.prepare(r)).rejects.toThrow(/exited with code 3.*roll back before trying it again/)
    await t.rollback(r)
    expect(Object.keys(await containerIds(spec.name))).toEqual(['v1'])
  })

  it('a container that exits while starting: prepare fails with the exit code and output, and removes it', async () => {
    const t = target()
    const spec = await app()
    await t.ensureStable(spec, 'v1')
    await expect(t.prepare(rollout(spec, 'v1', 'v4-fail'))).rejects.toThrow(/v4-fail .*exited with code 7 while starting \(last output: fatal: refusing to start \(FAIL_AT_START=7\)\)/)
    expect(Object.keys(await containerIds(spec.name))).toEqual(['v1'])
  })

  it('a stable container that died is replaced by the next ensureStable', async () => {
    const t = target()
    const spec = await app()
    const r = rollout(spec, 'v1', 'v2')
    await t.ensureStable(spec, 'v1')
    const [old] = (await containerIds(spec.name)).v1 ?? []
    await removeContainersOf(spec.name)
    expect(await t.canaryFailure(r)).toBeNull()
    await t.ensureStable(spec, 'v1')
    const now = (await containerIds(spec.name)).v1 ?? []
    expect(now).toHaveLength(1)
    expect(now[0]).not.toBe(old)
    expect(await versionsServed(url(spec), 4)).toEqual(new Map([['v1:200', 4]]))
  })

  it('hand-made containers with its labels: one without a usable port label is replaced, a second of one version removed', async () => {
    const t = target()
    const spec = await app()
    const docker = testDocker()
    const handMade = (version: string, port: string, application = spec.name) =>
      docker.createContainer({ Image: IMAGES.good1, Labels: { 'sentra.application': application, 'sentra.version': version, 'sentra.role': 'stable', 'sentra.port': port }, HostConfig: { NetworkMode: 'host' } })
    const bad = await handMade('v1', '99999; rm -rf /')
    await t.ensureStable(spec, 'v1')
    const ids = (await containerIds(spec.name)).v1 ?? []
    expect(ids).toHaveLength(1)
    expect(ids[0]).not.toBe(bad.id)
    expect(logs.some((line) => line.includes('without a port label; replacing it'))).toBe(true)

    // A second container claiming the canary's version (never made by Sentra): a restarted
    // Sentra keeps the running one and removes the copy.
    const r = rollout(spec, 'v1', 'v2')
    await t.prepare(r)
    const original = (await containerIds(spec.name)).v2 ?? []
    const copy = await handMade('v2', '1')
    await t.close()
    const restarted = target()
    await restarted.ensureStable(spec, 'v1')
    await restarted.prepare(r)
    const after = await containerIds(spec.name)
    expect(after.v2).toEqual(original)
    expect(after.v2).not.toContain(copy.id)
    expect(logs.some((line) => line.includes('removing duplicate container'))).toBe(true)

    // A stable that cannot be adopted (it exits at once: no PORT in its environment) is replaced.
    const other = await app()
    const broken = await handMade('v1', '1', other.name)
    await restarted.ensureStable(other, 'v1')
    const replaced = (await containerIds(other.name)).v1 ?? []
    expect(replaced).toHaveLength(1)
    expect(replaced[0]).not.toBe(broken.id)
    expect(logs.some((line) => line.includes('could not be adopted'))).toBe(true)
    expect(await versionsServed(url(other), 4)).toEqual(new Map([['v1:200', 4]]))
  })

  it('refuses a version that makes no valid image tag before calling the engine', async () => {
    const t = target()
    const spec = await app()
    const calls = t.engineCalls
    await expect(t.prepare(rollout(spec, null, '1.0+build.5'))).rejects.toThrow(/version "1.0\+build.5" makes the image tag "1.0\+build.5", which Docker does not accept/)
    expect(t.engineCalls).toBe(calls)
    expect(await containerIds(spec.name)).toEqual({})
  })

  it('an unreachable engine is a clear error, never a canary verdict', async () => {
    const t = target({ host: 'unix:///nonexistent/docker.sock' })
    const spec = await app()
    const r = rollout(spec, 'v1', 'v2')
    await expect(t.canaryFailure(r)).rejects.toThrow(/the Docker engine at unix:\/\/\/nonexistent\/docker.sock is unreachable .*ENOENT/)
    await expect(t.ensureStable(spec, 'v1')).rejects.toThrow(/unreachable/)
  })

  it('refuses a spec of another kind', async () => {
    const t = target()
    const spec = assertSpec({ name: uniqueApp('dt'), target: { kind: 'process', listen: '127.0.0.1:1', command: ['true'] }, strategy: { canary: { steps: [{ setWeight: 50 }] } } })
    await expect(t.ensureStable(spec, 'v1')).rejects.toThrow(/cannot run a target of kind process/)
  })
})
