/**
 * Disjoint pieces of evidence from overlapping windows.
 *
 * The loop (controller/evaluate.ts) samples every tick over [max(stepStart, now − 60 s), now]
 * and hands a judge all earlier samples of the rollout plus the current one. Consecutive
 * windows overlap, so summing them would count the same requests again and again, and a
 * sequential test fed the same errors twice is no longer valid. This module turns such a
 * history into intervals that never share a request:
 *
 * - Two samples with the same start (the loop's windows during a step's first minute, which
 *   grow from the step's start) are nested: the later one minus the earlier one is exactly
 *   what was recorded between the two reads. Nothing read earlier can contain it, so such a
 *   difference is always a fresh interval, even when the earlier sample itself was not used.
 * - A sample that starts after everything used so far ended is used whole. Window edges are
 *   rounded outwards to whole seconds first, because Sentra's proxy counts per second and a
 *   window edge inside a second includes that whole second (so [a, b] and [b, c] with b
 *   inside a second share that second's requests).
 * - Anything else overlaps what was used (the loop's sliding windows after a minute): it is
 *   skipped, and its new part is used later, by the first sample that starts after it.
 *
 * Which samples are used depends only on their times, never on their counts' values, so the
 * choice cannot bias the test. With the current loop that yields one interval per tick for a
 * step's first minute, then one per minute (plus a tick); a loop that passes each tick's own
 * interval (see sequential.ts) gets every tick used.
 */
import type { WindowSample } from '../../telemetry/provider.ts'
import type { CountIncrement } from './error-share.ts'

export interface TimedIncrement extends CountIncrement {
  /** ms since the epoch; for a difference, the earlier sample's end. */
  start: number
  end: number
  /** The canary's weight (percent) during the sample, as the provider reported it. */
  weight: number
}

export interface IncrementsResult {
  increments: TimedIncrement[]
  /** Samples looked at. */
  samples: number
  /** Skipped because they overlap what was already used. */
  overlapping: number
  /** Skipped because their counts are missing or impossible; `invalidReason` says the newest why. */
  invalid: number
  /** Skipped because a later sample had fewer counts than an earlier one of the same start (a reset). */
  inconsistent: number
  invalidReason: string | null
}

const SECOND = 1000

function floorSecond(ms: number): number {
  return Math.floor(ms / SECOND) * SECOND
}

function ceilSecond(ms: number): number {
  return Math.ceil(ms / SECOND) * SECOND
}

/** A sample's bounds in ms, or null when they are not a proper interval. */
export function boundsOf(sample: WindowSample): { start: number; end: number } | null {
  const start = sample.start instanceof Date ? sample.start.getTime() : Number.NaN
  const end = sample.end instanceof Date ? sample.end.getTime() : Number.NaN
  if (!Number.isFinite(start) || !Number.isFinite(end) || !(end > start)) return null
  return { start, end }
}

/** Whether a sample starting at `start` shares no (whole) second with anything up to `coveredUntil`. */
export function startsAfter(start: number, coveredUntil: number): boolean {
  return floorSecond(start) >= ceilSecond(coveredUntil)
}

/**
 * The disjoint count intervals of a stream of samples, fed oldest first: what
 * {@link countIncrements} computes, one sample at a time, so a running analysis pays for
 * each sample once. `read` gives a sample's counts, or a reason why they cannot be used.
 */
export class IncrementCutter {
  readonly #read: (sample: WindowSample) => CountIncrement | string
  #coveredUntil = Number.NEGATIVE_INFINITY
  #previous: { start: number; end: number; counts: CountIncrement } | null = null
  samples = 0
  overlapping = 0
  invalid = 0
  inconsistent = 0
  invalidReason: string | null = null

  constructor(read: (sample: WindowSample) => CountIncrement | string) {
    this.#read = read
  }

