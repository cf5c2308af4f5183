/**
 * Fixed, log-spaced latency buckets shared by every histogram, so that histograms of
 * different seconds add up by index. Bucket 0 holds [0, 1 ms); bucket i (1..N) holds
 * [1 ms · G^(i-1), 1 ms · G^i); the last bucket holds everything from ~30 s up.
 * G = 1.1 gives ~110 buckets: each is 10 % wide, so a 150 ms shift at any percentile
 * moves it across many buckets, and interpolation keeps the error well under 10 %.
 */
const MIN_MS = 1
const MAX_MS = 30_000
const GROWTH = 1.1
const LOG_GROWTH = Math.log(GROWTH)
const LOG_BUCKETS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_GROWTH)

/** Number of counters in one histogram: underflow + log buckets + overflow. */
export const LATENCY_BUCKETS = LOG_BUCKETS + 2

/** Lower bound (ms) of bucket `index`. */
function lowerMs(index: number): number {
  return index === 0 ? 0 : MIN_MS * GROWTH ** (index - 1)
}

/** Index of the bucket that holds `ms`. */
export function bucketOf(ms: number): number {
  if (!(ms >= MIN_MS)) return 0 // also catches NaN and negatives (clock steps): count them as instant
  const index = 1 + Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH)
  return Math.min(index, LATENCY_BUCKETS - 1)
}

/** The fields of one summed window a percentile needs. */
export interface HistogramSummary {
  counts: ArrayLike<number>
  total: number
  /** Smallest and largest latency seen (ms); they bound the interpolation at both ends. */
  minMs: number
  maxMs: number
}

/**
 * The q-quantile (0..1) in ms, interpolated linearly inside the bucket that holds it and
 * clamped to the observed min/max (so a window of identical latencies reports them exactly,
 * and the open-ended overflow bucket reports no more than what was seen). null when empty.
 */
export function quantileMs({ counts, total, minMs, maxMs }: HistogramSummary, q: number): number | null {
  if (total <= 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0
    if (count === 0) continue
    if (seen + count >= rank) {
      const lo = Math.max(lowerMs(i), minMs)
      const hi = Math.min(i === counts.length - 1 ? maxMs : lowerMs(i + 1), maxMs)
      const value = lo + ((rank - seen) / count) * (hi - lo)
      return Math.min(Math.max(value, minMs), maxMs)
    }
    seen += count
  }
  return maxMs
}
