/**
 * What every judge reads from the latest window before it compares anything: the gate's
 * value, the traffic behind it, and the evidence to store. "No data is not a pass": a missing
 * window, a missing or non-finite value, or too little traffic ends here as INCONCLUSIVE.
 */
import type { GateSpec } from '../../schema/spec.ts'
import type { Json } from '../../schema/store/models.ts'
import type { VersionWindow, WindowSample } from '../telemetry/provider.ts'
import { type ValueUnit, formatWindowSeconds, labelOf, unitOf, valueKey } from './format.ts'
import type { GateVerdict } from './judge.ts'

/**
 * Fewest canary requests a window needs before a judge looks at its values: below it, one
 * unlucky request swings an error rate by whole percents. Fixed for now (a judge spec may
 * not override it), and applied to the baseline too where a judge compares against it.
 */
export const MIN_CANARY_REQUESTS = 20

/**
 * Requests a latency quantile needs before it means anything: a p95 of 20 requests is
 * decided by its slowest one. Other values need {@link MIN_CANARY_REQUESTS}.
 */
const QUANTILE_MIN_REQUESTS: Readonly<Record<string, number>> = { latencyP95: 60, latencyP99: 200, spanDurationP95: 60 }

/** Fewest canary requests the value under `key` needs before a judge looks at it. */
export function minRequestsFor(key: string): number {
  return QUANTILE_MIN_REQUESTS[key] ?? MIN_CANARY_REQUESTS
}

// z for a one-sided 99.5 % bound: a canary is "clearly" worse only past sampling noise.
const Z = 2.576

/** Wilson score lower bound of a proportion `errors / requests`. */
export function wilsonLower(errors: number, requests: number, z = Z): number {
  if (requests <= 0) return 0
  const p = errors / requests
  const z2 = z * z
  const centre = p + z2 / (2 * requests)
  const spread = z * Math.sqrt((p * (1 - p)) / requests + z2 / (4 * requests * requests))
  return Math.max(0, (centre - spread) / (1 + z2 / requests))
}

/**
 * Whether a canary value above `limit` is clearly above it rather than a few unlucky
 * requests: for an error-rate style fraction with request counts, the Wilson lower bound of
 * the canary's rate must exceed the limit. Other values (no counts) are taken as measured.
 * A canary over the limit but not yet clearly is "collecting" evidence (state in the
 * verdict's evidence): data is there, so it does not count toward the inconclusive limit.
 */
export function clearlyAbove(reading: Reading, limit: number): { clearly: boolean; lowerBound: number | null } {
  const { requests, errors } = countsOf(reading.sample.canary, reading.key)
  if (reading.unit !== 'fraction' || requests === null || errors === null) return { clearly: true, lowerBound: null }
  const lowerBound = wilsonLower(errors, requests)
  return { clearly: lowerBound > limit, lowerBound }
}

export type Thresholds = { [key: string]: number | null }

/**
 * The traffic behind a value: requests and errors for `errorRate`; for a signal that
 * reports its own counts (the OTLP ones: `<key>.total`, `<key>.errors`) those; else the
 * window's requests and no error count.
 */
export function countsOf(version: VersionWindow, key: string): { requests: number | null; errors: number | null } {
  if (key === 'errorRate') return { requests: version.requests, errors: version.errors }
  const total = finite(version.values[`${key}.total`])
  if (total === null) return { requests: version.requests, errors: null }
  return { requests: total, errors: finite(version.values[`${key}.errors`]) }
}

/** What the counts of `key` count, for "only 3 canary traces in the window". */
function itemsOf(key: string): string {
  return key === 'traceErrorRate' ? 'trace' : key === 'spanDurationP95' ? 'span' : key === 'logErrorRatio' ? 'log record' : 'request'
}

/** The latest window, read for one gate; `canary` is finite (the judge may compare it). */
export interface Reading {
  gate: GateSpec
  sample: WindowSample
  key: string
  label: string
  unit: ValueUnit
  canary: number
  /** null when the baseline had no (finite) value. */
  baseline: number | null
  /** "over the last 20 s" */
  over: string
}