  /** The new disjoint interval `sample` brings, or null when it brings none. */
  push(sample: WindowSample): TimedIncrement | null {
    this.samples += 1
    const bounds = boundsOf(sample)
    const counts = bounds === null ? 'the window has no proper start and end' : this.#read(sample)
    if (bounds === null || typeof counts === 'string') {
      this.invalid += 1
      this.invalidReason = typeof counts === 'string' ? counts : 'the window has no proper start and end'
      return null
    }
    const current = { start: bounds.start, end: bounds.end, counts }
    const previous = this.#previous
    if (previous !== null && previous.start === bounds.start) {
      if (bounds.end <= previous.end) {
        // The same window again (or an older one): nothing new, and not a reference either.
        if (bounds.end < previous.end) this.inconsistent += 1
        return null
      }
      const difference: TimedIncrement = {
        start: previous.end,
        end: bounds.end,
        canaryRequests: counts.canaryRequests - previous.counts.canaryRequests,
        canaryErrors: counts.canaryErrors - previous.counts.canaryErrors,
        baselineRequests: counts.baselineRequests - previous.counts.baselineRequests,
        baselineErrors: counts.baselineErrors - previous.counts.baselineErrors,
        weight: sample.canaryWeight,
      }
      this.#previous = current
      if (!plausible(difference)) {
        this.inconsistent += 1
        return null
      }
      this.#coveredUntil = Math.max(this.#coveredUntil, bounds.end)
      return difference
    }
    this.#previous = current
    if (!startsAfter(bounds.start, this.#coveredUntil)) {
      this.overlapping += 1
      return null
    }
    this.#coveredUntil = bounds.end
    return { start: bounds.start, end: bounds.end, ...counts, weight: sample.canaryWeight }
  }
}

/** The disjoint count intervals in `history` (oldest first); see {@link IncrementCutter}. */
export function countIncrements(history: readonly WindowSample[], read: (sample: WindowSample) => CountIncrement | string): IncrementsResult {
  const cutter = new IncrementCutter(read)
  const increments: TimedIncrement[] = []
  for (const sample of history) {
    const inc = cutter.push(sample)
    if (inc !== null) increments.push(inc)
  }
  return { increments, samples: cutter.samples, overlapping: cutter.overlapping, invalid: cutter.invalid, inconsistent: cutter.inconsistent, invalidReason: cutter.invalidReason }
}

function plausible(c: CountIncrement): boolean {
  return c.canaryRequests >= 0 && c.baselineRequests >= 0 && c.canaryErrors >= 0 && c.baselineErrors >= 0 && c.canaryErrors <= c.canaryRequests && c.baselineErrors <= c.baselineRequests
}

/**
 * Samples that share no second with one another, for values that cannot be differenced
 * (quantiles), fed oldest first: each is used whole when it starts after the last one used
 * ended. `usable` rejects samples without the values needed (they are skipped and do not
 * block later ones).
 */
export class DisjointCutter {
  readonly #usable: (sample: WindowSample) => boolean
  #coveredUntil = Number.NEGATIVE_INFINITY
  overlapping = 0
  unusable = 0

  constructor(usable: (sample: WindowSample) => boolean) {
    this.#usable = usable
  }

  /** Whether `sample` is used. */
  push(sample: WindowSample): boolean {
    const bounds = boundsOf(sample)
    if (bounds === null || !this.#usable(sample)) {
      this.unusable += 1
      return false
    }
    if (!startsAfter(bounds.start, this.#coveredUntil)) {
      this.overlapping += 1
      return false
    }
    this.#coveredUntil = bounds.end
    return true
  }
}

/** The samples of `history` (oldest first) that share no second with one another; see {@link DisjointCutter}. */
export function disjointSamples(history: readonly WindowSample[], usable: (sample: WindowSample) => boolean): { samples: WindowSample[]; overlapping: number; unusable: number } {
  const cutter = new DisjointCutter(usable)
  const samples = history.filter((sample) => cutter.push(sample))
  return { samples, overlapping: cutter.overlapping, unusable: cutter.unusable }
}

/**
 * Pools consecutive intervals until each pool holds at least `minRequests` requests of both
 * versions together, never across a change of the canary's weight. At low traffic a
 * one-second interval often holds a single request, and an error that is the only request of
 * its interval says nothing about who fails more (given the interval's counts, it came from
 * whoever served it): pooled, it counts against the pool's traffic split. Where pools end
 * depends only on request counts and weights, never on errors; an unfinished pool is left
 * out until it is complete (or the weight changes), so the evidence only ever grows by whole
 * pools. At 100 requests/s every one-second interval is a pool of its own.
 */
export class IncrementPooler {
  readonly #minRequests: number
  #pending: TimedIncrement | null = null

  constructor(minRequests: number) {
    this.#minRequests = minRequests
  }

  /** The pools `inc` completes (none, one, or two when a weight change closes the pending one). */
  push(inc: TimedIncrement): TimedIncrement[] {
    const done: TimedIncrement[] = []
    let pending = this.#pending
    if (pending !== null && pending.weight !== inc.weight) {
      done.push(pending)
      pending = null
    }
    pending =
      pending === null
        ? { ...inc }
        : {
            start: pending.start,
            end: inc.end,
            weight: inc.weight,
            canaryRequests: pending.canaryRequests + inc.canaryRequests,
            canaryErrors: pending.canaryErrors + inc.canaryErrors,
            baselineRequests: pending.baselineRequests + inc.baselineRequests,
            baselineErrors: pending.baselineErrors + inc.baselineErrors,
          }
    if (pending.canaryRequests + pending.baselineRequests >= this.#minRequests) {
      done.push(pending)
      pending = null
    }
    this.#pending = pending
    return done
  }
}

/** Every complete pool of `increments` (oldest first); see {@link IncrementPooler}. */
export function poolIncrements(increments: readonly TimedIncrement[], minRequests: number): TimedIncrement[] {
  const pooler = new IncrementPooler(minRequests)
  return increments.flatMap((inc) => pooler.push(inc))
}
