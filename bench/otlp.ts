/**
 * The OTLP benchmark (`npm run bench -- otlp`): how many spans per second, per core of the
 * server, Sentra's OTLP receiver accepts while the p99 of an export stays under 50 ms, and
 * the server's memory at that rate. See docs/benchmarks.md.
 *
 * In this process: the real API server (createApiServer, the receiver as `npm start` runs
 * it) on loopback over a fresh SQLite store in a temp dir, the application `bench-otlp`
 * with an active rollout of v2 over v1 (so linked traces are chosen and saved too).
 * In a separate process per step (bench/otlp-sender.mjs): the OpenTelemetry SDK's OTLP/HTTP
 * protobuf exporter sending pre-made SDK spans (traces of 5 spans, 2 % failing) of both
 * versions at a fixed rate, open loop, and timing each export.
 *
 * Ingest latency is measured at the server: from a request's arrival (its headers) to the
 * end of its answer, so it includes reading the body, decoding, attributing and counting,
 * and not the exporter's own serialisation in the sender (which on a loaded 2-core machine
 * dominates what the sender sees; the sender's view is reported as `exportLatencyMs`).
 *
 * The baseline, in the same run and with the same sender: a bare node:http server on
 * loopback that reads each body and answers an empty 200 (transport and exporter cost only).
 *
 * Settings: BENCH_STEP_SECONDS (default 5), BENCH_BATCH (spans per export, default 200),
 * BENCH_RATES (comma-separated spans/s, default 2000,5000,10000,20000,40000,80000).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBus } from '../schema/events/index.ts'
import { assertSpec } from '../schema/spec.ts'
import { openStore } from '../schema/store/index.ts'
import { createApiServer } from '../server/app.ts'
import { demoSpec } from '../test/support/api.ts'

const SENDER = fileURLToPath(new URL('./otlp-sender.mjs', import.meta.url))
const P99_LIMIT_MS = 50
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 5)
const BATCH = Number(process.env.BENCH_BATCH ?? 200)
const RATES = (process.env.BENCH_RATES ?? '2000,5000,10000,20000,40000,80000').split(',').map(Number)

interface SenderResult {
  sent: number
  failed: number
  exports: number
  seconds: number
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null }
}

interface Step {
  rate: number
  acceptedPerSecond: number
  failed: number
  /** At the server: request arrival to the end of the answer. */
  latencyMs: { p50: number | null; p99: number | null; max: number | null }
  /** At the sender: export() call to its callback (includes the SDK's serialisation). */
  exportLatencyMs: SenderResult['latencyMs']
  /** Server CPU seconds per wall second over the step (1 = one core busy). */
  serverCores: number
  rssMiB: number
  acceptedPerCore: number | null
}

function send(url: string, token: string, rate: number, seconds = STEP_SECONDS): Promise<SenderResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SENDER, url, token, String(rate), String(seconds), String(BATCH)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sender exited with ${code}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as SenderResult)
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)))
      }
    })
  })
}

/** Runs the rates in order against `url` until p99 passes the limit or exports fail. */
async function steps(label: string, url: string, token: string, accepted: () => number, server: Server): Promise<Step[]> {
  const result: Step[] = []
  let latencies: number[] = []
  const timeRequest = (_req: unknown, res: import('node:http').ServerResponse) => {
    const began = performance.now()
    res.on('finish', () => latencies.push(performance.now() - began))
  }
  server.prependListener('request', timeRequest)
  // A short warm-up (JIT, connections) that is not measured.
  await send(url, token, RATES[0] ?? 1000, 1)
  for (const rate of RATES) {
    latencies = []
    const before = accepted()
    const cpu = process.cpuUsage()
    const wall = performance.now()
    const sent = await send(url, token, rate)
    const seconds = (performance.now() - wall) / 1000
    const used = process.cpuUsage(cpu)
    const serverCores = (used.user + used.system) / 1e6 / seconds
    const acceptedPerSecond = (accepted() - before) / sent.seconds
    const sorted = latencies.sort((a, b) => a - b)
    const at = (q: number) => (sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! * 10) / 10)
    const step: Step = {
      rate,
      acceptedPerSecond: Math.round(acceptedPerSecond),
      failed: sent.failed,
      latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
      exportLatencyMs: sent.latencyMs,
      serverCores: Math.round(serverCores * 100) / 100,
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      acceptedPerCore: serverCores > 0 ? Math.round(acceptedPerSecond / serverCores) : null,
    }
    result.push(step)
    console.error(`${label}: ${JSON.stringify(step)}`)
    // Past the limit, failing, or the sender cannot keep up (then higher rates say nothing more).
    if (sent.failed > 0 || (step.latencyMs.p99 ?? Infinity) > P99_LIMIT_MS || acceptedPerSecond < 0.8 * rate) break
  }
  server.off('request', timeRequest)
  return result
}

