import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { ProxyRegistry } from '../proxy/index.ts'
import { ProcessTarget } from './process.ts'
import { REPO_ROOT, alive, demoApp, eventually, proxyUrl, rollout, versionsServed, withCommand } from './process-test-support.ts'

const opened: ProcessTarget[] = []
const logs: string[] = []

function target(options: { healthTimeoutMs?: number } = {}): ProcessTarget {
  const made = new ProcessTarget({ proxies: new ProxyRegistry(), cwd: REPO_ROOT, log: (line) => logs.push(line), ...options })
  opened.push(made)
  return made
}

function pidOf(t: ProcessTarget, version: string): number | undefined {
  return t.running().find((p) => p.version === version)?.pid
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()))
  logs.length = 0
})

describe('ProcessTarget', () => {
  it('serves the stable version through the proxy; ensureStable twice changes nothing', async () => {
    const t = target()
    const app = await demoApp()
    await t.ensureStable(app, 'v1')
    const pid = pidOf(t, 'v1')
    expect(alive(pid)).toBe(true)
    await t.ensureStable(app, 'v1')
    expect(pidOf(t, 'v1')).toBe(pid)
    expect(t.running()).toHaveLength(1)
    expect(await versionsServed(proxyUrl(app), 10)).toEqual(new Map([['v1:200', 10]]))
    expect(logs.some((line) => line.includes('[demo/v1] demo v1 listening'))).toBe(true)
  })

  it('splits traffic by weight, and weight 0 sends everything back to stable', async () => {
    const t = target()
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    await t.ensureStable(app, 'v1')
    await t.prepare(r)
    await t.prepare(r)
    expect(await t.observedWeight(r)).toBe(0)
    expect(await versionsServed(proxyUrl(app), 10)).toEqual(new Map([['v1:200', 10]]))

    await t.setWeight(r, 50)
    await t.setWeight(r, 50)
    expect(await t.observedWeight(r)).toBe(50)
    // A repeated prepare keeps the weight, and ensureStable keeps the rollout's canary route.
    await t.prepare(r)
    await t.ensureStable(app, 'v1')
    expect(await t.observedWeight(r)).toBe(50)
    const split = await versionsServed(proxyUrl(app), 48)
    expect(split.get('v1:200')).toBeGreaterThan(0)
    expect(split.get('v2:200')).toBeGreaterThan(0)

    await t.setWeight(r, 0)
    expect(await t.observedWeight(r)).toBe(0)
    expect(await versionsServed(proxyUrl(app), 10)).toEqual(new Map([['v1:200', 10]]))
    expect(await t.canaryFailure(r)).toBeNull()
  })

  it('observedWeight is null without a proxy and 0 without a canary route', async () => {
    const t = target()
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    expect(await t.observedWeight(r)).toBeNull()
    await t.ensureStable(app, 'v1')
    expect(await t.observedWeight(r)).toBe(0)
    await expect(t.setWeight(r, 10)).rejects.toThrow(/no canary route/)
    await expect(t.setWeight(r, 101)).rejects.toThrow(/0\.\.100/)
  })

  it('rejects prepare with the exit code and stderr of a canary that cannot start', async () => {
    const t = target()
    const app = await demoApp()
    await t.ensureStable(app, 'v1')
    const broken = withCommand(app, [process.execPath, '-e', 'console.error("cannot read config for {{version}}"); process.exit(3)'])
    const r = rollout(broken, 'v1', 'v2')
    const failure = t.prepare(r)
    await expect(failure).rejects.toThrow(/demo\/v2 exited with code 3 while starting/)
    await expect(failure).rejects.toThrow(/cannot read config for v2/)
    // Nothing left behind: no canary process, no canary route, stable still serving.
    expect(t.running().map((p) => p.version)).toEqual(['v1'])
    expect(await t.observedWeight(r)).toBe(0)
    expect(await versionsServed(proxyUrl(app), 4)).toEqual(new Map([['v1:200', 4]]))
  })

  it('gives a child only PATH, HOME, NODE_* and the spec env, with templates filled', async () => {
    const t = target()
    const app = await demoApp({ env: { GREETING: 'hello {{version}} on {{port}}' } })
    process.env.SENTRA_TEST_SECRET = 'must not leak'
    try {
      const dump = withCommand(app, [process.execPath, '-e', 'console.error(JSON.stringify(process.env)); process.exit(4)'])
      const failure = await t.prepare(rollout(dump, null, 'v9')).then(() => null, (error: Error) => error.message)
      const env = JSON.parse(failure?.split('\n').at(-1) ?? '{}') as Record<string, string>
      expect(env.APP_VERSION).toBe('v9')
      expect(env.GREETING).toMatch(/^hello v9 on \d+$/)
      expect(env.GREETING?.endsWith(` on ${env.PORT}`)).toBe(true)
      expect(env.SENTRA_PARENT_PID).toBe(String(process.pid))
      expect(env.PATH).toBe(process.env.PATH)
      expect(Object.keys(env).filter((name) => !/^(PATH|HOME|NODE_.*|SENTRA_PARENT_PID|APP_VERSION|PORT|GREETING|DEMO_.*)$/.test(name))).toEqual([])
    } finally {
      delete process.env.SENTRA_TEST_SECRET
    }
  })

  it('takes ports from portRange, never the same one twice', async () => {
    const low = 20_000 + Math.floor(Math.random() * 20_000)
    const made = new ProcessTarget({ proxies: new ProxyRegistry(), cwd: REPO_ROOT, portRange: [low, low + 20] })
    opened.push(made)
    const [a, b] = await Promise.all([demoApp({ name: 'alpha' }), demoApp({ name: 'beta' })])
    await Promise.all([made.ensureStable(a, 'v1'), made.ensureStable(b, 'v1'), made.prepare(rollout(a, 'v1', 'v2'))])
    const ports = made.running().map((p) => p.port)
    expect(new Set(ports).size).toBe(3)
    expect(ports.every((port) => port >= low && port <= low + 20)).toBe(true)
    expect(() => new ProcessTarget({ proxies: new ProxyRegistry(), portRange: [10, 5] })).toThrow(/portRange/)
  })

  it('rejects prepare of a canary that never becomes healthy, and stops it', async () => {
    // Long enough for the child to start listening on a slow machine, so the last answer is its 503.
    const t = target({ healthTimeoutMs: 10_000 })
    const app = await demoApp({ env: { DEMO_UNHEALTHY: '1' } })
    await expect(t.prepare(rollout(app, null, 'v1'))).rejects.toThrow(/demo\/v1 did not become healthy .* within 10000 ms \(last: HTTP 503\)/)
    expect(t.running()).toEqual([])
  })

  it('reports a canary killed during the rollout, and does not restart it', async () => {
    const t = target()
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    await t.ensureStable(app, 'v1')
    await t.prepare(r)
    await t.setWeight(r, 50)
    const pid = pidOf(t, 'v2')
    expect(await t.canaryFailure(r)).toBeNull()
    process.kill(pid ?? 0, 'SIGKILL')
    expect(await eventually(async () => (await t.canaryFailure(r)) !== null)).toBe(true)
    expect(await t.canaryFailure(r)).toMatch(/^canary process v2 was killed by signal SIGKILL/)
    await expect(t.prepare(r)).rejects.toThrow(/canary process v2 was killed by signal SIGKILL/)
    expect(alive(pidOf(t, 'v2'))).toBe(false)

    await t.rollback(r)
    expect(await t.canaryFailure(r)).toBeNull()
    expect(await versionsServed(proxyUrl(app), 8)).toEqual(new Map([['v1:200', 8]]))
  })

  it('promote serves only the canary and stops the old stable; twice is harmless', async () => {
    const t = target()
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    await t.ensureStable(app, 'v1')
    await t.prepare(r)
    await t.setWeight(r, 25)
    const stablePid = pidOf(t, 'v1')
    const canaryPid = pidOf(t, 'v2')
    await t.promote(r)
    expect(alive(stablePid)).toBe(false)
    await t.promote(r)
    expect(pidOf(t, 'v2')).toBe(canaryPid)
    expect(t.running().map((p) => p.version)).toEqual(['v2'])
    expect(await versionsServed(proxyUrl(app), 10)).toEqual(new Map([['v2:200', 10]]))
    expect(await t.observedWeight(r)).toBe(100)
    expect(await t.canaryFailure(r)).toBeNull()
    // The controller then calls ensureStable with the promoted version: nothing to do.
    await t.ensureStable(app, 'v2')
    expect(pidOf(t, 'v2')).toBe(canaryPid)
  })

  it('blue/green keeps the old stable running for its scale-down delay after the switch', async () => {
    const t = target()
    const canaryApp = await demoApp({ name: 'bluegreen' })
    const app = { ...canaryApp, strategy: { blueGreen: { scaleDownDelay: '1500ms', scaleDownDelayMs: 1500, autoPromote: true } } }
    const r = rollout(app, 'v1', 'v2')
    await t.ensureStable(app, 'v1')
    await t.prepare(r)
    const stablePid = pidOf(t, 'v1')
    await t.promote(r)
    expect(await versionsServed(proxyUrl(app), 5)).toEqual(new Map([['v2:200', 5]]))
    expect(alive(stablePid)).toBe(true)
    expect(await eventually(() => !alive(stablePid), 10_000)).toBe(true)
    expect(t.running().map((p) => p.version)).toEqual(['v2'])
  })

  it('rollback sends all traffic to stable and stops the canary; twice is harmless', async () => {
    const t = target()
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    await t.ensureStable(app, 'v1')
    await t.prepare(r)
    await t.setWeight(r, 50)
    const stablePid = pidOf(t, 'v1')
    const canaryPid = pidOf(t, 'v2')
    await t.rollback(r)
    expect(alive(canaryPid)).toBe(false)
    await t.rollback(r)
    expect(await t.observedWeight(r)).toBe(0)
    expect(await t.canaryFailure(r)).toBeNull()
    expect(t.running().map((p) => p.pid)).toEqual([stablePid])
    expect(await versionsServed(proxyUrl(app), 10)).toEqual(new Map([['v1:200', 10]]))
    await t.setWeight(r, 0)
  })

  it('rollback with no proxy of its own (a new holder) brings the stable up and routes all traffic to it', async () => {
    const t = target()
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    await t.rollback(r)
    expect(await t.observedWeight(r)).toBe(0)
    expect(t.running().map((p) => p.version)).toEqual(['v1'])
    expect(await versionsServed(proxyUrl(app), 6)).toEqual(new Map([['v1:200', 6]]))
  })

  it('rollback refuses (ProxyListenError) while another process serves the address, and leaves that one routing as it was', async () => {
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    const serving = target()
    await serving.ensureStable(app, 'v1')
    await serving.prepare(r)
    await serving.setWeight(r, 100)
    const newHolder = target()
    // The other controller still routes the canary: this holder must not report the rollback done.
    await expect(newHolder.rollback(r)).rejects.toThrow(/cannot listen on .*address already in use/)
    expect(newHolder.running()).toEqual([])
    expect(await versionsServed(proxyUrl(app), 4)).toEqual(new Map([['v2:200', 4]]))
  })

  it('relinquish takes the canary off the proxy at once and keeps stable serving; harmless without a canary route', async () => {
    const t = target()
    const app = await demoApp()
    const r = rollout(app, 'v1', 'v2')
    await t.relinquish(r)
    await t.ensureStable(app, 'v1')
    await t.prepare(r)
    await t.setWeight(r, 100)
    expect(await versionsServed(proxyUrl(app), 4)).toEqual(new Map([['v2:200', 4]]))
    const relinquished = t.relinquish(r)
    // Already off before the queued second pass runs.
    expect(await t.observedWeight(r)).toBe(0)
    await relinquished
    expect(await versionsServed(proxyUrl(app), 6)).toEqual(new Map([['v1:200', 6]]))
    // The new holder (or this one, taking the rollout again) sets the stored weight back.
    await t.setWeight(r, 50)
    expect(await t.observedWeight(r)).toBe(50)
  })

  it('ensureStable with another version replaces the stable process', async () => {
    const t = target()
    const app = await demoApp()
    await t.ensureStable(app, 'v1')
    const old = pidOf(t, 'v1')
    await t.ensureStable(app, 'v3')
    expect(alive(old)).toBe(false)
    expect(t.running().map((p) => p.version)).toEqual(['v3'])
    expect(await versionsServed(proxyUrl(app), 6)).toEqual(new Map([['v3:200', 6]]))
  })

  it('close() stops every child and the proxy; close twice is harmless', async () => {
    const t = target()
    const app = await demoApp()
    const other = await demoApp({ name: 'other' })
    await t.ensureStable(app, 'v1')
    await t.prepare(rollout(app, 'v1', 'v2'))
    await t.ensureStable(other, 'v1')
    const pids = t.running().map((p) => p.pid)
    expect(pids).toHaveLength(3)
    expect(pids.every(alive)).toBe(true)
    await t.close()
    await t.close()
    expect(pids.filter(alive)).toEqual([])
    await expect(fetch(proxyUrl(app))).rejects.toThrow()
    await expect(t.ensureStable(app, 'v1')).rejects.toThrow(/closed/)
  })

  it('children die with a Sentra process that is killed with SIGKILL', async () => {
    // A separate Node process (with tsx, as Sentra runs) starts a stable through a
    // ProcessTarget, prints the child's pid, and is then killed without any chance to clean up.
    const app = await demoApp()
    const script = `
      const { ProcessTarget } = await import('./controller/targets/process.ts')
      const { ProxyRegistry } = await import('./controller/proxy/index.ts')
      const t = new ProcessTarget({ proxies: new ProxyRegistry() })
      await t.ensureStable(${JSON.stringify(app)}, 'v1')
      console.log('PID ' + t.running()[0].pid)
      setInterval(() => {}, 1000)
    `
    const sentra = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    const pid = await new Promise<number>((resolve, reject) => {
      let out = ''
      sentra.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const match = /PID (\d+)/.exec(out)
        if (match) resolve(Number(match[1]))
      })
      sentra.once('exit', (code) => reject(new Error(`sentra exited early with ${code}: ${out}`)))
    })
    expect(alive(pid)).toBe(true)
    sentra.kill('SIGKILL')
    expect(await eventually(() => !alive(pid))).toBe(true)
  })
})
