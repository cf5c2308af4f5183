import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startLoad } from '../../controller/demo/load.ts'
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '../support/databases.ts'
import { startSentra, type SentraProcess } from '../support/processes.ts'
import { freePort, quickSpec, versionsServed, waitFor } from '../support/rollouts.ts'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 90_000 })

interface RolloutView {
  status: string
  seq: number
  currentStepIndex: number
  decisions: { seq: number; action: string; stepIndex: number; toWeight: number }[]
}

/**
 * The production shape: `npm run server` and `npm run controller` as separate processes
 * sharing MariaDB and Redis. Includes kill -9 of the controller in the middle of a rollout.
 */
describe('server and controller as separate processes on MySQL + Redis', () => {
  let database: TestDatabase
  let server: SentraProcess
  let controllers: SentraProcess[] = []
  let env: Record<string, string>
  let apiUrl: string
  let appPort: number
  let load: ReturnType<typeof startLoad> | null = null
  const token = `test-admin-${randomBytes(12).toString('hex')}`

  async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    })
    const body = (await response.json()) as { data?: T; errors?: unknown[] }
    if (body.errors) throw new Error(JSON.stringify(body.errors))
    return body.data as T
  }
  const start = async (version: string) =>
    (await gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "shop", version: $v) { id } }`, { v: version })).startRollout.id
  const view = async (id: string) =>
    (await gql<{ rollout: RolloutView }>(`query($id: ID!) { rollout(id: $id) { status seq currentStepIndex decisions { seq action stepIndex toWeight } } }`, { id })).rollout
  const until = (id: string, statuses: string[], timeoutMs = 90_000) =>
    waitFor(() => view(id), (r) => statuses.includes(r.status), { timeoutMs, what: statuses.join('/') })
  const startController = async () => {
    const controller = startSentra('controller/main.ts', env)
    controllers.push(controller)
    await controller.waitFor(/sentra controller .* running/)
    return controller
  }

  beforeAll(async () => {
    database = await createTestDatabase('mysql')
    const apiPort = await freePort()
    appPort = await freePort()
    env = {
      SENTRA_DATABASE_URL: database.url,
      SENTRA_REDIS_URL: TEST_REDIS_URL,
      SENTRA_PORT: String(apiPort),
      SENTRA_ADMIN_TOKEN: token,
      SENTRA_LEASE_TTL_MS: '3000',
    }
    apiUrl = `http://127.0.0.1:${apiPort}`
    // Both start at once: they migrate the same fresh database concurrently.
    server = startSentra('server/main.ts', env)
    await Promise.all([server.waitFor(/listening on/), startController()])
    await gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec('shop', appPort) })
  })
  afterAll(async () => {
    load?.stop()
    for (const controller of controllers) await controller.stop()
    await server?.stop()
    await database?.drop()
  })

  it('deploys, rolls a bad version back and serves only stable afterwards', async () => {
    await until(await start('v1'), ['SUCCEEDED'])
    load = startLoad({ url: `http://127.0.0.1:${appPort}/`, rate: 40 })
    const bad = await until(await start('v2'), ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'])
    expect(bad.status).toBe('ROLLED_BACK')
    expect(bad.decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ROLLBACK', 'ROLLED_BACK'])
    expect(await versionsServed(appPort, 20)).toEqual({ v1: 20 })
  })

  it('survives kill -9 of the controller mid-rollout: continues from stored state, no decision repeated or lost', async () => {
    const id = await start('v3')
    await waitFor(() => view(id), (r) => r.decisions.some((d) => d.action === 'ADVANCE'), { timeoutMs: 60_000, what: 'the first ADVANCE' })
    await controllers.at(-1)!.kill9()
    const atKill = await view(id)
    expect(atKill.status).toBe('PROGRESSING')
    await startController()
    const done = await until(id, ['SUCCEEDED', 'ROLLED_BACK', 'PAUSED'])
    expect(done.status).toBe('SUCCEEDED')
    expect(done.decisions.map((d) => d.action)).toEqual(['START', 'SET_WEIGHT', 'ADVANCE', 'SET_WEIGHT', 'ADVANCE', 'PROMOTE'])
    const seqs = done.decisions.map((d) => d.seq)
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b))
    expect(await versionsServed(appPort, 20)).toEqual({ v3: 20 })
  })

  it('takes operator commands from the API process to the controller process at once', async () => {
    const id = await start('v5')
    await waitFor(() => view(id), (r) => r.status === 'PROGRESSING' && r.currentStepIndex >= 1, { what: 'analysis' })
    await gql(`mutation($id: ID!) { abortRollout(id: $id, reason: "stop") { id } }`, { id })
    const aborted = await until(id, ['ABORTED'], 5000)
    expect(aborted.decisions.at(-1)?.action).toBe('ABORT')
    expect(await versionsServed(appPort, 10)).toEqual({ v3: 10 })
  })
})
