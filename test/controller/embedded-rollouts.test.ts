import { createClient } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startLoad } from '../../controller/demo/load.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, versionsServed, waitFor } from '../support/rollouts.ts'

const ROLLOUT = `query($id: ID!) { rollout(id: $id) { id status canaryWeight desiredWeight currentStepIndex seq
  decisions { seq action actor reason toWeight evidence } windows { provider canary { signal value } } gates { name lastResult { verdict } } } }`

interface RolloutView {
  id: string
  status: string
  canaryWeight: number
  desiredWeight: number
  currentStepIndex: number
  seq: number
  decisions: { seq: number; action: string; actor: string; reason: string; toWeight: number; evidence: { gates: { gate: string; verdict: string }[] } }[]
  windows: { provider: string }[]
}

/** The controller, the API and the proxy in one process on SQLite, as `npm start` runs them. */
vi.setConfig({ testTimeout: 120_000 })

describe('rollouts end to end in one process (SQLite, in-process bus, real child processes)', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let port: number
  let load: ReturnType<typeof startLoad> | null = null

  async function start(version: string): Promise<string> {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "shop", version: $v) { id } }`, { v: version }, api.tokens.operate)
    expect(started.errors).toBeUndefined()
    return started.data!.startRollout.id
  }
  async function view(id: string): Promise<RolloutView> {
    return (await api.gql<{ rollout: RolloutView }>(ROLLOUT, { id })).data!.rollout
  }
  const until = (id: string, statuses: string[], timeoutMs = 60_000) =>
    waitFor(() => view(id), (r) => statuses.includes(r.status), { timeoutMs, what: `rollout ${statuses.join('/')}` })

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    port = await freePort()
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200 })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec('shop', port) })
    expect(applied.errors).toBeUndefined()
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await api?.close()
  })

  it('deploys the first version directly as stable, with one decision', async () => {
    const id = await start('v1')
    const done = await until(id, ['SUCCEEDED'])
    expect(done.decisions.map((d) => d.action)).toEqual(['INITIAL_DEPLOY'])
    expect((await api.store.applications.byName('shop'))?.stableVersion).toBe('v1')
    expect(await versionsServed(port, 5)).toEqual({ v1: 5 })
    load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: 40 })
  })

  it('rolls a bad version back on its evidence: no traffic reaches it afterwards', async () => {
    const id = await start('v2')
    const done = await until(id, ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'])
    expect(done.status).toBe('ROLLED_BACK')
    const actions = done.decisions.map((d) => d.action)
    expect(actions).toEqual(['START', 'SET_WEIGHT', 'ROLLBACK', 'ROLLED_BACK'])
    const rollback = done.decisions.find((d) => d.action === 'ROLLBACK')!
    expect(rollback.actor).toBe('controller')
    expect(rollback.evidence.gates.some((g) => g.verdict === 'FAIL')).toBe(true)
    expect(rollback.reason).toMatch(/failed/)
    expect(done.windows.length).toBeGreaterThan(0)
    // Observed at the proxy: no canary route, weight 0, every request on the stable version.
    expect(runtime.proxies.get('shop')?.routes()).toMatchObject({ canary: null, weight: 0 })
    expect(done.canaryWeight).toBe(0)
    expect(await versionsServed(port, 20)).toEqual({ v1: 20 })
    expect((await api.store.applications.byName('shop'))?.stableVersion).toBe('v1')
  })

  it('promotes a good version through every step, and every change reaches a subscriber in order', async () => {
    const seqs: number[] = []
    // Connected (the token checked, a salted hash on first use) before subscribing, so the
    // subscription is in place before the rollout's first event.
    let connected: () => void = () => undefined
    const isConnected = new Promise<void>((resolve) => (connected = resolve))
    const client = createClient({ url: api.wsUrl, webSocketImpl: WebSocket, connectionParams: { token: api.tokens.read }, retryAttempts: 0, lazy: false, on: { connected: () => connected() } })
    await isConnected
    const dispose = client.subscribe(
      { query: `subscription { rolloutEvents(application: "shop") { kind seq rollout { toVersion } } }` },
      { next: (value) => {
          const event = (value.data as { rolloutEvents: { seq: number; rollout: { toVersion: string } } }).rolloutEvents
          if (event.rollout.toVersion === 'v3') seqs.push(event.seq)
        }, error: () => undefined, complete: () => undefined },
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    const id = await start('v3')
    const done = await until(id, ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'])
    expect(done.status).toBe('SUCCEEDED')
    expect(done.decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ADVANCE', 'PROMOTE'])
    expect(done.decisions.map((d) => d.toWeight)).toEqual([0, 20, 20, 60, 60, 100])
    expect((await api.store.applications.byName('shop'))?.stableVersion).toBe('v3')
    expect(await versionsServed(port, 10)).toEqual({ v3: 10 })
    // The status can be read between the decision's write and the weight's write that
    // follows it: wait until the subscriber has the rollout's seq as it is now.
    const last = await waitFor(
      async () => ({ received: seqs.at(-1), stored: (await view(id)).seq }),
      ({ received, stored }) => received === stored,
      { timeoutMs: 10_000, what: 'the last event' },
    )
    dispose()
    await client.dispose()
    // Every sequence number from creation to the end, in order (commands may repeat one).
    const distinct = seqs.filter((seq, i) => i === 0 || seq !== seqs[i - 1])
    expect(distinct).toEqual(Array.from({ length: last.stored + 1 }, (_, i) => i))
  })

  it('applies operator commands within one tick, recorded with their actor', async () => {
    const id = await start('v5')
    await waitFor(() => view(id), (r) => r.status === 'PROGRESSING' && r.currentStepIndex >= 1, { what: 'analysis' })
    const paused = await api.gql(`mutation($id: ID!) { pauseRollout(id: $id, reason: "looking at a graph") { id } }`, { id }, api.tokens.operate)
    expect(paused.errors).toBeUndefined()
    const afterPause = await until(id, ['PAUSED'], 3000)
    const pause = afterPause.decisions.at(-1)!
    expect(pause).toMatchObject({ action: 'PAUSE', actor: 'test operator' })
    expect(pause.reason).toMatch(/looking at a graph/)
    await api.gql(`mutation($id: ID!) { resumeRollout(id: $id) { id } }`, { id }, api.tokens.operate)
    await until(id, ['PROGRESSING'], 3000)
    await api.gql(`mutation($id: ID!) { promoteRollout(id: $id, full: true) { id } }`, { id }, api.tokens.operate)
    const promoted = await until(id, ['SUCCEEDED'], 5000)
    expect(promoted.decisions.at(-1)).toMatchObject({ action: 'PROMOTE', actor: 'test operator', toWeight: 100 })
    const storedId = Buffer.from(id, 'base64').toString().split(':')[1]!
    const commands = await api.store.commands.for([storedId])
    expect(commands[0]?.map((c) => [c.kind, c.outcome])).toEqual([
      ['PAUSE', 'APPLIED'],
      ['RESUME', 'APPLIED'],
      ['PROMOTE', 'APPLIED'],
    ])
  })

  it('rolls back on an operator command', async () => {
    const id = await start('v7')
    await waitFor(() => view(id), (r) => r.status === 'PROGRESSING' && r.canaryWeight === 20, { what: 'canary at 20 %' })
    await api.gql(`mutation($id: ID!) { rollbackRollout(id: $id, reason: "not today") { id } }`, { id }, api.tokens.operate)
    const rolled = await until(id, ['ROLLED_BACK'], 5000)
    expect(rolled.decisions.find((d) => d.action === 'ROLLBACK')).toMatchObject({ actor: 'test operator' })
    expect(await versionsServed(port, 10)).toEqual({ v5: 10 })
  })
})
