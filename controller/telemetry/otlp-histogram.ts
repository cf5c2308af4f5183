/**
 * Span durations as fixed, log-spaced buckets: bucket 0 holds everything up to 0.1 ms, and
 * bucket i > 0 the durations in (0.1 ms × 1.1^(i-1), 0.1 ms × 1.1^i], up to the last
 * bucket, which holds everything longer (about an hour and more). Fixed bounds make
 * histograms mergeable by adding counts per bucket, across seconds, versions' windows and
 * servers (the store adds them in SQL); a quantile read from them is within 10 %.
 */

const BASE_MS = 0.1
const GROWTH = 1.1
export const BUCKET_COUNT = 185
const LOG_GROWTH = Math.log(GROWTH)

/** The bucket a duration (ms) falls in. */
export function bucketOf(durationMs: number): number {
  if (!(durationMs > BASE_MS)) return 0
  const index = Math.ceil(Math.log(durationMs / BASE_MS) / LOG_GROWTH - 1e-9)
  return Math.min(BUCKET_COUNT - 1, Math.max(1, index))
}

/** A bucket's upper bound in ms (the last bucket's is its lower bound: it is open-ended). */
export function bucketUpperMs(bucket: number): number {
  return BASE_MS * GROWTH ** Math.min(bucket, BUCKET_COUNT - 2)
}

/**
 * The q-quantile (0 < q <= 1) in seconds of a histogram given as bucket -> count, or null
 * when it is empty. The answer is the upper bound of the bucket holding the q-th duration,
 * so it never understates a slowdown.
 */
export function quantileSeconds(buckets: ReadonlyMap<number, number>, q: number): number | null {
  let total = 0
  for (const count of buckets.values()) total += count
  if (total <= 0) return null
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(bucket) ?? 0
    if (seen >= rank) return bucketUpperMs(bucket) / 1000
  }
  return null
}
