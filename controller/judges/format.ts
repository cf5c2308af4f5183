/**
 * Plain-words formatting for verdict reasons. People read these in the dashboard and the
 * CLI while deciding whether to intervene, so values carry their units the way an operator
 * thinks of them: fractions as percent, seconds as milliseconds, rates as req/s.
 */
import type { GateSpec } from '../../schema/spec.ts'
import { type SignalUnit, signalInfo } from '../../schema/spec/signals.ts'

/** A gate's unit; null for a provider query, whose unit Sentra cannot know. */
export type ValueUnit = SignalUnit | null

export function unitOf(gate: GateSpec): ValueUnit {
  return gate.signal === undefined ? null : signalInfo(gate.signal).unit
}

/** The key a gate's value is stored under in a window: the signal, else the gate's name. */
export function valueKey(gate: GateSpec): string {
  return gate.signal ?? gate.name
}

const LABELS: Record<string, string> = {
  requestRate: 'request rate',
  errorRate: 'error rate',
  latencyP50: 'p50',
  latencyP95: 'p95',
  latencyP99: 'p99',
  traceErrorRate: 'trace error rate',
  spanDurationP95: 'span p95',
  logErrorRatio: 'log error ratio',
}

/** What the value is called in a sentence: "error rate", "p95", or the gate's name for a query. */
export function labelOf(gate: GateSpec): string {
  return gate.signal === undefined ? gate.name : (LABELS[gate.signal] ?? gate.signal)
}

/** Up to `digits` decimals, without trailing zeros: 1.50 -> "1.5", 2.00 -> "2". */
function trimmed(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)))
}

/**
 * One value in its unit: 0.079 fraction -> "7.9 %", 0.412 s -> "412 ms", 12.34 req/s ->
 * "12.3 req/s". Values too small for one decimal keep one significant digit, so a tiny but
 * non-zero error rate never reads as "0.0 %". `extra` adds decimals (see {@link formatApart}).
 */
export function formatValue(value: number, unit: ValueUnit, extra = 0): string {
  if (!Number.isFinite(value)) return String(value)
  switch (unit) {
    case 'fraction':
      return `${decimals(value * 100, 1 + extra)} %`
    case 'seconds':
      return Math.abs(value) >= 10 ? `${decimals(value, 1 + extra)} s` : `${milliseconds(value * 1000, extra)} ms`
    case 'req/s':
      return `${decimals(value, 1 + extra)} req/s`
    case null:
      return String(Number(value.toPrecision(4 + extra)))
  }
}

/**
 * Two values formatted so that they read differently when they differ: a canary at
 * 0.0501 against a 0.05 limit is "5.01 %" vs "5.00 %", never "5.0 %" vs "5.0 %".
 */
export function formatApart(a: number, b: number, unit: ValueUnit): [string, string] {
  for (let extra = 0; extra < 4; extra += 1) {
    const pair: [string, string] = [formatValue(a, unit, extra), formatValue(b, unit, extra)]
    if (a === b || pair[0] !== pair[1]) return pair
  }
  return [formatValue(a, unit, 4), formatValue(b, unit, 4)]
}

function decimals(n: number, digits: number): string {
  if (n !== 0 && Math.abs(n) < 0.5 * 10 ** -digits) return String(Number(n.toPrecision(1)))
  return n.toFixed(digits)
}

function milliseconds(ms: number, extra: number): string {
  if (Math.abs(ms) >= 100 && extra === 0) return String(Math.round(ms))
  return decimals(ms, extra === 0 ? 1 : extra)
}

/** An allowed increase: "+1.0 %", "+50 ms". */
export function formatIncrease(value: number, unit: ValueUnit): string {
  return `+${formatValue(value, unit)}`
}

/** An allowed ratio: "×1.5". */
export function formatRatio(ratio: number): string {
  return `×${trimmed(ratio, 3)}`
}

/** A window's length in seconds as read in a sentence: "20 s", "90 s", "5 min", "2 min 30 s". */
export function formatWindowSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return `${seconds} s`
  if (seconds < 120) return `${trimmed(seconds, seconds < 10 ? 1 : 0)} s`
  const whole = Math.round(seconds)
  const minutes = Math.floor(whole / 60)
  const rest = whole % 60
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`
}
