/**
 * `npm start` a second time: the demo makes a new exporter token at each start and revokes
 * the previous one, whose file went with the previous process. The controller brings the
 * stable version up from the stored spec as soon as it starts, so the demo's spec must name
 * this start's token file by then (embedded.ts applies it first, `prepareDemo`). Before, the
 * restarted stable version read the deleted file, exported without a token, and the OTLP
 * receiver refused its telemetry until the next rollout.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { prepareDemo, runDemo } from '../../controller/demo/run.ts'
import { DEMO_APPLICATION } from '../../controller/demo/spec.ts'
import { startControllerRuntime } from '../../controller/runtime.ts'
import { freePort, waitFor } from '../support/rollouts.ts'
import { startOtlpServer, type OtlpTestServer } from './support.ts'

describe('the live demo started again on the same store', () => {
  let t: OtlpTestServer
  const lines: string[] = []

  beforeAll(async () => {
    t = await startOtlpServer('sqlite', { applicationTtlMs: 200 })
  })
  afterAll(async () => {
    await t?.close()
  })

  /** One `npm start`, as embedded.ts orders it: the demo applied, the controller, then the demo's traffic. */
  async function start(port: number) {
    const options = { store: t.store, bus: t.bus, log: (line: string) => lines.push(line), port, otlpUrl: t.url }
    const prepared = await prepareDemo(options)
    const runtime = await startControllerRuntime({ store: t.store, bus: t.bus, scanIntervalMs: 200, notifications: false, log: (line) => lines.push(line) })
    // No second rollout while the test looks: only the stable v1 serves. (stop() cuts the pause short.)
    const demo = runDemo({ ...options, prepared, pauseMs: 600_000, rate: 20 })
    return {
      stop: async () => {
        runtime.quiesce()
        await demo.stop()
        await runtime.stop()
      },
    }
  }

  /** Spans the receiver accepted from the stable v1 since `fromMs`. */
  async function v1Spans(fromMs: number): Promise<number> {
    const windows = await t.store.otlp.window(DEMO_APPLICATION, ['v1'], fromMs, Date.now() + 1000)
    return windows.get('v1')?.spans ?? 0
  }

  it("the stable version brought up again exports with this start's token", async () => {
    onTestFailed(() => console.log(`log:\n${lines.join('\n')}`))
    const port = await freePort()
    const first = await start(port)
    try {
      await waitFor(async () => (await t.store.applications.byName(DEMO_APPLICATION))?.stableVersion ?? null, (v) => v === 'v1', { timeoutMs: 60_000, everyMs: 200, what: 'v1 deployed' })
      await waitFor(() => v1Spans(0), (n) => n > 0, { timeoutMs: 30_000, everyMs: 250, what: 'spans of v1 in the first life' })
    } finally {
      await first.stop()
    }

    const restartedAt = Date.now()
    const second = await start(port)
    try {
      // From the next whole second: the first life's last spans may fall in the restart's second.
      const spans = await waitFor(() => v1Spans(restartedAt + 1000), (n) => n > 0, { timeoutMs: 30_000, everyMs: 250, what: 'spans of v1 after the restart' })
      expect(spans).toBeGreaterThan(0)
      expect(lines.filter((l) => /cannot read SENTRA_OTLP_TOKEN_FILE/.test(l))).toEqual([])
    } finally {
      await second.stop()
    }
  }, 150_000)
})
