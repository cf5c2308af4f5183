/**
 * The threshold judge: the canary's value must stay within [min, max] (inclusive; an unset
 * bound does not constrain). It ignores the baseline, so it also works when there is none.
 */
import type { GateSpec, ThresholdJudgeSpec } from '../../schema/spec.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { type ValueUnit, formatApart, formatValue } from './format.ts'
import type { GateVerdict, Judge } from './judge.ts'
import { type Thresholds, clearlyAbove, readLatest, verdictOf } from './reading.ts'

const KIND = 'threshold'

/** Pure: judges the last window of `history` against `spec`'s bounds. */
export function judgeThreshold(spec: ThresholdJudgeSpec, history: readonly WindowSample[], gate: GateSpec): GateVerdict {
  const min = spec.min ?? null
  const max = spec.max ?? null
  const thresholds: Thresholds = { min, max }
  const read = readLatest(KIND, history, gate, thresholds)
  if (!read.ok) return read.verdict

  const r = read.reading
  const shown = (text: string): string => `${r.label} ${text} ${r.over}`
  if (max !== null && r.canary > max) {
    const [value, limit] = formatApart(r.canary, max, r.unit)
    const { clearly, lowerBound } = clearlyAbove(r, max)
    if (!clearly) {
      const why = `${shown(value)}; above the limit of ${limit} but not yet clearly (99.5 % lower bound ${formatValue(lowerBound ?? 0, r.unit)} over ${r.sample.canary.requests} requests)`
      return verdictOf(KIND, r, 'INCONCLUSIVE', why, thresholds, { lowerBound, state: 'collecting' })
    }
    return verdictOf(KIND, r, 'FAIL', `${shown(value)}; above the limit of ${limit}`, thresholds, { lowerBound })
  }
  if (min !== null && r.canary < min) {
    const [value, limit] = formatApart(r.canary, min, r.unit)
    return verdictOf(KIND, r, 'FAIL', `${shown(value)}; below the minimum of ${limit}`, thresholds)
  }
  return verdictOf(KIND, r, 'PASS', `${shown(formatValue(r.canary, r.unit))}; limit ${rangeText(min, max, r.unit)}`, thresholds)
}

/** "≤ 250 ms", "≥ 10.0 req/s", "1.0 %–5.0 %". */
function rangeText(min: number | null, max: number | null, unit: ValueUnit): string {
  if (min !== null && max !== null) return `${formatValue(min, unit)}–${formatValue(max, unit)}`
  if (max !== null) return `≤ ${formatValue(max, unit)}`
  if (min !== null) return `≥ ${formatValue(min, unit)}`
  // The spec requires at least one bound; without any, every value is within range.
  return 'none'
}

export function thresholdJudge(spec: ThresholdJudgeSpec): Judge {
  return { kind: KIND, judge: (history, gate) => judgeThreshold(spec, history, gate) }
}
