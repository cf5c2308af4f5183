/**
 * The detection benchmark (`npm run bench -- detection`): how long today's judge takes to
 * roll back a canary that starts healthy and degrades at a known moment, and how many
 * canary requests fail in the meantime. See docs/benchmarks.md.
 *
 * Each trial, all in this process and on loopback: a fresh SQLite store in a temp dir, the
 * in-memory bus, the controller runtime (its ProxyRegistry and ProcessTarget), an application
 * whose command is bench/faulty-canary.mjs (services/demo.mjs with a fault for one version),
 * an initial deploy of v1, steady load through the proxy, then a canary of v3 at 20 % under
 * analysis. v3 answers with 0.5 % errors like v1 until FAULT_AFTER_MS after it starts
 * listening, then with 5 %. The trial measures, from that onset, the time until the proxy
 * sends the canary no traffic, and the canary requests that failed in between.
 *
 * Settings: BENCH_TRIALS (default 20; 2 for a smoke run), BENCH_VERBOSE=1 (the controller's
 * and the children's log lines on stderr).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startLoad } from '../controller/demo/load.ts'
import { MAX_WINDOW_MS } from '../controller/evaluate.ts'
import { MIN_CANARY_REQUESTS } from '../controller/judges/reading.ts'
import { startControllerRuntime, type ControllerRuntime } from '../controller/runtime.ts'
import { createBus, type Bus } from '../schema/events/index.ts'
import { beginRollout } from '../schema/rollout-start.ts'
import { assertSpec } from '../schema/spec.ts'
import { openStore, type Store } from '../schema/store/index.ts'
import type { Rollout, RolloutStatus } from '../schema/store/models.ts'
import { freePort } from '../test/support/rollouts.ts'

const APPLICATION = 'bench-detection'
const STABLE_VERSION = 'v1'
/** Odd, so services/demo.mjs treats it as a good release until the fault. */
const CANARY_VERSION = 'v3'
const TOTAL_RATE = 50
const CANARY_WEIGHT = 20
const ERROR_RATE_BEFORE = 0.005
const ERROR_RATE_AFTER = 0.05
/** From the canary process starting to listen to the fault onset. */
const FAULT_AFTER_MS = 20_000
/** A trial that has not rolled back this long after the onset is a timeout. */
const TIMEOUT_AFTER_ONSET_MS = 120_000
const POLL_MS = 50
const STATUS_EVERY_POLLS = 10
const WAIT_STABLE_MS = 60_000
/** After the rollback, requests still in flight to the canary finish and are recorded. */
const SETTLE_MS = 1_500

const GATE = { name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.02 } } as const
const INTERVAL = '1s'
const WRAPPER = fileURLToPath(new URL('./faulty-canary.mjs', import.meta.url))

/** The application: the wrapper behind Sentra's proxy; one step at 20 %, then analysis far longer than a trial. */
function benchSpec(port: number): Record<string, unknown> {
  return {
    name: APPLICATION,
    target: {
      kind: 'process',
      listen: `127.0.0.1:${port}`,
      command: [process.execPath, WRAPPER],
      env: {
        APP_VERSION: '{{version}}',
        PORT: '{{port}}',
        DEMO_ERROR_RATE: String(ERROR_RATE_BEFORE),
        BENCH_FAULT_VERSION: CANARY_VERSION,
        BENCH_FAULT_AFTER_MS: String(FAULT_AFTER_MS),
        BENCH_FAULT_ERROR_RATE: String(ERROR_RATE_AFTER),
      },
      healthPath: '/healthz',
    },
    strategy: { canary: { steps: [{ setWeight: CANARY_WEIGHT }, { analyze: { min: '10m' } }] } },
    gates: [GATE],
    interval: INTERVAL,
  }
}

export type TrialOutcome = 'rolledBack' | 'falseRollback' | 'timeout' | 'paused' | 'error'

