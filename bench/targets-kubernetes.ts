/**
 * The Kubernetes target against the API server stand-in (test/standins/kubernetes.ts): for
 * each step, the time from the decision (setWeight called) to the new weight being
 * observed (observedWeight returns it), and the API calls each took, counted by the
 * stand-in. Three ways of moving traffic:
 * - HTTPRoute weights: observed as soon as the route is written;
 * - replica ratio: observed when the pods are available, so the stand-in's Deployment
 *   controller delay (READY_DELAY_MS, standing in for pod start-up) is part of it;
 * - blue/green: the switch of the Service selector.
 * Not a test: numbers depend on the machine. `measureKubernetes()` is combined with the
 * Docker target's measure into `npm run bench -- targets` by bench/run.ts.
 */
import { performance } from 'node:perf_hooks'
import { KubernetesTarget } from '../controller/targets/kubernetes.ts'
import { blueGreenApp, canaryApp, kubeConfigFor, rollout, seedObjects } from '../controller/targets/kubernetes-test-support.ts'
import { replicaSplit } from '../controller/targets/kubernetes-objects.ts'
import type { AppSpec } from '../schema/spec.ts'
import { KubernetesStandIn } from '../test/standins/kubernetes.ts'

const READY_DELAY_MS = 100
const REPLICAS = 10
const ROUNDS = 5

interface StepMeasure {
  weight: number
  /** setWeight called → observedWeight returned the expected value. */
  decisionToObservedMs: number
  /** API calls made by setWeight itself. */
  setWeightCalls: number
  /** API calls made by the observedWeight polls until the weight was seen. */
  observeCalls: number
}

function summary(steps: StepMeasure[]): object {
  const times = steps.map((s) => s.decisionToObservedMs).sort((a, b) => a - b)
  const quantile = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? Number.NaN
  const round = (n: number): number => Math.round(n * 100) / 100
  return {
    steps: steps.length,
    decisionToObservedMs: { p50: round(quantile(0.5)), p95: round(quantile(0.95)), max: round(times.at(-1) ?? Number.NaN) },
    apiCallsPerStep: {
      setWeight: round(steps.reduce((n, s) => n + s.setWeightCalls, 0) / steps.length),
      observe: round(steps.reduce((n, s) => n + s.observeCalls, 0) / steps.length),
    },
  }
}

async function measureMode(app: AppSpec, weights: number[], expected: (weight: number) => number): Promise<StepMeasure[]> {
  const standIn = await KubernetesStandIn.start({ readyDelayMs: READY_DELAY_MS })
  const withRoute = app.target.kind === 'kubernetes' && app.target.httpRoute !== undefined
  for (const object of seedObjects(REPLICAS, withRoute)) standIn.seed(object)
  const target = new KubernetesTarget({ kubeConfig: kubeConfigFor(standIn), pollMs: 1000 })
  const steps: StepMeasure[] = []
  try {
    await target.ensureStable(app, '1.0.0')
    for (let round = 0; round < ROUNDS; round++) {
      const r = rollout(app, '1.0.0', `1.1.${round}`)
      await target.prepare(r)
      for (const weight of weights) {
        standIn.resetCalls()
        const started = performance.now()
        await target.setWeight(r, weight)
        const setWeightCalls = standIn.calls().length
        while ((await target.observedWeight(r)) !== expected(weight)) {
          if (performance.now() - started > 60_000) throw new Error(`weight ${weight} not observed within 60 s`)
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        steps.push({ weight, decisionToObservedMs: performance.now() - started, setWeightCalls, observeCalls: standIn.calls().length - setWeightCalls })
      }
      await target.rollback(r)
      process.stderr.write('.')
    }
  } finally {
    await target.close()
    await standIn.close()
  }
  return steps
}

export async function measureKubernetes(): Promise<object> {
  const canaryWeights = [5, 10, 25, 50, 75]
  const route = await measureMode(canaryApp(), canaryWeights, (w) => w)
  const replicas = await measureMode(canaryApp({ withRoute: false }), canaryWeights, (w) => {
    const split = replicaSplit(REPLICAS, w)
    return Math.round((split.canary * 100) / (split.canary + split.stable))
  })
  const blueGreen = await measureMode(blueGreenApp(), [100, 0], (w) => w)
  process.stderr.write('\n')
  return {
    target: 'kubernetes',
    against: 'API server stand-in (test/standins/kubernetes.ts) on 127.0.0.1',
    standIn: { deploymentReadyDelayMs: READY_DELAY_MS, replicas: REPLICAS, rounds: ROUNDS },
    httpRoute: summary(route),
    replicaRatio: summary(replicas),
    blueGreen: summary(blueGreen),
  }
}

/** `npm run bench -- targets-kubernetes` alone, if bench/run.ts lists it. */
export async function run(): Promise<object> {
  return measureKubernetes()
}