/** The best step whose p99 stayed under the limit with nothing failed. */
function best(list: readonly Step[]): Step | null {
  const ok = list.filter((s) => s.failed === 0 && (s.latencyMs.p99 ?? Infinity) <= P99_LIMIT_MS)
  return ok.reduce<Step | null>((a, s) => (a === null || s.acceptedPerSecond > a.acceptedPerSecond ? s : a), null)
}

export async function run(): Promise<object> {
  const dir = await mkdtemp(join(tmpdir(), 'sentra-bench-otlp-'))
  const store = await openStore(join(dir, 'sentra.db'))
  const bus = createBus(undefined, { prefix: 'bench-otlp:' })
  const api = createApiServer({ store, bus })
  let baseline: Server | null = null
  try {
    const app = await store.applications.upsert('bench-otlp', assertSpec(demoSpec('bench-otlp')))
    await store.applications.setStableVersion(app.id, 'v1')
    await store.rollouts.create({ application: (await store.applications.byName('bench-otlp'))!, toVersion: 'v2', steps: [] })
    const { token } = await store.tokens.create('bench sender', 'operate')
    const { url } = await api.listen(0, '127.0.0.1')

    // Baseline: a bare server that reads the body and answers 200, counting spans as the sender reports them.
    let baselineSpans = 0
    baseline = createServer((req, res) => {
      req.on('data', () => {})
      req.on('end', () => {
        baselineSpans += BATCH
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' })
        res.end()
      })
    })
    await new Promise<void>((resolve) => baseline!.listen(0, '127.0.0.1', resolve))
    const baselineUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}`

    const baselineSteps = await steps('baseline', baselineUrl, token, () => baselineSpans, baseline)
    const rssBefore = Math.round(process.memoryUsage().rss / 2 ** 20)
    const sentraSteps = await steps('sentra', url, token, () => api.otlp!.stats.acceptedSpans, api.http)
    await api.otlp!.settle()
    // On a machine too loaded for any step to meet the limit, the first (slowest-rate) step is shown, marked as such.
    const chosen = best(sentraSteps) ?? sentraSteps[0] ?? null
    const chosenBaseline = best(baselineSteps) ?? baselineSteps[0] ?? null
    return {
      benchmark: 'otlp',
      p99LimitMs: P99_LIMIT_MS,
      stepSeconds: STEP_SECONDS,
      spansPerExport: BATCH,
      machineCores: cpus().length,
      result: chosen && {
        spansPerSecondAccepted: chosen.acceptedPerSecond,
        spansPerSecondPerCore: chosen.acceptedPerCore,
        p99Ms: chosen.latencyMs.p99,
        p99UnderLimit: (chosen.latencyMs.p99 ?? Infinity) <= P99_LIMIT_MS,
        rssMiB: chosen.rssMiB,
        rssMiBBeforeSentraSteps: rssBefore,
      },
      baseline: chosenBaseline && { spansPerSecond: chosenBaseline.acceptedPerSecond, spansPerSecondPerCore: chosenBaseline.acceptedPerCore, p99Ms: chosenBaseline.latencyMs.p99, p99UnderLimit: (chosenBaseline.latencyMs.p99 ?? Infinity) <= P99_LIMIT_MS },
      loadAverage: loadavg()[0],
      ratio:
        chosen && chosenBaseline && chosenBaseline.acceptedPerCore
          ? { spansPerSecondPerCore: Math.round(((chosen.acceptedPerCore ?? 0) / chosenBaseline.acceptedPerCore) * 100) / 100 }
          : null,
      linkedTracesSaved: api.otlp!.stats.savedTraces,
      steps: { sentra: sentraSteps, baseline: baselineSteps },
    }
  } finally {
    await api.close()
    await new Promise<void>((resolve) => (baseline ? baseline.close(() => resolve()) : resolve()))
    await bus.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}
