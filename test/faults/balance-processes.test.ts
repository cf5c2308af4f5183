import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest'
import { createBus } from '../../schema/events/index.ts'
import type { Bus } from '../../schema/events/bus.ts'
import { beginRollout } from '../../schema/rollout-start.ts'
import { assertSpec } from '../../schema/spec.ts'
import { createStore, type Store } from '../../schema/store/index.ts'
import { KubernetesStandIn } from '../standins/kubernetes.ts'
import type { JsonObject } from '../standins/kubernetes-validate.ts'
import { openTestStore } from '../support/databases.ts'
import { waitFor } from '../support/rollouts.ts'
import { startPrivateRedis, type PrivateRedis } from './redis-server.ts'
import { controllerEnv, decisionLogs, leaseHolders, listenPort, startController, type ControllerProcess } from './support.ts'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

/** Rollouts to spread: 4 per controller of three, 6 per survivor of two. */
const N = 12
/**
 * Short, so a SIGKILLed holder's rollouts free up soon. A live controller renews every 1 s
 * scan, so a loaded machine may stall one for 3 s without its leases moving (a lost lease of
 * a live controller fails the test below).
 */
const LEASE_TTL_MS = 4000
/** Takeover after a SIGKILL: the lease runs out, then a survivor's scan takes it. Generous for a loaded 2-core box. */
const TAKEOVER_BOUND_MS = LEASE_TTL_MS + 10_000
/** Joiners fill up at one rollout given back per scan (controller/balance.ts): about 8 scans here. */
const SPREAD_BOUND_MS = 60_000
const NAMESPACE = 'balance'
const STABLE = '1.0.0'
const CANARY = '1.1.0'

/**
 * A canary that reaches 10 % within a few ticks and then stays in its analysis (a day long),
 * ticked every 2 s by whoever holds it: the rollouts move while their holders are writing.
 */
function spec(name: string) {
  return assertSpec({
    name,
    target: { kind: 'kubernetes', namespace: NAMESPACE, deployment: name, service: name, httpRoute: name },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '24h' } }] } },
    // No proxy sees Kubernetes traffic, so the built-in errorRate has no data: every window is
    // INCONCLUSIVE, which a large limit keeps from ever pausing or ending the rollout.
    gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.05 } }],
    interval: '2s',
    inconclusiveLimit: 1000,
  })
}

/** The stable Deployment, Service and HTTPRoute an operator applies before Sentra manages `name`. */
function seedObjects(name: string): JsonObject[] {
  const labels = { app: name }
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: NAMESPACE, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name, image: `ghcr.io/acme/${name}:${STABLE}`, ports: [{ containerPort: 8080 }] }] } },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NAMESPACE }, spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name, namespace: NAMESPACE },
      spec: { parentRefs: [{ name: 'gateway' }], rules: [{ backendRefs: [{ name, port: 80 }] }] },
    },
  ]
}

/** The canary's weight in `name`'s HTTPRoute as the stand-in holds it; null while the route has no canary backend. */
function canaryRouteWeight(standIn: KubernetesStandIn, name: string): number | null {
  const route = standIn.object('HTTPRoute', NAMESPACE, name) as { spec?: { rules?: { backendRefs?: { name?: string; weight?: number }[] }[] } } | undefined
  const ref = route?.spec?.rules?.[0]?.backendRefs?.find((r) => r.name === `${name}-canary`)
  return ref === undefined ? null : (ref.weight ?? 1)
}

/** How many rollouts a controller process says it holds (its sentra_rollouts_active gauge). */
async function heldGauge(metricsPort: number): Promise<number | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    const line = text.split('\n').find((l) => l.startsWith('sentra_rollouts_active '))
    return line === undefined ? null : Number(line.split(' ')[1])
  } catch {
    return null
  }
}

interface Sample {
  at: number
  holders: (string | null)[]
}

/**
 * Issue #9: "rollouts are spread across controllers by lease; when a controller dies, its
 * rollouts are taken over within two ticks", with three real `npm run controller` processes
 * on one MariaDB database and one Redis (a redis-server of the test's own: the membership
 * set is global to a key prefix, and controllers of another suite on the shared Redis would
 * count in every share), and Kubernetes-target rollouts (the kind that moves between live
 * controllers) against the API stand-in.
 */
