import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { ACTIVE_STATUSES } from '../../schema/store/models.ts'
import { openTestStore } from '../support/databases.ts'
import { startSentra, type SentraProcess } from '../support/processes.ts'
import { versionsServed, waitFor } from '../support/rollouts.ts'
import type { Redis } from 'ioredis'
import { chainProblem, controllerEnv, decisionLogProblems, decisionLogs, isBadVersion, leaseHolders, listenPort, recordTraffic, redisClient, seededRandom, startController } from './support.ts'

/** Time between two kills: short, so that kills land at every stage of the rollouts. */
function pauseMs(random: () => number): number {
  return 400 + random() * 4600
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** What differs between the targets the kill test runs on. */
export interface KillTarget {
  /** "process" or "docker": in the test's name and the applications' names. */
  kind: string
  /** How many times a controller is SIGKILLed (the issue asks for at least 50). */
  kills: number
  /** Applications rolling out at once. */
  apps: number
  /** The kill moments and version order come from it; printed so a failure can be replayed. */
  seed: number
  /** Extra environment of every controller (e.g. SENTRA_DOCKER_HOST). */
  env?: Record<string, string>
  /** Checked before anything starts: throws when the target cannot run here. */
  prepare?: () => Promise<void>
  /** The application's spec, its proxy on `port`. */
  spec: (name: string, port: number) => object
  /** Runs before `version` of `application` is rolled out (e.g. makes its image). */
  beforeRollout?: (application: string, version: string) => Promise<void>
  /** The path the test's traffic asks for (one the versions answer with their error rate). */
  trafficPath?: string
  /** Removes what the target left behind (containers, images). */
  cleanup?: (applications: string[]) => Promise<void>
}

/**
 * Issue #9, item 2: kill -9 the controller at many random moments while many rollouts of
 * the process target run (good versions that should promote, bad ones that should roll
 * back); three controllers run, one is killed at a time while another runs, and a new one
 * starts after each kill. Afterwards every rollout is in the right terminal state and each
 * decision log is complete with no duplicate, and no request reached a canary after its
 * rollback finished.
 */
export function killControllerSuite(target: KillTarget): void {
  const { kills: KILLS, apps: APPS, seed: SEED } = target
  describe(`kill -9 of the controller (${target.kind} target) at ${KILLS} random moments (seed ${SEED})`, () => {
    let store: Store
    let bus: Bus
    let dispose: () => Promise<void>
    let redis: Redis
    let databaseUrl: string
    /** The controllers running now, oldest first; `holder` once it printed that it runs. */
    let running: { process: SentraProcess; holder: string | null }[] = []
    let traffic: ReturnType<typeof recordTraffic> | null = null
    const ports = new Map<string, number>()
    const rollouts: { id: string; application: string; version: string }[] = []
    const outputs: string[] = []

    beforeAll(async () => {
      await target.prepare?.()
      const opened = await openTestStore('mysql')
      store = createStore(opened.db)
      dispose = opened.dispose
      databaseUrl = opened.url
      redis = redisClient()
      bus = createBus(process.env.SENTRA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379')
      for (let i = 0; i < APPS; i++) {
        const name = `kill-${target.kind}-${i}`
        const port = await listenPort()
        ports.set(name, port)
        const app = await store.applications.upsert(name, target.spec(name, port))
        await store.applications.setStableVersion(app.id, 'v1')
      }
      traffic = recordTraffic(ports, { rate: 25, concurrency: 8, ...(target.trafficPath ? { path: target.trafficPath } : {}) })
    })
    afterAll(async () => {
      traffic?.stop()
      await Promise.all(running.map((c) => c.process.stop()))
      await bus?.close()
      redis?.disconnect()
      await target.cleanup?.([...ports.keys()])
      await dispose?.()
    })

    /** Starts the next version of every application whose last rollout is over. */
    async function startNextRollouts(random: () => number): Promise<void> {
      for (const name of ports.keys()) {
        const mine = rollouts.filter((r) => r.application === name)
        const last = mine.at(-1)
        if (last) {
          const rollout = await store.rollouts.byId(last.id)
          if (rollout === null || ACTIVE_STATUSES.includes(rollout.status)) continue
        }
        // The parity of the number picks the outcome (even = bad); the seeded step mixes the order.
        const version = `v${Number(last?.version.slice(1) ?? 1) + (random() < 0.3 ? 2 : 1)}`
        await target.beforeRollout?.(name, version)
        const app = (await store.applications.byName(name))!
        rollouts.push({ id: (await beginRollout(store, bus, app, version)).id, application: name, version })
      }
    }

    it('ends every rollout right, with a whole decision log, each application serving its last promoted version', async () => {
      onTestFailed(() => console.log(`seed ${SEED}; last controller output:\n${(running.at(-1)?.process.output() ?? outputs.at(-1) ?? '').slice(-8000)}`))
      const random = seededRandom(SEED)
      const env = controllerEnv(databaseUrl, 1500, target.env)
      const spawnController = () => {
        const entry: { process: SentraProcess; holder: string | null } = { process: startSentra('controller/main.ts', env), holder: null }
        entry.process.waitFor(/sentra controller \S+ running/, 600_000).then(
          (line) => (entry.holder = /sentra controller (\S+) running/.exec(line)?.[1] ?? ''),
          () => {},
        )
        running.push(entry)
      }
      const ready = () => running.filter((c) => c.holder !== null)
      // Three controllers; a kill takes one that runs (the oldest, mostly), or now and then one
      // still starting up, and only while another one runs to take over. A new one starts at
      // once. Startup (tsx) takes seconds, far more on a loaded machine: the kill moments are
      // counted from when a controller runs, not from its spawn.
      for (let i = 0; i < 3; i++) spawnController()
      let killsWhileActive = 0
      let killsOfHolders = 0
      for (let kill = 0; kill < KILLS; kill++) {
        await startNextRollouts(random)
        await waitFor(async () => ready().length, (n) => n >= 2, { what: 'two controllers running', timeoutMs: 600_000, everyMs: 100 })
        await sleep(pauseMs(random))
        const starting = running.filter((c) => c.holder === null)
        const victim = random() < 0.15 && starting.length > 0 ? starting[0]! : ready()[random() < 0.8 ? 0 : ready().length - 1]!
        const active = await store.rollouts.activeIds()
        if (active.length > 0) killsWhileActive++
        const holders = victim.holder === null ? new Map() : await leaseHolders(redis, active)
        if ([...holders.values()].includes(victim.holder)) killsOfHolders++
        await victim.process.kill9()
        outputs.push(victim.process.output())
        running = running.filter((c) => c !== victim)
        spawnController()
      }
      console.log(`${KILLS} kills (${killsWhileActive} with rollouts in flight, ${killsOfHolders} of a controller holding some), ${rollouts.length} rollouts started; seed ${SEED}`)
      // SENTRA_FAULT_DEBUG=file: every killed controller's output, for a look at what they did.
      if (process.env.SENTRA_FAULT_DEBUG) writeFileSync(process.env.SENTRA_FAULT_DEBUG, outputs.map((o, i) => `=== controller ${i}\n${o}`).join('\n'))

      // Then one controller alone (a process-target application is served by one process):
      // everything still in flight must finish from the store.
      for (const controller of running) await controller.process.kill9()
      const last = await startController(env, 600_000)
      running = [{ process: last, holder: last.holder }]
      const ids = rollouts.map((r) => r.id)
      const finished = await waitFor(
        () => store.rollouts.byIds(ids),
        (rs) => rs.every((r) => r !== null && !ACTIVE_STATUSES.includes(r.status)),
        { what: 'every rollout finished', timeoutMs: 600_000, everyMs: 500 },
      )
      expect(killsWhileActive).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2))

      // Right terminal state, and a decision log with no gap and no duplicate, for every rollout.
      const logs = await decisionLogs(store, ids)
      const wrong: string[] = []
      for (const [index, r] of rollouts.entries()) {
        const expected = isBadVersion(r.version) ? 'ROLLED_BACK' : 'SUCCEEDED'
        if (finished[index]?.status !== expected) wrong.push(`${r.application} ${r.version}: ${finished[index]?.status}, expected ${expected}`)
        for (const problem of decisionLogProblems(logs.get(r.id) ?? [], isBadVersion(r.version))) wrong.push(`${r.application} ${r.version}: ${problem}`)
        const chain = await chainProblem(store, r.id, logs.get(r.id)?.length ?? 0)
        if (chain !== null) wrong.push(`${r.application} ${r.version}: ${chain}`)
      }
      expect(wrong).toEqual([])

      // And each application serves the last version it promoted, only that one.
      for (const [name, port] of ports) {
        const promoted = rollouts.filter((r) => r.application === name && !isBadVersion(r.version)).at(-1)?.version ?? 'v1'
        expect(await versionsServed(port, 10), name).toEqual({ [promoted]: 10 })
      }
    })

    // A controller that lost a lease (an event-loop stall on a loaded machine) takes the canary
    // off its proxy, and a holder that cannot serve the application's address cannot finish a
    // rollback (docs/ha.md, "A stale proxy of a live controller"): once ROLLED_BACK is recorded,
    // no proxy routes to that canary any more.
    it('sent no request to a canary after its rollback finished', async () => {
      const logs = await decisionLogs(store, rollouts.map((r) => r.id))
      for (const r of rollouts.filter((x) => isBadVersion(x.version))) {
        const rolledBack = logs.get(r.id)!.find((d) => d.action === 'ROLLED_BACK')!
        const seen = traffic!.seen(r.application, r.version)
        if (seen) expect(seen.lastSentAt, `${r.application} ${r.version} answered a request sent after ROLLED_BACK`).toBeLessThan(rolledBack.at.getTime())
      }
    })
  })
}
