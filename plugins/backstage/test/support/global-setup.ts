import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { adminGraphql, type SentraFixture } from './fixture'
import { freePort } from './ports'
import { SENTRA_ROOT, startSentraProcess, type SentraProcess } from './sentra-process'

const APPLICATION = 'checkout'

/**
 * One real Sentra for every test file: `server/main.ts` and `controller/main.ts` of the root
 * checkout on a fresh SQLite file (the controller finds new rollouts by scanning the store,
 * so no Redis is needed), and the demo service (services/demo.mjs) as a process target.
 * The application's strategy ends in a pause, so its last rollout stays PAUSED at 20 %: a
 * current rollout that holds still while the card is checked.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'sentra-backstage-'))
  const token = randomBytes(16).toString('hex')
  const env = { SENTRA_DATABASE_URL: join(dir, 'sentra.db'), SENTRA_PORT: '0', SENTRA_HOST: '127.0.0.1', SENTRA_ADMIN_TOKEN: token, SENTRA_DEMO: '0' }
  const processes: SentraProcess[] = []
  const teardown = async () => {
    for (const p of processes.reverse()) await p.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const server = startSentraProcess('server/main.ts', env)
    processes.push(server)
    // SENTRA_PORT=0: the server prints the port the OS gave it.
    const line = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\/graphql/)
    const url = /(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(line)?.[1]
    if (!url) throw new Error(`no URL in "${line}"`)
    // After the server: it has migrated the database, so the two do not race to do it.
    const controller = startSentraProcess('controller/main.ts', env)
    processes.push(controller)
    await controller.waitFor(/sentra controller .* running/)

    const fixture = { url, token }
    await adminGraphql(fixture, 'mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }', { spec: pausingSpec(APPLICATION, await freePort()) })
    const v1 = await startAndWait(fixture, 'v1', 'SUCCEEDED')
    const v2 = await startAndWait(fixture, 'v2', 'PAUSED')
    await adminGraphql(fixture, 'mutation($id: ID!) { abortRollout(id: $id, reason: "not today") { id } }', { id: v2 })
    await waitForStatus(fixture, v2, 'ABORTED')
    const v3 = await startAndWait(fixture, 'v3', 'PAUSED')
    project.provide('sentra', { url, token, application: APPLICATION, rollouts: { v1, v2, v3 } } satisfies SentraFixture)
    return teardown
  } catch (error) {
    const logs = processes.map((p) => p.output().slice(-2000)).join('\n---\n')
    await teardown()
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nSentra output:\n${logs}`)
  }
}

/** The demo service behind Sentra's proxy; 20 % then wait for a person. */
function pausingSpec(name: string, port: number): Record<string, unknown> {
  return {
    name,
    target: { kind: 'process', listen: `127.0.0.1:${port}`, command: [process.execPath, join(SENTRA_ROOT, 'services/demo.mjs')], env: { APP_VERSION: '{{version}}', PORT: '{{port}}' }, healthPath: '/healthz' },
    strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } },
    gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.5 } }],
    interval: '1s',
  }
}

async function startAndWait(fixture: Pick<SentraFixture, 'url' | 'token'>, version: string, status: string): Promise<string> {
  const { startRollout } = await adminGraphql<{ startRollout: { id: string } }>(fixture, `mutation($v: String!) { startRollout(application: "${APPLICATION}", version: $v) { id } }`, { v: version })
  await waitForStatus(fixture, startRollout.id, status)
  return startRollout.id
}

/** Polls the rollout's status (generously: a slow CI machine is not a failure). */
async function waitForStatus(fixture: Pick<SentraFixture, 'url' | 'token'>, id: string, status: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    const { rollout } = await adminGraphql<{ rollout: { status: string } | null }>(fixture, 'query($id: ID!) { rollout(id: $id) { status } }', { id })
    last = rollout?.status ?? 'missing'
    if (last === status) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`rollout ${id} did not reach ${status} within ${timeoutMs} ms (last: ${last})`)
}