describe('balancing across separate controller processes (Kubernetes target)', () => {
  let store: Store
  let bus: Bus
  let redis: PrivateRedis
  let client: Redis
  let standIn: KubernetesStandIn
  let dispose: () => Promise<void>
  let kubeDir = ''
  let env: Record<string, string> = {}
  const controllers: { process: ControllerProcess; metricsPort: number }[] = []
  const ids: string[] = []
  const names: string[] = []
  const samples: Sample[] = []
  /** Route weights that changed after the canary first reached 10 %: nobody should move them. */
  const weightChanges: string[] = []
  let sampler: Promise<void> | null = null
  let sampling = false

  async function start(): Promise<{ process: ControllerProcess; metricsPort: number }> {
    const metricsPort = await listenPort()
    const started = { process: await startController({ ...env, SENTRA_METRICS_PORT: String(metricsPort) }), metricsPort }
    controllers.push(started)
    return started
  }

  /** Every ~200 ms: who holds each rollout in Redis, and each canary's weight in the stand-in. */
  function startSampling(): void {
    sampling = true
    const atTen = new Set<string>()
    sampler = (async () => {
      while (sampling) {
        const holders = await leaseHolders(client, ids)
        samples.push({ at: Date.now(), holders: ids.map((id) => holders.get(id) ?? null) })
        for (const name of names) {
          const weight = canaryRouteWeight(standIn, name)
          if (weight === 10) atTen.add(name)
          else if (atTen.has(name)) weightChanges.push(`${name}: canary weight ${String(weight)} at ${new Date().toISOString()}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    })()
  }

  const heldBy = (holders: ReadonlyMap<string, string | null>, holder: string) => [...holders.values()].filter((h) => h === holder).length
  /** Lines where a live controller found out that someone else had taken a rollout it believed it held. */
  const lostLines = (c: ControllerProcess) => c.output().split('\n').filter((line) => /lost the lease on rollout|lost rollout \S+ to a newer holder/.test(line))

  beforeAll(async () => {
    redis = await startPrivateRedis(await listenPort())
    client = new Redis(redis.url, { maxRetriesPerRequest: 2 })
    const opened = await openTestStore('mysql')
    store = createStore(opened.db)
    dispose = opened.dispose
    bus = createBus(redis.url, { onError: () => {} })
    standIn = await KubernetesStandIn.start({ readyDelayMs: 30 })
    kubeDir = mkdtempSync(join(tmpdir(), 'sentra-balance-'))
    const kubeconfig = join(kubeDir, 'kubeconfig')
    writeFileSync(kubeconfig, standIn.kubeconfig(NAMESPACE))
    env = controllerEnv(opened.url, LEASE_TTL_MS, { SENTRA_REDIS_URL: redis.url, SENTRA_KUBECONFIG: kubeconfig })
    for (let i = 0; i < N; i++) {
      const name = `bal-${i}`
      for (const object of seedObjects(name)) standIn.seed(object)
      const created = await store.applications.upsert(name, spec(name))
      await store.applications.setStableVersion(created.id, STABLE)
      names.push(name)
      ids.push((await beginRollout(store, bus, (await store.applications.byId(created.id))!, CANARY)).id)
    }
  })
  afterAll(async () => {
    sampling = false
    // A failed sample (Redis gone) must not skip stopping the processes below.
    await sampler?.catch(() => undefined)
    await Promise.all(controllers.map((c) => c.process.stop()))
    client?.disconnect()
    await bus?.close()
    await redis?.dispose()
    await standIn?.close()
    await dispose?.()
    if (kubeDir) rmSync(kubeDir, { recursive: true, force: true })
  })

  it('spreads the rollouts when two controllers join, and the survivors take over a SIGKILLed one within the lease TTL', async () => {
    onTestFailed(() => {
      for (const c of controllers) console.log(`--- controller ${c.process.holder}:\n${c.process.output().slice(-5000)}`)
    })
    // A alone takes all N and brings every canary to 10 % before anyone else runs.
    const a = await start()
    await waitFor(() => leaseHolders(client, ids), (h) => heldBy(h, a.process.holder) === N, { what: `${a.process.holder} holds all ${N}`, timeoutMs: 60_000 })
    await waitFor(async () => names.map((name) => canaryRouteWeight(standIn, name)), (w) => w.every((x) => x === 10), { what: 'every canary at 10 % in the stand-in', timeoutMs: 60_000 })
    standIn.resetCalls()
    startSampling()

    // B and C join: A gives back one rollout per scan until each holds about a third.
    const startingAt = Date.now()
    const [b, c] = await Promise.all([start(), start()])
    const joinedAt = Date.now()
    const three = [a, b, c].map((x) => x.process.holder)
    const spread = await waitFor(
      () => leaseHolders(client, ids),
      (h) => [...h.values()].every((holder) => holder !== null) && three.every((holder) => heldBy(h, holder) >= Math.floor(N / 3) - 1 && heldBy(h, holder) <= Math.ceil(N / 3) + 1),
      { what: 'a third each', timeoutMs: SPREAD_BOUND_MS, everyMs: 250 },
    )
    const spreadMs = Date.now() - joinedAt
    console.log(`B and C started in ${((joinedAt - startingAt) / 1000).toFixed(1)} s; spread ${(spreadMs / 1000).toFixed(1)} s after both ran: ${three.map((h) => `${h}=${heldBy(spread, h)}`).join(', ')}`)

    // Settled: the processes' own counts match Redis (no process believes it holds what
    // another holds), and for a few seconds every rollout has exactly one live holder.
    await waitFor(
      async () => ({ holders: await leaseHolders(client, ids), gauges: await Promise.all([a, b, c].map((x) => heldGauge(x.metricsPort))) }),
      ({ holders, gauges }) => gauges.every((g, i) => g === heldBy(holders, three[i]!)) && gauges.reduce<number>((s, g) => s + (g ?? 0), 0) === N,
      { what: 'each process counts what Redis says it holds', timeoutMs: 20_000, everyMs: 250 },
    )
    const settledFrom = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 4000))
    const settled = samples.filter((s) => s.at >= settledFrom)
    expect(settled.length).toBeGreaterThan(3)
    for (const s of settled) expect(s.holders.filter((h) => h === null || !three.includes(h)), `holders at ${new Date(s.at).toISOString()}`).toEqual([])

    // kill -9 the one holding the most: the survivors take its rollouts once its leases expire.
    const now = await leaseHolders(client, ids)
    const victim = [a, b, c].reduce((most, x) => (heldBy(now, x.process.holder) > heldBy(now, most.process.holder) ? x : most))
    const survivors = [a, b, c].filter((x) => x !== victim).map((x) => x.process.holder)
    const orphans = ids.filter((id) => now.get(id) === victim.process.holder)
    await victim.process.kill9()
    const killedAt = Date.now()
    const after = await waitFor(
      () => leaseHolders(client, ids),
      (h) => [...h.values()].every((holder) => holder !== null && survivors.includes(holder)),
      { what: 'the survivors hold every rollout', timeoutMs: TAKEOVER_BOUND_MS + 20_000, everyMs: 100 },
    )
    const takeoverMs = Date.now() - killedAt
    console.log(`takeover of ${orphans.length} rollouts ${(takeoverMs / 1000).toFixed(1)} s after the SIGKILL (lease TTL ${LEASE_TTL_MS / 1000} s): ${survivors.map((h) => `${h}=${heldBy(after, h)}`).join(', ')}`)
    expect(takeoverMs, 'takeover within the lease TTL + 10 s').toBeLessThanOrEqual(TAKEOVER_BOUND_MS)
    // The survivors tick what they took (a gate result of the analysis), not only hold its lease.
    const firstTicks = await waitFor(
      async () => (await store.evidence.gateResultsFor(orphans)).map((results) => results.map((g) => g.at.getTime()).filter((at) => at > killedAt).sort((x, y) => x - y)[0]),
      (ats) => ats.every((at) => at !== undefined),
      { what: 'a tick of every orphan after the SIGKILL', timeoutMs: TAKEOVER_BOUND_MS + 20_000, everyMs: 250 },
    )
    console.log(`first gate result of each orphan after the SIGKILL (s): ${firstTicks.map((at) => ((at! - killedAt) / 1000).toFixed(1)).join(', ')}`)
    // About half each (a survivor at its share of 6 stops taking; slack 1).
    const halves = await waitFor(
      () => leaseHolders(client, ids),
      (h) => survivors.every((holder) => heldBy(h, holder) >= N / 2 - 1 && heldBy(h, holder) <= N / 2 + 1) && [...h.values()].every((x) => x !== null && survivors.includes(x)),
      { what: 'half each', timeoutMs: 30_000, everyMs: 250 },
    )
    expect(survivors.map((h) => heldBy(halves, h)).reduce((s, x) => s + x, 0)).toBe(N)
    // Nothing is held by the dead holder afterwards.
    await new Promise((resolve) => setTimeout(resolve, 2000))
    sampling = false
    await sampler
    const afterKill = samples.filter((s) => s.at >= killedAt + takeoverMs)
    for (const s of afterKill) expect(s.holders.filter((h) => h === null || !survivors.includes(h)), `holders at ${new Date(s.at).toISOString()}`).toEqual([])

    // No live controller ever found a rollout it thought it held in someone else's hands
    // (that is what two holders at once would look like from inside a process).
    for (const x of [a, b, c]) expect(lostLines(x.process), `${x.process.holder} lost a lease`).toEqual([])

    // While rollouts moved (give-backs, then the takeover), each was free only briefly.
    let longestFreeMs = 0
    for (let i = 0; i < ids.length; i++) {
      let freeSince: number | null = null
      for (const s of samples) {
        if (s.holders[i] === null) freeSince ??= s.at
        else if (freeSince !== null) {
          longestFreeMs = Math.max(longestFreeMs, s.at - freeSince)
          freeSince = null
        }
      }
      expect(freeSince, `${names[i]} free at the end`).toBeNull()
    }
    console.log(`longest a rollout was seen free: ${(longestFreeMs / 1000).toFixed(1)} s; samples: ${samples.length}`)
    expect(longestFreeMs).toBeLessThanOrEqual(TAKEOVER_BOUND_MS)

    // The stand-in's view: every canary stayed at 10 % throughout, and nobody wrote a route
    // after the first controller set them (a takeover's reconcile finds the weight in place).
    expect(weightChanges).toEqual([])
    expect(names.map((name) => canaryRouteWeight(standIn, name))).toEqual(names.map(() => 10))
    const writes = standIn.calls().filter((call) => ['create', 'update', 'patch', 'delete'].includes(call.verb))
    console.log(`Kubernetes API writes after the canaries were at 10 %: ${writes.length} (${[...new Set(writes.map((w) => `${w.verb} ${w.resource ?? '?'}`))].join(', ') || 'none'})`)
    expect(writes.filter((w) => w.resource === 'httproutes'), 'HTTPRoute writes').toEqual([])

    // The store's view: every rollout still PROGRESSING at 10 %, its decisions made once each.
    const rollouts = await store.rollouts.byIds(ids)
    for (const [i, r] of rollouts.entries()) {
      expect(r?.status, names[i]).toBe('PROGRESSING')
      expect(r?.desiredWeight, names[i]).toBe(10)
    }
    const logs = await decisionLogs(store, ids)
    for (const [i, id] of ids.entries()) {
      const decisions = logs.get(id) ?? []
      expect(decisions.map((d) => d.action), `${names[i]} decisions`).toEqual(['START', 'SET_WEIGHT'])
      expect(new Set(decisions.map((d) => d.seq)).size, `${names[i]} seqs`).toBe(decisions.length)
    }
  })

  /**
   * Found by this test (fixed in schema/store/decisions.ts, regression test in
   * schema/store/decision-chain-store.test.ts): the first decisions of rollouts ticked at once
   * deadlocked on MariaDB. The chain head read (`… ORDER BY chain_seq DESC LIMIT 1 FOR UPDATE`)
   * of a rollout without decisions took a gap lock in `decisions_by_rollout_chain`; two
   * rollouts whose ids fell in the same gap both held it, and each one's INSERT waited for the
   * other's. The tick failed ("Deadlock found when trying to get lock") and was retried a
   * second later.
   */
  it('ticks the first decisions of rollouts taken together without a MariaDB deadlock', () => {
    const failed = controllers.flatMap((x) => x.process.output().split('\n').filter((line) => /tick of rollout \S+ failed/.test(line)))
    console.log(`failed ticks (each retried a second later): ${failed.length}${failed.length > 0 ? `\n${failed.join('\n')}` : ''}`)
    expect(failed.filter((line) => /Deadlock found/.test(line))).toEqual([])
  })
})
