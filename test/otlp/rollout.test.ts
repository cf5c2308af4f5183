/**
 * End to end, in one process on SQLite: services/demo.mjs exports spans and logs with the
 * real OpenTelemetry SDK (services/demo-otel.mjs) to the server's OTLP receiver; the
 * controller judges gates on the OTLP signals only, rolls back the bad v2 and promotes the
 * good v3, and the v2 rollout has linked error traces with their spans. Then the live demo
 * (controller/demo/run.ts, as `npm start` runs it) links traces of its v2 with no other setup.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest'
import { runDemo } from '../../controller/demo/run.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { assertSpec } from '../../schema/spec.ts'
import type { Rollout } from '../../schema/store/models.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'
import { startOtlpServer, type OtlpTestServer } from './support.ts'

describe('rollouts judged on OTLP signals from the demo service', () => {
  let t: OtlpTestServer
  let runtime: ControllerRuntime
  let dir: string
  /** The controller's log, whose last lines a failing test prints. */
  const controllerLog: string[] = []
  beforeEach(() => {
    controllerLog.length = 0
    onTestFailed(() => console.log(`controller log (last 200 lines):\n${controllerLog.slice(-200).join('\n')}`))
  })

  beforeAll(async () => {
    t = await startOtlpServer('sqlite', { applicationTtlMs: 200 })
    runtime = await startControllerRuntime({ store: t.store, bus: t.bus, scanIntervalMs: 200, notifications: false, log: (line) => controllerLog.push(line) })
    dir = await mkdtemp(join(tmpdir(), 'sentra-otlp-'))
  })
  afterAll(async () => {
    await runtime?.stop()
    await t?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function finished(rollout: Rollout): Promise<Rollout> {
    return waitFor(
      async () => (await t.store.rollouts.byId(rollout.id))!,
      (r) => ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED', 'FAILED', 'ABORTED'].includes(r.status),
      { timeoutMs: 150_000, everyMs: 500, what: `rollout of ${rollout.toVersion}` },
    )
  }

  it('rolls back v2 on trace errors and error logs, with linked error traces, and promotes v3', async () => {
    const tokenFile = join(dir, 'token')
    await writeFile(tokenFile, t.tokens.operate, { mode: 0o600 })
    const port = await freePort()
    const base = quickSpec('traced', port)
    const target = base.target as { env: Record<string, string> }
    const spec = assertSpec({
      ...base,
      target: { ...target, env: { ...target.env, OTEL_EXPORTER_OTLP_ENDPOINT: t.url, SENTRA_OTLP_TOKEN_FILE: tokenFile, OTEL_SERVICE_NAME: 'traced' } },
      strategy: { canary: { steps: [{ setWeight: 50 }, { analyze: { min: '10s', max: '90s' } }] } },
      gates: [
        { name: 'trace-errors', signal: 'traceErrorRate', judge: { kind: 'relative', maxIncrease: 0.03 } },
        { name: 'log-errors', signal: 'logErrorRatio', judge: { kind: 'relative', maxIncrease: 0.03 } },
      ],
    })
    let app = await t.store.applications.upsert('traced', spec)
    expect((await finished(await beginRollout(t.store, t.bus, app, 'v1'))).status).toBe('SUCCEEDED')
    // Steady traffic through Sentra's proxy, so every version has requests and telemetry.
    // Ten independent clients (about 70 requests/s): batches of five that waited for their
    // slowest answer were held to ~20 requests/s by v2's +150 ms, and the relative judge, which
    // passes on the window's point estimate, once passed v2 (8 % errors) on 6 errors in ~150
    // requests against 2 in ~150 for v1: within its +3 pp. With ~500 requests per version in
    // the window that is four standard deviations away.
    let stop = false
    const client = async (): Promise<void> => {
      while (!stop) {
        await fetch(`http://127.0.0.1:${port}/`).then((r) => r.arrayBuffer()).catch(() => null)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    const load = Promise.all(Array.from({ length: 10 }, client))
    try {
      app = (await t.store.applications.byName('traced'))!
      const bad = await finished(await beginRollout(t.store, t.bus, app, 'v2'))
      const [decisions] = await t.store.decisions.for([bad.id])
      expect(bad.status, decisions!.map((d) => `${d.action}: ${d.reason}`).join('\n')).toBe('ROLLED_BACK')
      const rollback = decisions!.find((d) => d.action === 'ROLLBACK')
      expect(rollback?.reason).toMatch(/trace error rate|log error ratio/)
      console.log(`traced v2: ${rollback?.reason}`)
      await t.server.otlp!.settle()
      const linked = (await t.store.evidence.tracesPage(bad.id, { errorOnly: true, first: 50 })).items.map((i) => i.node)
      // The canary's error traces, and the baseline's (v1) for comparison.
      expect(linked.every((tr) => ['v1', 'v2'].includes(tr.version) && tr.error && tr.source === 'otlp' && tr.rootName === 'GET /')).toBe(true)
      const traces = linked.filter((tr) => tr.version === 'v2')
      expect(traces.length).toBeGreaterThan(0)
      const [spans] = await t.store.evidence.spansOf([traces[0]!.id])
      expect(spans!.map((s) => s.name).sort()).toEqual(['GET /', 'render page'])

      app = (await t.store.applications.byName('traced'))!
      const good = await finished(await beginRollout(t.store, t.bus, app, 'v3'))
      expect(good.status).toBe('SUCCEEDED')
    } finally {
      stop = true
      await load
    }
  }, 400_000)

  it('runs the live demo with telemetry: its v2 rollout gets linked traces of v2', async () => {
    // The demo's own log (its errors are only logged), printed if the test fails.
    const lines: string[] = []
    onTestFailed(() => console.log(`demo log:\n${lines.join('\n')}`))
    const demo = runDemo({ store: t.store, bus: t.bus, log: (line) => lines.push(line), port: await freePort(), pauseMs: 500, rate: 50, otlpUrl: t.url })
    try {
      const rollout = await waitFor(
        async () => (await t.store.rollouts.list({ first: 10, application: 'demo' })).items.map((i) => i.node).find((r) => r.toVersion === 'v2') ?? null,
        (r) => r !== null,
        { timeoutMs: 90_000, everyMs: 500, what: 'the demo rollout of v2' },
      )
      // Error traces or the slowest healthy ones (docs/otlp.md): the demo's v2 is often rolled
      // back on its latency after one to three seconds of traffic, 12 to 40 requests at 25 %, so
      // at its 8 % error rate it may have served no failed request at all (up to a third of runs).
      await waitFor(
        async () => (await t.store.evidence.tracesPage(rollout!.id, { first: 20 })).items.filter((i) => i.node.version === 'v2').length,
        (n) => n > 0,
        { timeoutMs: 90_000, everyMs: 500, what: 'linked traces of the demo v2' },
      )
      // The demo's token is its own, operate scope, and only a file path is in the spec.
      const spec = (await t.store.applications.byName('demo'))!.spec as { target: { env: Record<string, string> } }
      expect(spec.target.env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(t.url)
      expect(JSON.stringify(spec)).not.toMatch(/sentra_[A-Za-z0-9_-]{20,}/)
    } finally {
      await demo.stop()
    }
  }, 200_000)
})
