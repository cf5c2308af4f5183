import { RedMetrics } from '../../controller/proxy/red-metrics.ts'
import type { RedMetricsReader } from '../../controller/proxy/types.ts'

export const STABLE_VERSION = 'v1'
export const CANARY_VERSION = 'v2'

/** Applications share this many RedMetrics (round-robin by name): real windows to read, little memory. */
const POOL = 16
/** Seconds kept: the controller's windows reach back at most 60 s (controller/evaluate.ts, MAX_WINDOW_MS). */
const RETENTION_SECONDS = 120
const REQUESTS_PER_SECOND = 100

/**
 * Healthy synthetic traffic for the built-in provider: every second, each RedMetrics of the
 * pool records what a proxy at 25 % canary weight would (100 requests/s, 0.2 % errors,
 * latencies around 20 ms on both versions). The controller reads it through the real
 * BuiltinProvider and judges; only the proxy in front of real upstreams is left out. One
 * RedMetrics per application would cost ~60 KB each at this retention (10,000 applications:
 * 1.2 GB) and a generator loop over all of them, which would be measured with the controller.
 */
export class SyntheticTraffic {
  readonly #pool: RedMetrics[] = Array.from({ length: POOL }, () => new RedMetrics({ retentionSeconds: RETENTION_SECONDS }))
  readonly #byApplication = new Map<string, RedMetrics>()
  #timer: NodeJS.Timeout | null = null
  #seed = 42
  #lastSecond = 0

  /** The reader the built-in provider uses for `application`. */
  readonly metricsFor = (application: string): RedMetricsReader | undefined => {
    let metrics = this.#byApplication.get(application)
    if (!metrics) {
      metrics = this.#pool[this.#byApplication.size % POOL]!
      this.#byApplication.set(application, metrics)
    }
    return metrics
  }

  /** Fills the last minute, then one second of traffic every second until stop(). */
  start(now = Date.now()): void {
    const second = Math.floor(now / 1000)
    for (let s = second - 60; s <= second; s++) this.#fill(s)
    this.#lastSecond = second
    this.#timer = setInterval(() => {
      const current = Math.floor(Date.now() / 1000)
      for (let s = this.#lastSecond + 1; s <= current; s++) this.#fill(s)
      this.#lastSecond = Math.max(this.#lastSecond, current)
    }, 1000)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }

  /** A small deterministic generator (mulberry32): the same traffic on every run. */
  #random(): number {
    let t = (this.#seed += 0x6d2b79f5)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  #fill(second: number): void {
    const canary = Math.round(REQUESTS_PER_SECOND * 0.25)
    for (const metrics of this.#pool) {
      for (let i = 0; i < REQUESTS_PER_SECOND; i++) {
        const version = i < canary ? CANARY_VERSION : STABLE_VERSION
        const failed = this.#random() < 0.002
        const at = second * 1000 + Math.floor(this.#random() * 1000)
        metrics.record(version, { status: failed ? 500 : 200 }, 15 + this.#random() * 10, at)
      }
    }
  }
}
