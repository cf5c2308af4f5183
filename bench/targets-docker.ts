/**
 * The docker target on the real Docker engine: how long each target call takes and how many
 * engine API calls (HTTP requests to the engine, counted at dockerode's modem) it makes.
 * `measureDocker()` is combined with the Kubernetes measurement into `npm run bench -- targets`.
 *
 * Steps measured: a cold stable and a cold canary (create + start + health), each weight step
 * (setWeight until observedWeight reports it), one steady controller tick (the calls the
 * controller's reconcile makes every interval), adoption by a restarted Sentra, promote, rollback.
 * Progress goes to stderr; the summary is the returned object.
 */
import { ProxyRegistry } from '../controller/proxy/index.ts'
import { createDockerTarget, type DockerTarget } from '../controller/targets/docker.ts'
import { freePort } from '../controller/targets/process-port.ts'
import type { RolloutRef } from '../controller/targets/target.ts'
import { assertSpec, type AppSpec } from '../schema/spec.ts'
import { checkDockerEngine, dockerAppDoc, importTestImage, removeContainersOf, removeImages, TEST_DOCKER_HOST, testDocker } from '../test/support/docker.ts'

const WEIGHT_ROUNDS = 20
const WEIGHTS = [10, 25, 50, 75, 100, 0]

interface Measured {
  ms: number
  engineCalls: number
}

async function measure(target: DockerTarget, work: () => Promise<unknown>): Promise<Measured> {
  const calls = target.engineCalls
  const started = performance.now()
  await work()
  return { ms: round(performance.now() - started), engineCalls: target.engineCalls - calls }
}

/** setWeight, then observedWeight until it reports the new weight: the decision-to-observed time. */
async function weightStep(target: DockerTarget, r: RolloutRef, weight: number): Promise<Measured> {
  return measure(target, async () => {
    await target.setWeight(r, weight)
    while ((await target.observedWeight(r)) !== weight) await new Promise((resolve) => setTimeout(resolve, 1))
  })
}

/** What the controller's reconcile calls on every tick of a rollout in progress (controller/tick.ts). */
async function steadyTick(target: DockerTarget, r: RolloutRef, weight: number): Promise<Measured> {
  return measure(target, async () => {
    await target.canaryFailure(r)
    await target.ensureStable(r.application, r.stableVersion!)
    await target.prepare(r)
    if ((await target.observedWeight(r)) !== weight) await target.setWeight(r, weight)
  })
}

export async function measureDocker(): Promise<object> {
  const engine = await checkDockerEngine()
  if (!engine.ok) return { skipped: true, reason: engine.reason }
  const info = await testDocker().version()
  const repository = `sentra-bench-${process.pid}/web`
  const images = [`${repository}:v1`, `${repository}:v2`]
  for (const image of images) await importTestImage(image)
  const port = await freePort()
  const app: AppSpec = assertSpec(dockerAppDoc(`bench-${process.pid}`, repository, port))
  const r: RolloutRef = { rolloutId: 'bench', application: app, stableVersion: 'v1', canaryVersion: 'v2' }
  const log = (line: string) => process.stderr.write(`${line}\n`)
  const open: DockerTarget[] = []
  const target = (): DockerTarget => {
    const made = createDockerTarget({ proxies: new ProxyRegistry(), host: TEST_DOCKER_HOST, retireDelayMs: 0, stopGraceSeconds: 1, pull: false, log })
    open.push(made)
    return made
  }
  try {
    const first = target()
    const coldStable = await measure(first, () => first.ensureStable(app, 'v1'))
    const coldCanary = await measure(first, () => first.prepare(r))
    const steps: Measured[] = []
    for (let round = 0; round < WEIGHT_ROUNDS; round++) for (const weight of WEIGHTS) steps.push(await weightStep(first, r, weight))
    await first.setWeight(r, 20)
    const ticks: Measured[] = []
    for (let i = 0; i < WEIGHT_ROUNDS; i++) ticks.push(await steadyTick(first, r, 20))
    await first.close()

    // A restarted Sentra: a new target (and proxy) adopts both containers by label.
    const second = target()
    const adoption = await measure(second, async () => {
      await second.canaryFailure(r)
      await second.ensureStable(app, 'v1')
      await second.prepare(r)
      await second.setWeight(r, 20)
    })
    const promote = await measure(second, async () => {
      await second.setWeight(r, 100)
      await second.promote(r)
    })
    const next: RolloutRef = { ...r, stableVersion: 'v2', canaryVersion: 'v1' }
    await second.prepare(next)
    const rollback = await measure(second, () => second.rollback(next))
    log(`docker: ${steps.length} weight steps, ${ticks.length} ticks measured`)
    return {
      engine: { server: info.Version, api: info.ApiVersion, address: first.engineAddress },
      coldStable,
      coldCanary,
      weightStep: { ...summary(steps), note: 'setWeight until observedWeight reports it; traffic moves at Sentra’s proxy, so no engine call' },
      steadyTick: { ...summary(ticks), note: 'canaryFailure + ensureStable + prepare + observedWeight, as the controller reconciles every interval' },
      adoptionAfterRestart: adoption,
      promote: { ...promote, note: 'old stable removed at once here (retireDelayMs 0); by default after 5 s' },
      rollback,
    }
  } finally {
    for (const made of open) await made.close().catch(() => undefined)
    await removeContainersOf(app.name)
    await removeImages(images)
  }
}

function summary(samples: Measured[]): { samples: number; msMedian: number; msP95: number; msMax: number; engineCallsPerStep: number } {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b)
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0
  return {
    samples: samples.length,
    msMedian: at(0.5),
    msP95: at(0.95),
    msMax: ms.at(-1) ?? 0,
    engineCallsPerStep: round(samples.reduce((sum, s) => sum + s.engineCalls, 0) / Math.max(samples.length, 1)),
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
