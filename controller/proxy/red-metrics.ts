import { LATENCY_BUCKETS, bucketOf, quantileMs } from './latency-histogram.ts'
import type { RedMetricsReader, VersionStats } from './types.ts'

/** How one proxied request ended: an HTTP status from the upstream, or no answer at all. */
export type RequestOutcome = { status: number } | { failed: true }

export interface RedMetricsOptions {
  /** Seconds of history kept per version (one bucket per second). Default 900 (15 minutes). */
  retentionSeconds?: number
}

const BUCKET_MS = 1000

/** One second of one version. Reused in place when the ring wraps, so memory never grows. */
interface Second {
  second: number
  requests: number
  errors: number
  minMs: number
  maxMs: number
  latency: Uint32Array
  /** The lowest and highest latency bucket counted this second (lowBucket > highBucket: none), so a window adds only those. */
  lowBucket: number
  highBucket: number
}

/** A fixed ring of seconds; slot = second mod capacity, and a slot knows which second it holds. */
interface Ring {
  slots: (Second | undefined)[]
  newest: number
}

const EMPTY: VersionStats = { requests: 0, errors: 0, latencyP50: null, latencyP95: null, latencyP99: null }

/**
 * Per-version request/error/latency counters in one-second buckets over a bounded ring.
 * Memory per version is at most `retentionSeconds` buckets of ~112 counters, whatever the
 * traffic; a query costs O(seconds in the window).
 *
 * @example
 * const metrics = new RedMetrics()
 * metrics.record('v2', { status: 200 }, 12.5)
 * metrics.window('v2', Date.now() - 30_000, Date.now() + 1) // { requests: 1, errors: 0, latencyP50: 0.0125, ... }
 */
export class RedMetrics implements RedMetricsReader {
  readonly retentionSeconds: number
  #rings = new Map<string, Ring>()

  constructor({ retentionSeconds = 900 }: RedMetricsOptions = {}) {
    if (!Number.isInteger(retentionSeconds) || retentionSeconds < 1) throw new RangeError(`retentionSeconds must be a positive integer, got ${retentionSeconds}`)
    this.retentionSeconds = retentionSeconds
  }

  /** Counts one finished request of `version`; 5xx answers and failures are errors. Events older than the ring are dropped. */
  record(version: string, outcome: RequestOutcome, durationMs: number, atMs: number = Date.now()): void {
    const second = Math.floor(atMs / BUCKET_MS)
    let ring = this.#rings.get(version)
    if (!ring) {
      ring = { slots: new Array<Second | undefined>(this.retentionSeconds), newest: second }
      this.#rings.set(version, ring)
    }
    if (second <= ring.newest - this.retentionSeconds) return
    const index = this.#slotOf(second)
    let slot = ring.slots[index]
    if (!slot) {
      slot = { second, requests: 0, errors: 0, minMs: Infinity, maxMs: -Infinity, latency: new Uint32Array(LATENCY_BUCKETS), lowBucket: LATENCY_BUCKETS, highBucket: -1 }
      ring.slots[index] = slot
    } else if (slot.second !== second) {
      // The slot still holds a second that fell out of the ring: start it afresh.
      slot.second = second
      slot.requests = 0
      slot.errors = 0
      slot.minMs = Infinity
      slot.maxMs = -Infinity
      slot.latency.fill(0)
      slot.lowBucket = LATENCY_BUCKETS
      slot.highBucket = -1
    }
    const ms = Number.isFinite(durationMs) && durationMs > 0 ? durationMs : 0
    slot.requests++
    if ('failed' in outcome || outcome.status >= 500) slot.errors++
    slot.minMs = Math.min(slot.minMs, ms)
    slot.maxMs = Math.max(slot.maxMs, ms)
    const bucket = bucketOf(ms)
    slot.latency[bucket] = (slot.latency[bucket] ?? 0) + 1
    if (bucket < slot.lowBucket) slot.lowBucket = bucket
    if (bucket > slot.highBucket) slot.highBucket = bucket
    if (second > ring.newest) ring.newest = second
  }

  /**
   * Sums the one-second buckets that overlap [fromMs, toMs): resolution is one second,
   * so a window edge inside a second includes that whole second. Latencies in seconds.
   */
  window(version: string, fromMs: number, toMs: number): VersionStats {
    const ring = this.#rings.get(version)
    if (!ring || !(toMs > fromMs)) return { ...EMPTY }
    const first = Math.max(Math.floor(fromMs / BUCKET_MS), ring.newest - this.retentionSeconds + 1)
    const last = Math.min(Math.ceil(toMs / BUCKET_MS) - 1, ring.newest)
    // A plain array, not a Float64Array: allocating a typed array and Array.from-ing it for
    // the stored histogram were most of a window's cost (bench/controller).
    const counts = new Array<number>(LATENCY_BUCKETS).fill(0)
    let requests = 0
    let errors = 0
    let minMs = Infinity
    let maxMs = -Infinity
    for (let second = first; second <= last; second++) {
      const slot = ring.slots[this.#slotOf(second)]
      if (!slot || slot.second !== second) continue
      requests += slot.requests
      errors += slot.errors
      minMs = Math.min(minMs, slot.minMs)
      maxMs = Math.max(maxMs, slot.maxMs)
      // A second's latencies sit in a few neighbouring buckets of the ~110: adding only those
      // was most of a window's cost (bench/controller).
      for (let i = slot.lowBucket; i <= slot.highBucket; i++) counts[i] = (counts[i] ?? 0) + (slot.latency[i] ?? 0)
    }
    const summary = { counts, total: requests, minMs, maxMs }
    const seconds = (q: number): number | null => {
      const ms = quantileMs(summary, q)
      return ms === null ? null : ms / 1000
    }
    return { requests, errors, latencyP50: seconds(0.5), latencyP95: seconds(0.95), latencyP99: seconds(0.99), ...(requests > 0 ? { latencyHistogram: counts } : {}) }
  }

  #slotOf(second: number): number {
    const n = this.retentionSeconds
    return ((second % n) + n) % n
  }

  /** Versions with recorded history. */
  versions(): string[] {
    return [...this.#rings.keys()]
  }

  /** Drops all history of a version (e.g. a canary that was rolled back and removed). */
  forget(version: string): void {
    this.#rings.delete(version)
  }

  /** How many one-second buckets a version holds in memory (never more than retentionSeconds). */
  retainedBuckets(version: string): number {
    const ring = this.#rings.get(version)
    if (!ring) return 0
    let allocated = 0
    for (const slot of ring.slots) if (slot) allocated++
    return allocated
  }
}
