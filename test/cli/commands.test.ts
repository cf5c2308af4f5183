import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'
import { runCli, runMain, startCli, tempHome } from './run-cli.ts'

/** Every command except watch against a real API server (SQLite), with no controller: rollouts stay PENDING. */
describe('sentra CLI against a real API server', () => {
  let api: TestApi
  let dir: string
  let home: { home: string; dispose(): Promise<void> }
  let rolloutId = ''
  const env = (token: string = api.tokens.admin) => ({ HOME: home.home, SENTRA_URL: api.url, SENTRA_TOKEN: token })
  const file = async (name: string, content: string | Buffer) => {
    const path = join(dir, name)
    await writeFile(path, content)
    return path
  }

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    dir = await mkdtemp(join(tmpdir(), 'sentra-cli-specs-'))
    home = await tempHome()
  })
  afterAll(async () => {
    await api?.close()
    await rm(dir, { recursive: true, force: true })
    await home?.dispose()
  })

  describe('login', () => {
    it('checks the token, saves url and token readable by the owner only, and uses them afterwards', async () => {
      const fresh = await tempHome()
      try {
        const result = await runCli(['login', `${api.url}/graphql/`, '--token', api.tokens.admin], { env: { HOME: fresh.home } })
        const path = join(fresh.home, '.config', 'sentra', 'config.json')
        expect(result).toMatchObject({ code: 0, stderr: '', stdout: `logged in to ${api.url} as test admin (admin); saved to ${path}\n` })
        expect((await stat(path)).mode & 0o777).toBe(0o600)
        expect((await stat(join(fresh.home, '.config', 'sentra'))).mode & 0o777).toBe(0o700)
        expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ url: api.url, token: api.tokens.admin })

        const [saved, overridden] = await Promise.all([
          runCli(['apps', '-o', 'json'], { env: { HOME: fresh.home } }),
          runCli(['apps'], { env: { HOME: fresh.home, SENTRA_TOKEN: 'sentra_overridden_by_env' } }),
        ])
        expect(saved.code).toBe(0)
        expect(JSON.parse(saved.stdout)).toEqual([])
        expect(overridden).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sentra: UNAUTHENTICATED: /) })
      } finally {
        await fresh.dispose()
      }
    })

    it('saves nothing for a refused token or an unreachable server; reads the token from stdin with --token -', async () => {
      const fresh = await tempHome()
      try {
        const closed = `http://127.0.0.1:${await freePort()}`
        const [refused, unreachable, piped] = await Promise.all([
          runCli(['login', api.url, '--token', 'sentra_not_a_real_token_at_all'], { env: { HOME: fresh.home } }),
          runCli(['login', closed, '--token', api.tokens.read], { env: { HOME: fresh.home } }),
          runCli(['login', api.url, '--token', '-', '-o', 'json'], { env: { HOME: home.home, SENTRA_URL: 'http://127.0.0.1:1' }, input: `${api.tokens.read}\n` }),
        ])
        expect(refused).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^sentra: UNAUTHENTICATED: /) })
        expect(unreachable).toMatchObject({ code: 3, stderr: `sentra: cannot reach ${closed}/graphql: connect ECONNREFUSED ${closed.slice(7)}\n` })
        await expect(stat(join(fresh.home, '.config', 'sentra', 'config.json'))).rejects.toThrow(/ENOENT/)
        expect(piped.code).toBe(0)
        expect(JSON.parse(piped.stdout)).toEqual({ url: api.url, name: 'test reader', scope: 'READ', config: join(home.home, '.config', 'sentra', 'config.json') })
        expect(piped.stderr).toMatch(/^note: SENTRA_URL is set and overrides the saved URL/)
      } finally {
        await fresh.dispose()
      }
    })
  })

  describe('apply', () => {
    it('applies a valid YAML spec, then updates it', async () => {
      const path = await file('shop.yaml', stringify(quickSpec('shop', 18099)))
      const created = await runCli(['apply', '-f', path], { env: env() })
      expect(created).toMatchObject({ code: 0, stderr: '' })
      expect(created.stdout).toBe('application shop created (stable version none yet)\n')
      const updated = await runMain(['apply', '--file', path, '--output', 'json'], { env: env() })
      expect(updated.code).toBe(0)
      expect(JSON.parse(updated.stdout)).toMatchObject({ name: 'shop', stableVersion: null })
      expect((await api.store.applications.byName('shop'))?.spec).toMatchObject({ name: 'shop', interval: '1s' })
    })

    it('applies JSON from stdin', async () => {
      const result = await runCli(['apply', '-f', '-'], { env: env(), input: JSON.stringify(quickSpec('cart', 18098)) })
      expect(result).toMatchObject({ code: 0, stdout: 'application cart created (stable version none yet)\n' })
    })

    it('validates locally and prints every bad field as path: message, sending nothing', async () => {
      const spec = quickSpec('broken', 18097)
      const bad = { ...spec, strategy: { canary: { steps: [{ setWeight: 150 }] } }, interval: 'soon' }
      const path = await file('broken.yaml', stringify(bad))
      const result = await runCli(['apply', '-f', path], { env: env() })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(`sentra: ${path}: invalid application spec (2 problems); nothing was sent`)
      expect(result.stderr).toMatch(/^ {2}strategy\.canary\.steps\[0\]\.setWeight: .+$/m)
      expect(result.stderr).toMatch(/^ {2}interval: .+$/m)
      expect(await api.store.applications.byName('broken')).toBeNull()
    })

    it("prints the API's field errors from extensions.issues", async () => {
      const bad = { ...quickSpec('remote', 18095), strategy: { canary: { steps: [{ setWeight: 150 }] } } }
      const path = await file('remote.yaml', stringify(bad))
      const result = await runCli(['apply', '-f', path, '--skip-local-validation'], { env: env() })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^sentra: BAD_USER_INPUT: invalid spec \(1 problem\)\n {2}strategy\.canary\.steps\[0\]\.setWeight: .+\n$/)
      expect(await api.store.applications.byName('remote')).toBeNull()
    })

    it('needs an admin token: FORBIDDEN from the API, exit 1', async () => {
      const path = await file('shop2.yaml', stringify(quickSpec('shop', 18099)))
      const result = await runCli(['apply', '-f', path], { env: env(api.tokens.read) })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^sentra: FORBIDDEN: /)
    })
  })

  describe('apps', () => {
    it('lists applications as an aligned table, and as JSON', async () => {
      const table = await runCli(['apps'], { env: env(api.tokens.read) })
      expect(table.code).toBe(0)
      const lines = table.stdout.trimEnd().split('\n')
      expect(lines[0]).toMatch(/^NAME +TARGET +STABLE +LATEST ROLLOUT +STATUS +WEIGHT +UPDATED$/)
      expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 3))).toEqual(
        expect.arrayContaining([
          ['shop', 'process', '-'],
          ['cart', 'process', '-'],
        ]),
      )
      // Aligned: every row's second column starts where the header's does.
      const column = lines[0]!.indexOf('TARGET')
      for (const line of lines.slice(1)) expect(line.slice(column)).toMatch(/^process/)
      const json = await runCli(['apps', '-o', 'json'], { env: env(api.tokens.read) })
      const apps = JSON.parse(json.stdout) as { name: string; latestRollout: unknown; spec: { target: { kind: string } } }[]
      expect(apps.map((a) => a.name).sort()).toEqual(['cart', 'shop'])
      expect(apps[0]).toMatchObject({ latestRollout: null, spec: { target: { kind: 'process' } } })
    })
  })

  describe('start, rollouts and get', () => {
    it('starts a rollout and prints its id; a second one is a CONFLICT', async () => {
      const result = await runCli(['start', 'shop', 'v1'], { env: env(api.tokens.operate) })
      expect(result.code).toBe(0)
      const match = /^started rollout (\S+) \(shop \(none\) → v1, PENDING at 0%\)\n$/.exec(result.stdout)
      expect(match).not.toBeNull()
      rolloutId = match![1]!
      const again = await runCli(['start', 'shop', 'v2', '-o', 'json'], { env: env(api.tokens.operate) })
      expect(again.code).toBe(1)
      expect(again.stderr).toMatch(/^sentra: CONFLICT: .+\n$/)
      expect(again.stdout).toBe('')
      const json = await runCli(['start', 'cart', 'v1', '-o', 'json'], { env: env(api.tokens.operate) })
      expect(JSON.parse(json.stdout)).toMatchObject({ applicationName: 'cart', toVersion: 'v1', status: 'PENDING' })
    })

    it('refuses a bad version and an unknown application with the API code', async () => {
      const [version, app] = await Promise.all([
        runCli(['start', 'shop', 'not a version!'], { env: env(api.tokens.operate) }),
        runCli(['start', 'nosuch', 'v1'], { env: env(api.tokens.operate) }),
      ])
      expect(version).toMatchObject({ code: 1 })
      expect(version.stderr).toMatch(/^sentra: BAD_USER_INPUT: version: /)
      expect(app.code).toBe(1)
      expect(app.stderr).toMatch(/^sentra: NOT_FOUND: /)
    })

    it('lists rollouts, filtered by --app and --status, as a table and as JSON', async () => {
      const read = env(api.tokens.read)
      const [all, filtered, none, noneJson, limited] = await Promise.all([
        runCli(['rollouts'], { env: read }),
        runCli(['rollouts', '--app', 'shop', '--status', 'pending,progressing', '-o', 'json'], { env: read }),
        runCli(['rollouts', '--status', 'SUCCEEDED'], { env: read }),
        runMain(['rollouts', '--app', 'nosuch', '-o', 'json'], { env: read }),
        runMain(['rollouts', '--limit', '1', '-o', 'json'], { env: read }),
      ])
      expect(all.code).toBe(0)
      const [header, ...rows] = all.stdout.trimEnd().split('\n')
      expect(header).toMatch(/^ID +APP +VERSION +STATUS +WEIGHT +STEP +AGE +LAST DECISION$/)
      expect(rows).toHaveLength(2)
      expect(rows.find((r) => r.startsWith(rolloutId))).toMatch(new RegExp(`^${rolloutId} +shop +\\(none\\) → v1 +PENDING +0% +0/4 +\\d+s +-$`))

      expect(JSON.parse(filtered.stdout)).toEqual([expect.objectContaining({ id: rolloutId, applicationName: 'shop', status: 'PENDING', stepCount: 4 })])
      expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'no rollouts match\n' })
      expect(JSON.parse(noneJson.stdout)).toEqual([])
      expect(JSON.parse(limited.stdout)).toHaveLength(1)
    })

    it('shows one rollout: steps, gates, decisions; JSON for scripts', async () => {
      const [result, json] = await Promise.all([
        runCli(['get', rolloutId], { env: env(api.tokens.read) }),
        runCli(['get', rolloutId, '--output=json'], { env: env(api.tokens.read) }),
      ])
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(new RegExp(`^Rollout +${rolloutId}$`, 'm'))
      expect(result.stdout).toMatch(/^Status +PENDING$/m)
      expect(result.stdout).toMatch(/^Step +not started$/m)
      expect(result.stdout).toMatch(/^1 +set weight 20% +PENDING/m)
      expect(result.stdout).toMatch(/^2 +analyze 3s\.\.60s +PENDING/m)
      expect(result.stdout).toMatch(/^errors +errorRate +relative \+0\.03 +- +- +-$/m)
      expect(result.stdout).toMatch(/^latency +latencyP95 +relative x2 +-/m)
      expect(result.stdout).toMatch(/Decisions\n {2}\(none yet\)\n$/)
      const rollout = JSON.parse(json.stdout) as { id: string; steps: unknown[]; gates: { name: string }[] }
      expect(rollout.id).toBe(rolloutId)
      expect(rollout.steps).toHaveLength(4)
      expect(rollout.gates.map((g) => g.name)).toEqual(['errors', 'latency'])
    })

    it('says NOT_FOUND for an unknown rollout and BAD_USER_INPUT for a malformed id', async () => {
      const unknown = Buffer.from(`Rollout:${randomUUID()}`).toString('base64')
      const [missing, garbage] = await Promise.all([runCli(['get', unknown], { env: env(api.tokens.read) }), runCli(['get', 'garbage'], { env: env(api.tokens.read) })])
      expect(missing).toMatchObject({ code: 1, stdout: '', stderr: `sentra: NOT_FOUND: no rollout with id ${unknown}\n` })
      expect(garbage).toMatchObject({ code: 1, stderr: 'sentra: BAD_USER_INPUT: id: not a valid Rollout id\n' })
    })
  })

  describe('watch, on a rollout no controller moves', () => {
    it('stops on Ctrl-C with exit 130, leaving the rollout alone', async () => {
      const watch = startCli(['watch', rolloutId], { env: env(api.tokens.read) })
      await watch.waitFor(/^PENDING +\[\.{20}\] +0% {2}not started {2}\| no verdicts yet$/m)
      watch.kill('SIGINT')
      const result = await watch.done
      expect(result).toMatchObject({ code: 130, stderr: 'interrupted; the rollout goes on without you watching\n' })
    })

    it('gives up at once, exit 1, when the server refuses the token on reconnecting (revoked meanwhile)', async () => {
      const sockets = new Set<Duplex>()
      const track = (_request: unknown, socket: Duplex) => void sockets.add(socket)
      api.server.http.on('upgrade', track)
      try {
        const watcher = await api.store.tokens.create('watcher', 'read')
        const watch = startCli(['watch', rolloutId], { env: env(watcher.token) })
        await watch.waitFor(/not started/)
        await waitFor(async () => sockets.size, (n) => n > 0, { timeoutMs: 10_000, what: 'the WebSocket' })
        await api.store.tokens.revoke(watcher.apiToken.id)
        for (const socket of sockets) socket.destroy()
        const result = await watch.done
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/lost \(code 1006\); reconnecting…\nsentra: UNAUTHENTICATED: the server refused the token for live updates \(WebSocket 4403\)\n$/)
      } finally {
        api.server.http.off('upgrade', track)
      }
    })
  })

  describe('promote, pause, resume, rollback, abort', () => {
    it('records each command with its reason and actor; an illegal one is a CONFLICT', async () => {
      const operate = env(api.tokens.operate)
      const resume = await runCli(['resume', rolloutId], { env: operate })
      expect(resume).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^sentra: CONFLICT: cannot resume a rollout that is PENDING/) })

      const pause = await runCli(['pause', rolloutId, '--reason', 'looking at a graph'], { env: operate })
      expect(pause.code).toBe(0)
      expect(pause.stdout).toBe(`pause requested for rollout ${rolloutId} (shop (none) → v1, PENDING at 0%); the controller applies it on its next tick\n`)
      const promote = await runCli(['promote', rolloutId, '--full'], { env: operate })
      expect(promote.stdout).toMatch(/^promote \(full\) requested for rollout /)
      const rollback = await runCli(['rollback', rolloutId, '--reason=not today', '-o', 'json'], { env: operate })
      expect(JSON.parse(rollback.stdout)).toMatchObject({ id: rolloutId, status: 'PENDING' })
      const abort = await runCli(['abort', '--reason', 'enough', rolloutId], { env: operate })
      expect(abort.code).toBe(0)
      const plain = await runMain(['promote', rolloutId], { env: operate })
      expect(plain.stdout).toMatch(/^promote requested for rollout /)

      const recorded = await api.gql<{ rollout: { commands: { kind: string; reason: string | null; full: boolean; actor: string }[] } }>(
        `query($id: ID!) { rollout(id: $id) { commands { kind reason full actor } } }`,
        { id: rolloutId },
      )
      expect(recorded.data!.rollout.commands).toEqual([
        { kind: 'PAUSE', reason: 'looking at a graph', full: false, actor: 'test operator' },
        { kind: 'PROMOTE', reason: null, full: true, actor: 'test operator' },
        { kind: 'ROLLBACK', reason: 'not today', full: false, actor: 'test operator' },
        { kind: 'ABORT', reason: 'enough', full: false, actor: 'test operator' },
        { kind: 'PROMOTE', reason: null, full: false, actor: 'test operator' },
      ])
    })

    it('needs an operate token, and a valid one', async () => {
      const [read, bad] = await Promise.all([
        runCli(['pause', rolloutId], { env: env(api.tokens.read) }),
        runCli(['pause', rolloutId], { env: env('sentra_not_a_real_token_at_all') }),
      ])
      expect(read.code).toBe(1)
      expect(read.stderr).toMatch(/^sentra: FORBIDDEN: /)
      expect(bad).toMatchObject({ code: 1, stderr: 'sentra: UNAUTHENTICATED: a valid API token is required (Authorization: Bearer <token>)\n' })
    })
  })
})
