import { createServer, type Server } from 'node:http'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { GateEvaluation } from './evaluate.ts'

/**
 * Distinct label sets kept per metric. Application and gate names come from specs, so they
 * are bounded in practice, but not by us: past this many, new label sets are recorded with
 * application="other" (and gate="other"), so a runaway spec generator cannot blow up
 * Prometheus. Label sets of removed gauges free their place.
 */
export const MAX_LABEL_SETS = 500
export const OTHER = 'other'

/** The decisions a dashboard counts per application: created at 0 (see knownApplication). */
const OUTCOME_ACTIONS = ['ROLLBACK', 'PROMOTE'] as const
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

type Labels<K extends string> = Record<K, string>

/** Keeps at most `cap` distinct label sets; further ones have their open-ended labels replaced by "other". */
class LabelCap<K extends string> {
  readonly #seen = new Set<string>()
  readonly #cap: number
  readonly #openEnded: readonly K[]
  /** The label names in a fixed order, from the first label set seen (every set of one cap has the same names). */
  #names: K[] | null = null
  constructor(cap: number, openEnded: readonly K[]) {
    this.#cap = cap
    this.#openEnded = openEnded
  }

  // Called for every gate of every tick: values in a fixed name order, not sorted pairs.
  // Values are DNS names (applications, gates) and fixed words, none with a NUL; and a key
  // only counts label sets toward the cap.
  #key(labels: Labels<K>): string {
    this.#names ??= (Object.keys(labels) as K[]).sort()
    let key = ''
    for (const name of this.#names) key += `${labels[name]}\u0000`
    return key
  }