export type ReadResult = { ok: true; reading: Reading } | { ok: false; verdict: GateVerdict }

/** Finite numbers pass through; null, NaN and ±Infinity become null (JSON has no NaN). */
export function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/**
 * Everything needed to re-check a verdict later, JSON-safe (dates as ISO strings, no NaN).
 * `window` is null when there was no window at all.
 */
export function evidenceOf(
  judge: string,
  gate: GateSpec,
  sample: WindowSample | undefined,
  thresholds: Thresholds,
  extra: { [key: string]: Json } = {},
): { [key: string]: Json } {
  const key = valueKey(gate)
  return {
    judge,
    key,
    signal: gate.signal ?? null,
    query: gate.query ?? null,
    provider: sample?.provider ?? gate.provider ?? null,
    unit: unitOf(gate),
    canary: finite(sample?.canary.values[key]),
    baseline: finite(sample?.baseline.values[key]),
    thresholds: { ...thresholds },
    window:
      sample === undefined
        ? null
        : { start: sample.start.toISOString(), end: sample.end.toISOString(), seconds: windowSeconds(sample) },
    canaryRequests: finite(sample?.canary.requests),
    baselineRequests: finite(sample?.baseline.requests),
    canaryErrors: finite(sample?.canary.errors),
    baselineErrors: finite(sample?.baseline.errors),
    minRequests: MIN_CANARY_REQUESTS,
    ...extra,
  }
}

function windowSeconds(sample: WindowSample): number {
  return Math.max(0, (sample.end.getTime() - sample.start.getTime()) / 1000)
}

/**
 * Reads the last window of `history` for `gate`. Checks, in order: a window exists; the
 * canary saw enough requests (when the provider counts them; a provider query that cannot
 * count requests is judged on its value alone); the canary value is a finite number.
 * The baseline is read but not required: only the relative judge needs it.
 */
export function readLatest(judge: string, history: readonly WindowSample[], gate: GateSpec, thresholds: Thresholds): ReadResult {
  const sample = history.at(-1)
  const key = valueKey(gate)
  const inconclusive = (reason: string): ReadResult => ({
    ok: false,
    verdict: {
      gate: gate.name,
      verdict: 'INCONCLUSIVE',
      value: finite(sample?.canary.values[key]),
      baseline: finite(sample?.baseline.values[key]),
      reason,
      evidence: evidenceOf(judge, gate, sample, thresholds),
    },
  })

  if (sample === undefined) return inconclusive(`no telemetry window for ${key} yet`)
  const { requests } = countsOf(sample.canary, key)
  const needed = minRequestsFor(key)
  if (requests !== null && requests < needed) {
    return inconclusive(`only ${requests} canary ${itemsOf(key)}${requests === 1 ? '' : 's'} in the window; need ${needed}`)
  }
  const raw = sample.canary.values[key]
  if (raw === undefined || raw === null) {
    const why = sample.canary.reasons?.[key]
    return inconclusive(why ? `no canary data for ${key}: ${why}` : `no canary data for ${key} in the window`)
  }
  if (!Number.isFinite(raw)) return inconclusive(`no usable canary data for ${key} in the window (got ${raw})`)

  return {
    ok: true,
    reading: {
      gate,
      sample,
      key,
      label: labelOf(gate),
      unit: unitOf(gate),
      canary: raw,
      baseline: finite(sample.baseline.values[key]),
      over: `over the last ${formatWindowSeconds(windowSeconds(sample))}`,
    },
  }
}

/** A verdict from a successful reading. */
export function verdictOf(
  judge: string,
  reading: Reading,
  verdict: GateVerdict['verdict'],
  reason: string,
  thresholds: Thresholds,
  extra: { [key: string]: Json } = {},
): GateVerdict {
  return {
    gate: reading.gate.name,
    verdict,
    value: reading.canary,
    baseline: reading.baseline,
    reason,
    evidence: evidenceOf(judge, reading.gate, reading.sample, thresholds, extra),
  }
}