export interface TrialResult {
  trial: number
  outcome: TrialOutcome
  /** Onset to canary weight 0; negative for a false rollback; null when there was none. */
  secondsToRollback: number | null
  /** Canary requests answered with an error between onset and rollback (rolledBack only). */
  failedCanaryRequests: number | null
  /** Canary requests between onset and rollback (rolledBack only). */
  canaryRequests: number | null
  /** Canary requests per second actually seen while the canary had traffic. */
  canaryRequestsPerSecond: number | null
  /** Error rates the proxy saw while the canary had traffic (see ErrorCounts); null without a canary phase. */
  errorRates: { stable: number | null; canaryBeforeOnset: number | null; canaryAfterOnset: number | null } | null
  /** The controller's reason for rolling back, or what went wrong. */
  reason: string | null
}

/** Requests and errors the proxy recorded in one trial, for the pooled error rates. */
interface ErrorCounts {
  stable: { requests: number; errors: number }
  canaryBeforeOnset: { requests: number; errors: number }
  canaryAfterOnset: { requests: number; errors: number }
}

interface TrialRun {
  result: TrialResult
  counts: ErrorCounts | null
}

interface Quantiles {
  median: number | null
  p90: number | null
  min: number | null
  max: number | null
}

export interface DetectionBenchSummary {
  benchmark: 'detection'
  trials: number
  trafficRequestsPerSecond: number
  canaryWeightPercent: number
  canaryRequestsPerSecond: number
  measuredCanaryRequestsPerSecond: { median: number | null; min: number | null }
  faultErrorRate: { before: number; after: number }
  /** Pooled over every trial's canary phase, as the proxy recorded them. */
  measuredErrorRate: { stable: number | null; canaryBeforeOnset: number | null; canaryAfterOnset: number | null }
  faultAfterCanaryStartSeconds: number
  judge: {
    gate: string
    signal: string
    kind: string
    maxIncrease: number
    interval: string
    window: string
    maxWindowSeconds: number
    minRequests: number
  }
  secondsToRollback: Quantiles
  failedCanaryRequestsBeforeRollback: Omit<Quantiles, 'min'>
  rolledBack: number
  falseRollbacks: number
  timeouts: number
  trialErrors: number
  perTrial: TrialResult[]
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, got "${raw}"`)
  return value
}

function log(message: string): void {
  process.stderr.write(`[bench detection] ${message}\n`)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const round = (value: number, digits: number): number => Number(value.toFixed(digits))
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Linear interpolation between closest ranks (the usual "type 7" quantile); null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low)
}

function quantiles(values: readonly number[], digits: number): Quantiles {
  const at = (q: number): number | null => {
    const value = quantile(values, q)
    return value === null ? null : round(value, digits)
  }
  return { median: at(0.5), p90: at(0.9), min: at(0), max: at(1) }
}

/** Everything one trial started; `close` stops it all (safe to call twice). */
class TrialRig {
  store: Store | undefined
  bus: Bus | undefined
  runtime: ControllerRuntime | undefined
  load: ReturnType<typeof startLoad> | undefined
  dir: string | undefined
  #closing: Promise<void> | undefined

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.load?.stop()
      const steps: [string, (() => Promise<void>) | undefined][] = [
        // Stops the controller, every child process (SIGTERM, then SIGKILL) and the proxy.
        ['stop the controller runtime', this.runtime && (() => this.runtime!.stop())],
        ['close the bus', this.bus && (() => this.bus!.close())],
        ['close the store', this.store && (() => this.store!.close())],
        ['remove the temp dir', this.dir === undefined ? undefined : () => rm(this.dir!, { recursive: true, force: true })],
      ]
      for (const [what, step] of steps) {
        if (!step) continue
        try {
          await step()
        } catch (error) {
          log(`could not ${what}: ${message(error)}`)
        }
      }
    })()
    return this.#closing
  }
}

async function waitForStatus(store: Store, id: string, done: readonly RolloutStatus[], timeoutMs: number): Promise<Rollout> {
  const deadline = Date.now() + timeoutMs
  let last: Rollout | null = null
  while (Date.now() < deadline) {
    last = await store.rollouts.byId(id)
    if (last && done.includes(last.status)) return last
    await sleep(100)
  }
  throw new Error(`rollout ${id} did not reach ${done.join('/')} within ${timeoutMs} ms (last status: ${last?.status ?? 'none'})`)
}

async function lastDecisionReason(store: Store, rolloutId: string, action: string): Promise<string | null> {
  const [decisions = []] = await store.decisions.for([rolloutId])
  return decisions.filter((d) => d.action === action).at(-1)?.reason ?? null
}

const rate = ({ requests, errors }: { requests: number; errors: number }): number | null => (requests > 0 ? round(errors / requests, 4) : null)

function errorRatesOf(counts: ErrorCounts | null): TrialResult['errorRates'] {
  if (counts === null) return null
  return { stable: rate(counts.stable), canaryBeforeOnset: rate(counts.canaryBeforeOnset), canaryAfterOnset: rate(counts.canaryAfterOnset) }
}

async function runTrial(trial: number, rig: TrialRig, verbose: boolean): Promise<TrialRun> {
  const base = { trial, secondsToRollback: null, failedCanaryRequests: null, canaryRequests: null, canaryRequestsPerSecond: null, errorRates: null, reason: null }
  let onsetMs: number | null = null
  const onsetLine = new RegExp(`^\\[${APPLICATION}/${CANARY_VERSION}\\] bench-fault-onset-ms=(\\d+)`)
  const runtimeLog = (line: string): void => {
    const match = onsetLine.exec(line)
    if (match) onsetMs = Number(match[1])
    if (verbose) process.stderr.write(`  ${line}\n`)
  }

  rig.dir = await mkdtemp(join(tmpdir(), 'sentra-bench-detection-'))
  const store = (rig.store = await openStore(join(rig.dir, 'sentra.db')))
  const bus = (rig.bus = createBus())
  const runtime = (rig.runtime = await startControllerRuntime({ store, bus, scanIntervalMs: 200, log: runtimeLog }))
  const port = await freePort()
  const spec = assertSpec(benchSpec(port))
  const app = await store.applications.upsert(spec.name, spec)
  await bus.publish('application.changed', { applicationId: app.id, name: app.name, at: new Date().toISOString() })

  const initial = await beginRollout(store, bus, app, STABLE_VERSION)
  await waitForStatus(store, initial.id, ['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'ABORTED', 'PAUSED'], WAIT_STABLE_MS).then((r) => {
    if (r.status !== 'SUCCEEDED') throw new Error(`the initial deploy of ${STABLE_VERSION} ended ${r.status}`)
  })
  const proxy = runtime.proxies.get(APPLICATION)
  if (!proxy) throw new Error('no proxy after the initial deploy')
  rig.load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: TOTAL_RATE })

  const deployed = await store.applications.byName(APPLICATION)
  if (deployed?.stableVersion !== STABLE_VERSION) throw new Error(`stable version is ${deployed?.stableVersion ?? 'none'}, expected ${STABLE_VERSION}`)
  const rollout = await beginRollout(store, bus, deployed, CANARY_VERSION)
  const startedAt = Date.now()

  // Watch the proxy: the canary gets its weight, then loses it (the rollback).
  let weightUpAt: number | null = null
  let rollbackAt: number | null = null
  let status: RolloutStatus = rollout.status
  const hardDeadline = startedAt + WAIT_STABLE_MS + FAULT_AFTER_MS + TIMEOUT_AFTER_ONSET_MS
  for (let poll = 0; ; poll++) {
    const now = Date.now()
    const routes = proxy.routes()
    const canaryRouted = routes.canary?.version === CANARY_VERSION && routes.weight > 0
    if (weightUpAt === null && canaryRouted) weightUpAt = now
    if (weightUpAt !== null && !canaryRouted) {
      rollbackAt = now
      break
    }
    if (onsetMs !== null && now > onsetMs + TIMEOUT_AFTER_ONSET_MS) break
    if (now > hardDeadline) throw new Error(`no fault onset line from ${CANARY_VERSION} and no rollback within ${hardDeadline - startedAt} ms`)
    if (poll % STATUS_EVERY_POLLS === 0) {
      status = (await store.rollouts.byId(rollout.id))?.status ?? status
      if (weightUpAt === null && !['PENDING', 'PROGRESSING'].includes(status)) {
        const why = (await lastDecisionReason(store, rollout.id, 'ROLLBACK')) ?? 'no reason recorded'
        throw new Error(`the canary ended ${status} before it had any traffic: ${why}`)
      }
      // A paused rollout waits for a person: it will not roll back on its own.
      if (status === 'PAUSED') break
    }
    await sleep(POLL_MS)
  }

  if (onsetMs === null) throw new Error(`the canary ${CANARY_VERSION} never printed its fault onset time`)
  const onset: number = onsetMs
  if (weightUpAt !== null && weightUpAt > onset) throw new Error(`the canary only got traffic ${weightUpAt - onset} ms after the fault onset`)

  // What the proxy recorded while the canary had traffic (one-second resolution: see RedMetrics.window).
  const countsUntil = (end: number): ErrorCounts | null => {
    if (weightUpAt === null) return null
    const pick = (version: string, from: number, to: number) => {
      const { requests, errors } = proxy.metrics.window(version, from, to)
      return { requests, errors }
    }
    return {
      stable: pick(STABLE_VERSION, weightUpAt, end),
      canaryBeforeOnset: pick(CANARY_VERSION, weightUpAt, Math.min(onset, end)),
      canaryAfterOnset: pick(CANARY_VERSION, onset, end),
    }
  }

  if (rollbackAt === null) {
    const paused = status === 'PAUSED'
    const reason = paused ? ((await lastDecisionReason(store, rollout.id, 'PAUSE')) ?? 'paused') : `no rollback within ${TIMEOUT_AFTER_ONSET_MS / 1000} s of the onset`
    const counts = countsUntil(Date.now())
    return { result: { ...base, outcome: paused ? 'paused' : 'timeout', errorRates: errorRatesOf(counts), reason }, counts }
  }

  await sleep(SETTLE_MS)
  const secondsToRollback = round((rollbackAt - onset) / 1000, 2)
  const reason = await waitForStatus(store, rollout.id, ['ROLLED_BACK', 'ROLLING_BACK', 'ABORTED', 'FAILED'], 10_000)
    .then(() => lastDecisionReason(store, rollout.id, 'ROLLBACK'))
    .catch((error: unknown) => message(error))
  const traffic = proxy.metrics.window(CANARY_VERSION, weightUpAt!, rollbackAt)
  const canaryRequestsPerSecond = rollbackAt > weightUpAt! ? round(traffic.requests / ((rollbackAt - weightUpAt!) / 1000), 1) : null
  const counts = countsUntil(rollbackAt)
  const errorRates = errorRatesOf(counts)
  if (rollbackAt < onset) return { result: { ...base, outcome: 'falseRollback', secondsToRollback, canaryRequestsPerSecond, errorRates, reason }, counts }
  const stats = proxy.metrics.window(CANARY_VERSION, onset, rollbackAt)
  return {
    result: {
      ...base,
      outcome: 'rolledBack',
      secondsToRollback,
      failedCanaryRequests: stats.errors,
      canaryRequests: stats.requests,
      canaryRequestsPerSecond,
      errorRates,
      reason,
    },
    counts,
  }
}

function pooled(counts: readonly ErrorCounts[], part: keyof ErrorCounts): number | null {
  return rate(counts.reduce((sum, c) => ({ requests: sum.requests + c[part].requests, errors: sum.errors + c[part].errors }), { requests: 0, errors: 0 }))
}

export async function run(): Promise<DetectionBenchSummary> {
  const trials = positiveInt('BENCH_TRIALS', 20)
  const verbose = process.env.BENCH_VERBOSE === '1'
  let current: TrialRig | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping the current trial`)
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const results: TrialResult[] = []
  const allCounts: ErrorCounts[] = []
  try {
    log(`${trials} trial(s): ${TOTAL_RATE} req/s through the proxy, canary ${CANARY_VERSION} at ${CANARY_WEIGHT} %, errors ${ERROR_RATE_BEFORE} -> ${ERROR_RATE_AFTER} ${FAULT_AFTER_MS / 1000} s after it starts`)
    for (let trial = 1; trial <= trials; trial++) {
      const rig = (current = new TrialRig())
      const began = Date.now()
      let result: TrialResult
      try {
        const { result: done, counts } = await runTrial(trial, rig, verbose)
        result = done
        if (counts) allCounts.push(counts)
      } catch (error) {
        result = {
          trial,
          outcome: 'error',
          secondsToRollback: null,
          failedCanaryRequests: null,
          canaryRequests: null,
          canaryRequestsPerSecond: null,
          errorRates: null,
          reason: message(error),
        }
      } finally {
        await rig.close()
        current = undefined
      }
      results.push(result)
      const took = `${Math.round((Date.now() - began) / 1000)} s`
      const detail =
        result.outcome === 'rolledBack'
          ? `rolled back ${result.secondsToRollback} s after onset, ${result.failedCanaryRequests} of ${result.canaryRequests} canary requests failed`
          : result.outcome === 'falseRollback'
            ? `FALSE rollback ${-result.secondsToRollback!} s before onset`
            : result.outcome
      log(`trial ${trial}/${trials}: ${detail} (${took})${result.reason ? `: ${result.reason}` : ''}`)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }

  const errors = results.filter((r) => r.outcome === 'error')
  if (errors.length === results.length) throw new Error(`every trial failed; the first: ${errors[0]?.reason}`)
  const detected = results.filter((r) => r.outcome === 'rolledBack')
  const rates = results.map((r) => r.canaryRequestsPerSecond).filter((v): v is number => v !== null)
  const failed = quantiles(
    detected.map((r) => r.failedCanaryRequests!),
    1,
  )
  return {
    benchmark: 'detection',
    trials,
    trafficRequestsPerSecond: TOTAL_RATE,
    canaryWeightPercent: CANARY_WEIGHT,
    canaryRequestsPerSecond: (TOTAL_RATE * CANARY_WEIGHT) / 100,
    measuredCanaryRequestsPerSecond: { median: quantiles(rates, 1).median, min: quantiles(rates, 1).min },
    faultErrorRate: { before: ERROR_RATE_BEFORE, after: ERROR_RATE_AFTER },
    measuredErrorRate: {
      stable: pooled(allCounts, 'stable'),
      canaryBeforeOnset: pooled(allCounts, 'canaryBeforeOnset'),
      canaryAfterOnset: pooled(allCounts, 'canaryAfterOnset'),
    },
    faultAfterCanaryStartSeconds: FAULT_AFTER_MS / 1000,
    judge: {
      gate: GATE.name,
      signal: GATE.signal,
      kind: GATE.judge.kind,
      maxIncrease: GATE.judge.maxIncrease,
      interval: INTERVAL,
      window: `cumulative from the start of the analysis step, at most the last ${MAX_WINDOW_MS / 1000} s`,
      maxWindowSeconds: MAX_WINDOW_MS / 1000,
      minRequests: MIN_CANARY_REQUESTS,
    },
    secondsToRollback: quantiles(
      detected.map((r) => r.secondsToRollback!),
      2,
    ),
    failedCanaryRequestsBeforeRollback: { median: failed.median, p90: failed.p90, max: failed.max },
    rolledBack: detected.length,
    falseRollbacks: results.filter((r) => r.outcome === 'falseRollback').length,
    timeouts: results.filter((r) => r.outcome === 'timeout' || r.outcome === 'paused').length,
    trialErrors: errors.length,
    perTrial: results,
  }
}
