import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startLoad } from '../../controller/demo/load.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'
import { runCli, startCli, tempHome } from './run-cli.ts'

vi.setConfig({ testTimeout: 90_000 })

/** Decision lines as `sentra watch` prints them: `12:00:03  ACTION  …`. */
const actions = (stdout: string): string[] => [...stdout.matchAll(/^\d\d:\d\d:\d\d {2}(\S+)/gm)].map((m) => m[1]!)

/** `sentra watch` against a real server and controller, with real rollouts of services/demo.mjs. */
describe('sentra watch: live rollouts end to end', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let load: ReturnType<typeof startLoad> | null = null
  let port = 0
  let home: { home: string; dispose(): Promise<void> }
  const sockets = new Set<Duplex>()
  const ids: Record<string, string> = {}
  const env = () => ({ HOME: home.home, SENTRA_URL: api.url, SENTRA_TOKEN: api.tokens.admin })
  const start = async (version: string): Promise<string> => {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "shop", version: $v) { id } }`, { v: version })
    expect(started.errors).toBeUndefined()
    return started.data!.startRollout.id
  }

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    home = await tempHome()
    port = await freePort()
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200 })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec('shop', port) })
    expect(applied.errors).toBeUndefined()
    // Every WebSocket the server accepts, so a test can cut them.
    api.server.http.on('upgrade', (_request, socket: Duplex) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await api?.close()
    await home?.dispose()
  })

  it('start --watch: a first deploy SUCCEEDS, exit 0', async () => {
    const result = await runCli(['start', 'shop', 'v1', '--watch'], { env: env() })
    expect(result.code, result.stdout + result.stderr).toBe(0)
    ids.v1 = /^started rollout (\S+)$/m.exec(result.stderr)![1]!
    expect(result.stdout).toMatch(new RegExp(`^rollout ${ids.v1}: shop \\(none\\) → v1$`, 'm'))
    expect(actions(result.stdout)).toEqual(['INITIAL_DEPLOY'])
    expect(result.stdout).toMatch(/^SUCCEEDED +\[#{20}\] 100% {2}done/m)
    expect(result.stdout.endsWith('SUCCEEDED: v1 is the stable version of shop\n')).toBe(true)
    load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: 40 })
  })

  it('a bad version is ROLLED_BACK on its evidence: every decision as it happens, gate verdicts, exit 1', async () => {
    ids.v2 = await start('v2')
    const result = await runCli(['watch', ids.v2], { env: env() })
    expect(result.code, result.stdout + result.stderr).toBe(1)
    expect(actions(result.stdout)).toEqual(['START', 'SET_WEIGHT', 'ROLLBACK', 'ROLLED_BACK'])
    expect(result.stdout).toMatch(/^\d\d:\d\d:\d\d {2}SET_WEIGHT +0% → 20% +controller: /m)
    expect(result.stdout).toMatch(/^PROGRESSING +\[####\.{16}\] {2}20% {2}step 2\/4: analyze 3s\.\.60s {2}\| /m)
    expect(result.stdout).toMatch(/^ROLLED_BACK +\[\.{20}\] {3}0% {2}stopped at step 2\/4 {2}\| .*FAIL/m)
    expect(result.stdout).toMatch(/\nROLLED_BACK: shop stays on v1 \(ROLLBACK: .*failed.*\)\n$/)
    expect(result.stderr).toBe('')
  })

  it('a good version SUCCEEDS through every step, reconnecting after a dropped connection without missing a decision', async () => {
    ids.v3 = await start('v3')
    const watch = startCli(['watch', ids.v3], { env: env() })
    await watch.waitFor(/SET_WEIGHT +0% → 20%/)
    // The first lines can come from the CLI's initial fetch, before its WebSocket is open.
    await waitFor(async () => sockets.size, (open) => open > 0, { timeoutMs: 20_000, what: 'the CLI\'s WebSocket' })
    for (const socket of sockets) socket.destroy()
    await watch.waitFor(/reconnected to ws:\/\/127\.0\.0\.1:\d+\/graphql/, 20_000)
    const result = await watch.done
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stderr).toMatch(/^connection to ws:\/\/127\.0\.0\.1:\d+\/graphql lost \(code 1006\); reconnecting…$/m)
    expect(actions(result.stdout)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ADVANCE', 'PROMOTE'])
    expect(result.stdout).toMatch(/^PROGRESSING +\[############\.{8}\] {2}60% {2}step 4\/4: analyze 3s\.\.60s {2}\| errors PASS, latency PASS$/m)
    expect(result.stdout.endsWith('SUCCEEDED: v3 is the stable version of shop\n')).toBe(true)
  })

  it('--output json streams the rollout as JSON lines; operator commands show up live; an operator rollback exits 1', async () => {
    const watch = startCli(['start', 'shop', 'v5', '--watch', '--output', 'json'], { env: env() })
    await watch.waitFor(/"canaryWeight":20,/)
    const id = (JSON.parse(watch.output().split('\n')[0]!) as { id: string }).id
    const resume = await runCli(['resume', id], { env: env() })
    expect(resume).toMatchObject({ code: 1, stdout: '' })
    expect(resume.stderr).toMatch(/^sentra: CONFLICT: cannot resume a rollout that is PROGRESSING/)
    const rollback = await runCli(['rollback', id, '--reason', 'not today'], { env: env() })
    expect(rollback.code).toBe(0)
    const result = await watch.done
    expect(result.code, result.stdout + result.stderr).toBe(1)
    expect(result.stderr).toBe('')
    const states = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; status: string; seq: number; decisions: { action: string; actor: string; reason: string }[] })
    expect(new Set(states.map((s) => s.id))).toEqual(new Set([id]))
    expect(states.map((s) => s.seq)).toEqual([...states.map((s) => s.seq)].sort((a, b) => a - b))
    const last = states.at(-1)!
    expect(last.status).toBe('ROLLED_BACK')
    expect(last.decisions.find((d) => d.action === 'ROLLBACK')).toMatchObject({ actor: 'test admin', reason: expect.stringContaining('not today') })
  })

  it('watching a rollout that has already ended prints it and exits by its status', async () => {
    const [succeeded, rolledBack] = await Promise.all([runCli(['watch', ids.v3!], { env: env() }), runCli(['watch', ids.v2!, '-o', 'json'], { env: env() })])
    expect(succeeded.code).toBe(0)
    expect(actions(succeeded.stdout)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ADVANCE', 'PROMOTE'])
    expect(rolledBack.code).toBe(1)
    expect(rolledBack.stdout.trimEnd().split('\n')).toHaveLength(1)
    expect(JSON.parse(rolledBack.stdout)).toMatchObject({ id: ids.v2, status: 'ROLLED_BACK' })
  })
})
