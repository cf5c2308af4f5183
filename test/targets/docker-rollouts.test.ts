/**
 * Docker rollouts end to end: the real controller (startControllerRuntime, SQLite, the
 * in-process bus) drives the docker target on the real Docker engine, and judges each canary on
 * the built-in telemetry of Sentra's proxy. Images are made here with `docker import`.
 * The runtime reaches the engine through a loopback forwarder, so one test can cut it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import {
  checkDockerEngine,
  containersOf,
  dockerAppDoc,
  dockerSuiteRuns,
  importTestImage,
  removeContainersOf,
  removeImages,
  requireEngine,
  startRootLoad,
  TEST_DOCKER_HOST,
  uniqueApp,
  versionsServed,
} from '../support/docker.ts'
import { startEngineForwarder, type EngineForwarder } from '../support/docker-forwarder.ts'
import { freePort, waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

const engine = await checkDockerEngine()
const REPO = `sentra-e2e-${process.pid}/web`
/** v1, v3, v4, v6 are good; v2 answers 500 to 60 % of requests; v5 crashes 2 s after it starts; v9 does not exist. */
const IMAGES: Record<string, Parameters<typeof importTestImage>[1]> = {
  v1: {},
  v2: { errorPercent: 60 },
  v3: {},
  v4: {},
  v5: { crashAfterSeconds: 2, crashCode: 3 },
  v6: {},
}

const ROLLOUT = `query($id: ID!) { rollout(id: $id) { id status canaryWeight currentStepIndex
  decisions { seq action actor reason toWeight evidence } } }`

interface RolloutView {
  id: string
  status: string
  canaryWeight: number
  currentStepIndex: number
  decisions: { seq: number; action: string; actor: string; reason: string; toWeight: number; evidence: { gates: { gate: string; verdict: string }[] } }[]
}