  bound(labels: Labels<K>): Labels<K> {
    const key = this.#key(labels)
    if (this.#seen.has(key)) return labels
    if (this.#seen.size < this.#cap) {
      this.#seen.add(key)
      return labels
    }
    const capped = { ...labels }
    for (const name of this.#openEnded) capped[name] = OTHER
    // "other" sets count too, but are few: one per value of the closed labels.
    this.#seen.add(this.#key(capped))
    return capped
  }

  forget(labels: Labels<K>): void {
    this.#seen.delete(this.#key(labels))
  }

  get size(): number {
    return this.#seen.size
  }
}

function sameLabels(a: Labels<'application' | 'gate' | 'role'>, b: Labels<'application' | 'gate' | 'role'>): boolean {
  return a.application === b.application && a.gate === b.gate && a.role === b.role
}

function gateValueKey(labels: Labels<'application' | 'gate' | 'role'>): string {
  return JSON.stringify([labels.application, labels.gate, labels.role])
}

/** Adds `delta` to the count of `key` (dropping it at 0) and returns the new count. */
function count(counts: Map<string, number>, key: string, delta: number): number {
  const n = (counts.get(key) ?? 0) + delta
  if (n > 0) counts.set(key, n)
  else counts.delete(key)
  return n
}

interface Tracked {
  application: string
  /** Gate-value label sets set for this rollout, removed when it goes. */
  gateValues: Labels<'application' | 'gate' | 'role'>[]
  weight: Labels<'application'> | null
}

/**
 * The controller's own metrics (docs/controller.md, "Metrics"), in a registry of their own:
 * the API process's /metrics merges it in embedded mode; `npm run controller` serves it on
 * SENTRA_METRICS_PORT. No rollout id is ever a label; rollouts are tracked by id internally
 * only so that their gauges can be removed when they finish or this controller lets go.
 */
export class ControllerMetrics {
  readonly registry = new Registry()
  readonly rolloutsActive = new Gauge({
    name: 'sentra_rollouts_active',
    help: 'Active rollouts this controller holds and ticks.',
    registers: [this.registry],
  })
  readonly canaryWeight = new Gauge({
    name: 'sentra_rollout_canary_weight',
    help: 'Observed percentage of traffic on the canary of the active rollout, by application.',
    labelNames: ['application'] as const,
    registers: [this.registry],
  })
  readonly decisions = new Counter({
    name: 'sentra_decisions_total',
    help: 'Decisions stored, by application and action (START, SET_WEIGHT, ADVANCE, ROLLBACK, PROMOTE, ...).',
    labelNames: ['application', 'action'] as const,
    registers: [this.registry],
  })
  readonly gateVerdicts = new Counter({
    name: 'sentra_gate_verdicts_total',
    help: 'Gate evaluations, by application, gate and verdict (PASS, FAIL, INCONCLUSIVE).',
    labelNames: ['application', 'gate', 'verdict'] as const,
    registers: [this.registry],
  })
  readonly gateValue = new Gauge({
    name: 'sentra_gate_value',
    help: "The last value a gate was judged on, for the canary and the baseline (in the signal's own unit).",
    labelNames: ['application', 'gate', 'role'] as const,
    registers: [this.registry],
  })
  readonly timeToDecision = new Histogram({
    name: 'sentra_time_to_decision_seconds',
    help: 'From the end of the telemetry window (the tick start) to the decision being stored.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  readonly tickDuration = new Histogram({
    name: 'sentra_controller_tick_duration_seconds',
    help: 'Duration of one controller tick of one rollout.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  readonly tickLag = new Histogram({
    name: 'sentra_controller_tick_lag_seconds',
    help: 'How late a tick started compared with when it was scheduled (timers and the concurrency limit).',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  readonly busPublish = new Histogram({
    name: 'sentra_bus_publish_duration_seconds',
    help: 'Duration of publishing one event on the bus from the controller.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })

  readonly #caps: {
    canaryWeight: LabelCap<'application'>
    decisions: LabelCap<'application' | 'action'>
    gateVerdicts: LabelCap<'application' | 'gate' | 'verdict'>
    gateValue: LabelCap<'application' | 'gate' | 'role'>
  }
  readonly #rollouts = new Map<string, Tracked>()
  /** Applications whose outcome counters exist (knownApplication). */
  readonly #zeroed = new Set<string>()
  /**
   * Tracked rollouts per canary-weight and per gate-value label set: finished() asks these
   * instead of scanning every other rollout (with 10,000 held, letting go of all of them
   * took seconds of blocked event loop; bench/controller).
   */
  readonly #weightUsers = new Map<string, number>()
  readonly #gateValueUsers = new Map<string, number>()

  /** `cap`: distinct label sets per metric before "other" (MAX_LABEL_SETS; smaller in tests). */
  constructor({ cap = MAX_LABEL_SETS }: { cap?: number } = {}) {
    this.#caps = {
      canaryWeight: new LabelCap<'application'>(cap, ['application']),
      decisions: new LabelCap<'application' | 'action'>(cap, ['application']),
      gateVerdicts: new LabelCap<'application' | 'gate' | 'verdict'>(cap, ['application', 'gate']),
      gateValue: new LabelCap<'application' | 'gate' | 'role'>(cap, ['application', 'gate']),
    }
  }

  #tracked(rolloutId: string, application: string): Tracked {
    let tracked = this.#rollouts.get(rolloutId)
    if (!tracked) {
      tracked = { application, gateValues: [], weight: null }
      this.#rollouts.set(rolloutId, tracked)
      this.knownApplication(application)
    }
    return tracked
  }

  /** Gate verdicts and values of one evaluation. */
  evaluated(rolloutId: string, application: string, evaluations: readonly GateEvaluation[]): void {
    const tracked = this.#tracked(rolloutId, application)
    for (const { verdict } of evaluations) {
      this.gateVerdicts.inc(this.#caps.gateVerdicts.bound({ application, gate: verdict.gate, verdict: verdict.verdict }))
      for (const [role, value] of [['canary', verdict.value], ['baseline', verdict.baseline]] as const) {
        if (value === null || !Number.isFinite(value)) continue
        const labels = this.#caps.gateValue.bound({ application, gate: verdict.gate, role })
        this.gateValue.set(labels, value)
        if (tracked.gateValues.some((l) => sameLabels(l, labels))) continue
        tracked.gateValues.push(labels)
        count(this.#gateValueUsers, gateValueKey(labels), 1)
      }
    }
  }

  /** A stored decision; `windowEnd` is when the window it judged ended (the tick's start), in ms. */
  decided(application: string, action: string, windowEnd: number, storedAt: number): void {
    this.knownApplication(application)
    this.decisions.inc(this.#caps.decisions.bound({ application, action }))
    this.timeToDecision.observe(Math.max(0, storedAt - windowEnd) / 1000)
  }

  /**
   * An application this controller may decide for: its outcome counters are created at 0 now.
   * Prometheus's increase() cannot see a counter's first increment when the series is born
   * at 1, so a rollback whose counter appeared with it would show as none in Grafana. The
   * runtime calls this for every stored application at start and the first tick of a rollout
   * does for its own, so the 0 is there from well before the rollout's first decision
   * (a tick decides after it reads the rollout).
   */
  knownApplication(application: string): void {
    if (this.#zeroed.has(application)) return
    this.#zeroed.add(application)
    for (const action of OUTCOME_ACTIONS) this.decisions.inc(this.#caps.decisions.bound({ application, action }), 0)
  }

  /** The rollout's observed canary weight after a tick. */
  weight(rolloutId: string, application: string, weight: number): void {
    const tracked = this.#tracked(rolloutId, application)
    const labels = this.#caps.canaryWeight.bound({ application })
    if (tracked.weight?.application !== labels.application) {
      if (tracked.weight) count(this.#weightUsers, tracked.weight.application, -1)
      count(this.#weightUsers, labels.application, 1)
    }
    tracked.weight = labels
    this.canaryWeight.set(labels, weight)
  }

  /** The rollout finished, or this controller no longer holds it: its gauges go (unless another rollout shares a label set, e.g. "other"). */
  finished(rolloutId: string): void {
    const tracked = this.#rollouts.get(rolloutId)
    if (!tracked) return
    this.#rollouts.delete(rolloutId)
    if (tracked.weight && count(this.#weightUsers, tracked.weight.application, -1) === 0) {
      this.canaryWeight.remove(tracked.weight)
      this.#caps.canaryWeight.forget(tracked.weight)
    }
    for (const labels of tracked.gateValues) {
      if (count(this.#gateValueUsers, gateValueKey(labels), -1) > 0) continue
      this.gateValue.remove(labels)
      this.#caps.gateValue.forget(labels)
    }
  }

  /** How many rollouts this controller holds now (the loop sets it as it takes and lets go). */
  held(count: number): void {
    this.rolloutsActive.set(count)
  }

  /** Rollouts tracked now (for tests). */
  get tracking(): number {
    return this.#rollouts.size
  }
}

/**
 * Serves `registry` at GET /metrics on host:port without authentication (`npm run
 * controller` with SENTRA_METRICS_PORT): bind it to loopback or a private interface.
 */
export async function serveMetrics(registry: Registry, port: number, host: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error instanceof Error ? error.message : String(error)}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
