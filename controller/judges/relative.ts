/**
 * The relative judge: the canary is compared with the baseline (stable) over the same
 * window. One-sided: only worse (higher) fails; a canary better than its baseline passes.
 * It fails when the canary exceeds baseline + maxIncrease, or baseline × maxRatio.
 *
 * A ratio against a baseline of (nearly) 0 says nothing: 0.02 % errors against 0 % is an
 * "infinite" ratio but one failed request. So the ratio is measured against
 * max(baseline, floor), with a floor per unit ({@link RATIO_FLOORS}) below which differences
 * are noise. A provider query has no known unit and so no floor: against a baseline of 0
 * (or below) its ratio cannot judge at all; maxIncrease still does, and with maxRatio alone
 * the verdict is INCONCLUSIVE (it never passes by default) unless the canary is no worse
 * than the baseline.
 */
import type { GateSpec, RelativeJudgeSpec } from '../../schema/spec.ts'
import type { SignalUnit } from '../../schema/spec/signals.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { formatApart, formatIncrease, formatRatio, formatValue } from './format.ts'
import type { GateVerdict, Judge } from './judge.ts'
import { MIN_CANARY_REQUESTS, type Thresholds, clearlyAbove, readLatest, verdictOf } from './reading.ts'

const KIND = 'relative'

/** The smallest baseline a ratio is measured against, per unit: 0.1 %, 1 ms, 0.01 req/s. */
export const RATIO_FLOORS: Readonly<Record<SignalUnit, number>> = {
  fraction: 0.001,
  seconds: 0.001,
  'req/s': 0.01,
}

/** Pure: judges the last window of `history`, canary against baseline, per `spec`. */
export function judgeRelative(spec: RelativeJudgeSpec, history: readonly WindowSample[], gate: GateSpec): GateVerdict {
  const maxIncrease = spec.maxIncrease ?? null
  const maxRatio = spec.maxRatio ?? null
  const thresholds: Thresholds = { maxIncrease, maxRatio }
  const read = readLatest(KIND, history, gate, thresholds)
  if (!read.ok) return read.verdict
  const r = read.reading

  const baselineRequests = r.sample.baseline.requests
  if (r.baseline === null) return verdictOf(KIND, r, 'INCONCLUSIVE', 'no baseline to compare with', thresholds)
  // A baseline from a handful of requests is as noisy as such a canary: no comparison.
  if (baselineRequests !== null && baselineRequests < MIN_CANARY_REQUESTS) {
    const reason = `only ${baselineRequests} baseline request${baselineRequests === 1 ? '' : 's'} in the window; need ${MIN_CANARY_REQUESTS}`
    return verdictOf(KIND, r, 'INCONCLUSIVE', reason, thresholds)
  }

  const baseline = r.baseline
  const floor = r.unit === null ? 0 : RATIO_FLOORS[r.unit]
  const ratioBase = Math.max(baseline, floor)
  const ratioJudges = maxRatio !== null && ratioBase > 0
  const increaseLimit = maxIncrease === null ? null : baseline + maxIncrease
  const ratioLimit = ratioJudges && maxRatio !== null ? ratioBase * maxRatio : null
  const extra = { ratioFloor: r.unit === null ? null : floor, increaseLimit, ratioLimit }

  const limits = [maxIncrease === null ? null : formatIncrease(maxIncrease, r.unit), maxRatio === null ? null : formatRatio(maxRatio)]
    .filter((text) => text !== null)
    .join(' and ')
  let notes = ''
  if (maxRatio !== null && ratioJudges && baseline < floor) notes = ` (ratio against at least ${formatValue(floor, r.unit)})`
  if (maxRatio !== null && !ratioJudges) notes = ` (a ratio cannot judge a baseline of ${formatValue(baseline, r.unit)})`
  const sentence = (canary: string): string =>
    `${r.label} ${canary} vs ${formatValue(baseline, r.unit)} baseline ${r.over}; limit ${limits}${notes}`

  const overIncrease = increaseLimit !== null && r.canary > increaseLimit
  const overRatio = ratioLimit !== null && r.canary > ratioLimit
  if (overIncrease || overRatio) {
    // Name the (lowest) limit crossed, precise enough that the canary visibly exceeds it.
    const crossed = Math.min(...[increaseLimit, ratioLimit].filter((limit) => limit !== null))
    const [canary, limit] = formatApart(r.canary, crossed, r.unit)
    const { clearly, lowerBound } = clearlyAbove(r, crossed)
    if (!clearly) {
      const why = `${sentence(canary)}, so at most ${limit}; not yet clearly over it (99.5 % lower bound ${formatValue(lowerBound ?? 0, r.unit)} over ${r.sample.canary.requests} requests)`
      return verdictOf(KIND, r, 'INCONCLUSIVE', why, thresholds, { ...extra, lowerBound, state: 'collecting' })
    }
    return verdictOf(KIND, r, 'FAIL', `${sentence(canary)}, so at most ${limit}`, thresholds, { ...extra, lowerBound })
  }
  const reason = sentence(formatValue(r.canary, r.unit))
  // Only an unjudgeable ratio is left, and the canary is worse: no data is not a pass.
  if (increaseLimit === null && ratioLimit === null && r.canary > baseline) {
    return verdictOf(KIND, r, 'INCONCLUSIVE', `${reason}; add maxIncrease to judge it`, thresholds, extra)
  }
  return verdictOf(KIND, r, 'PASS', reason, thresholds, extra)
}

export function relativeJudge(spec: RelativeJudgeSpec): Judge {
  return { kind: KIND, judge: (history, gate) => judgeRelative(spec, history, gate) }
}