describe.runIf(dockerSuiteRuns(engine))('docker rollouts end to end on the real Docker engine', () => {
  const application = uniqueApp('shop')
  let api: TestApi
  let runtime: ControllerRuntime | null = null
  let forwarder: EngineForwarder
  let port: number
  let load: ReturnType<typeof startRootLoad> | null = null
  const logs: string[] = []

  const startRuntime = async (): Promise<ControllerRuntime> =>
    startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200, notifications: false, dockerHost: forwarder.url, log: (line) => logs.push(line) })
  async function start(version: string): Promise<string> {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($a: String!, $v: String!) { startRollout(application: $a, version: $v) { id } }`, { a: application, v: version }, api.tokens.operate)
    expect(started.errors).toBeUndefined()
    return started.data!.startRollout.id
  }
  const view = async (id: string): Promise<RolloutView> => (await api.gql<{ rollout: RolloutView }>(ROLLOUT, { id })).data!.rollout
  const until = (id: string, statuses: string[], timeoutMs = 90_000) =>
    waitFor(() => view(id), (r) => statuses.includes(r.status), { timeoutMs, what: `rollout ${statuses.join('/')}` })
  /** version -> container ids of the application, as the engine lists them. */
  const containers = async (): Promise<Record<string, string[]>> => {
    const byVersion: Record<string, string[]> = {}
    for (const info of await containersOf(application)) (byVersion[info.Labels['sentra.version'] ?? '?'] ??= []).push(info.Id)
    return byVersion
  }
  const stableVersion = async () => (await api.store.applications.byName(application))?.stableVersion

  beforeAll(async () => {
    requireEngine(engine)
    for (const [version, behaviour] of Object.entries(IMAGES)) await importTestImage(`${REPO}:${version}`, behaviour)
    forwarder = await startEngineForwarder(TEST_DOCKER_HOST)
    api = await startTestApi('sqlite')
    port = await freePort()
    runtime = await startRuntime()
    const spec = dockerAppDoc(application, REPO, port, {
      strategy: { canary: { steps: [{ setWeight: 20 }, { analyze: { min: '3s', max: '60s' } }, { setWeight: 60 }, { analyze: { min: '3s', max: '60s' } }] } },
      gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.03 } }],
      interval: '1s',
      inconclusiveLimit: 30,
    })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec })
    expect(applied.errors).toBeUndefined()
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await api?.close()
    await forwarder?.close()
    await removeContainersOf(application)
    await removeImages(Object.keys(IMAGES).map((version) => `${REPO}:${version}`))
  })

  it('deploys the first version as a labelled stable container behind the proxy', async () => {
    const done = await until(await start('v1'), ['SUCCEEDED', 'ROLLED_BACK'])
    expect(done.status).toBe('SUCCEEDED')
    expect(done.decisions.map((d) => d.action)).toEqual(['INITIAL_DEPLOY'])
    const [info] = await containersOf(application)
    expect(info?.Labels).toMatchObject({ 'sentra.application': application, 'sentra.version': 'v1', 'sentra.role': 'stable' })
    expect(await versionsServed(`http://127.0.0.1:${port}`, 8)).toEqual(new Map([['v1:200', 8]]))
    load = startRootLoad(`http://127.0.0.1:${port}`)
  })

  it('rolls a bad image version back on the proxy telemetry: its container is removed', async () => {
    const done = await until(await start('v2'), ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'])
    expect(done.status).toBe('ROLLED_BACK')
    expect(done.decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ROLLBACK', 'ROLLED_BACK'])
    const rollback = done.decisions.find((d) => d.action === 'ROLLBACK')!
    expect(rollback.evidence.gates.some((g) => g.gate === 'errors' && g.verdict === 'FAIL')).toBe(true)
    expect(runtime?.proxies.get(application)?.routes()).toMatchObject({ canary: null, weight: 0 })
    expect(Object.keys(await containers())).toEqual(['v1'])
    expect(await versionsServed(`http://127.0.0.1:${port}`, 16)).toEqual(new Map([['v1:200', 16]]))
    expect(await stableVersion()).toBe('v1')
  })

  it('promotes a good version: the canary container becomes stable, the old one is removed', async () => {
    const done = await until(await start('v3'), ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'])
    expect(done.status).toBe('SUCCEEDED')
    expect(done.decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ADVANCE', 'PROMOTE'])
    expect(await stableVersion()).toBe('v3')
    expect(await versionsServed(`http://127.0.0.1:${port}`, 8)).toEqual(new Map([['v3:200', 8]]))
    const left = await waitFor(containers, (ids) => Object.keys(ids).length === 1, { timeoutMs: 30_000, what: 'the old stable to be removed' })
    expect(Object.keys(left)).toEqual(['v3'])
    expect(left.v3).toHaveLength(1)
  })

  it('a Sentra restarted in the middle of a rollout finds its containers by label and continues it (no duplicates)', async () => {
    const id = await start('v4')
    await waitFor(() => view(id), (r) => r.status === 'PROGRESSING' && r.canaryWeight === 20, { what: 'the canary at 20 %' })
    const before = await containers()
    expect(Object.keys(before).sort()).toEqual(['v3', 'v4'])
    await runtime!.stop()
    runtime = null
    // Stopping Sentra leaves the containers running, for the next Sentra to adopt.
    expect(await containers()).toEqual(before)
    logs.length = 0
    runtime = await startRuntime()
    const done = await until(id, ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'])
    expect(done.status).toBe('SUCCEEDED')
    expect(logs.some((line) => line.includes(`${application}/v4: adopting running container`))).toBe(true)
    expect(logs.some((line) => line.includes(`${application}/v3: adopting running container`))).toBe(true)
    expect(logs.filter((line) => /: created (stable|canary) container/.test(line))).toEqual([])
    // The promoted canary is the very container started before the restart.
    const left = await waitFor(containers, (ids) => Object.keys(ids).length === 1, { timeoutMs: 30_000, what: 'the old stable to be removed' })
    expect(left).toEqual({ v4: before.v4 })
    expect(await versionsServed(`http://127.0.0.1:${port}`, 8)).toEqual(new Map([['v4:200', 8]]))
  })

  it('an image the engine does not have: rolled back with the engine message as evidence', async () => {
    const done = await until(await start('v9'), ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'])
    expect(done.status).toBe('ROLLED_BACK')
    const rollback = done.decisions.find((d) => d.action === 'ROLLBACK')!
    expect(rollback.actor).toBe('controller')
    expect(rollback.reason).toMatch(new RegExp(`the canary failed: the canary v9 could not be started: .*image ${REPO}:v9 not found locally; pulling it failed: .+`))
    expect(rollback.evidence).toMatchObject({ canaryFailure: { verdict: 'FAIL' } })
    expect(Object.keys(await containers())).toEqual(['v4'])
    expect(await stableVersion()).toBe('v4')
  })

  it('a canary container that exits: rolled back with its exit code and last output', async () => {
    const done = await until(await start('v5'), ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'])
    expect(done.status).toBe('ROLLED_BACK')
    const rollback = done.decisions.find((d) => d.action === 'ROLLBACK')!
    // It crashes 2 s after it starts, before its gate can have enough requests to judge: the
    // controller sees the exit (at its next tick, or while the container starts) and says so.
    expect(rollback.reason).toMatch(/^the canary failed: .*container sentra-shop-.*-v5\)? .*exited with code 3.* \(last output: .*fatal: out of cheese after 2 s\)/)
    expect(rollback.evidence).toMatchObject({ canaryFailure: { verdict: 'FAIL' } })
    expect(Object.keys(await containers())).toEqual(['v4'])
    expect(await versionsServed(`http://127.0.0.1:${port}`, 8)).toEqual(new Map([['v4:200', 8]]))
  })

  it('an unreachable engine holds the rollout (no decision on missing data), which continues once the engine answers', async () => {
    const id = await start('v6')
    await waitFor(() => view(id), (r) => r.status === 'PROGRESSING' && r.canaryWeight === 20, { what: 'the canary at 20 %' })
    forwarder.cut()
    const cutAt = (await view(id)).decisions.length
    await waitFor(async () => logs.filter((line) => /could not reconcile the target: the Docker engine at tcp:\/\/127\.0\.0\.1:\d+ is unreachable/.test(line)).length, (n) => n >= 3, { what: 'three held ticks' })
    const held = await view(id)
    expect(held.status).toBe('PROGRESSING')
    // At most the decision a tick in flight at the cut had already written.
    expect(held.decisions.length - cutAt).toBeLessThanOrEqual(1)
    expect(held.decisions.some((d) => d.action === 'ROLLBACK')).toBe(false)
    forwarder.restore()
    const done = await until(id, ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'])
    expect(done.status).toBe('SUCCEEDED')
    expect(await stableVersion()).toBe('v6')
  })
})
