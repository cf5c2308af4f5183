import type { OtlpWindow } from '../../schema/store/otlp.ts'
import { quantileSeconds } from './otlp-histogram.ts'

/** The built-in signals the OTLP receiver measures (DESIGN.md, "Built-in signals"). */
export const OTLP_SIGNALS = ['traceErrorRate', 'spanDurationP95', 'logErrorRatio'] as const

/** What the built-in provider reads from the receiver's aggregates (store.otlp). */
export interface OtlpWindowReader {
  window(application: string, versions: readonly string[], fromMs: number, toMs: number): Promise<Map<string, OtlpWindow>>
}

export interface OtlpValues {
  values: Record<string, number | null>
  reasons: Record<string, string>
}

/**
 * One version's OTLP signals over a window. Ratios come with their counts under
 * `<signal>.errors` / `<signal>.total` (the sequential judge tests counts; the other judges
 * use `.total` for the minimum-traffic rule), spanDurationP95 with `.total` (entry spans
 * measured). Nothing received is no data (null with the reason), never 0.
 */
export function otlpValues(window: OtlpWindow | undefined, application: string, version: string): OtlpValues {
  const w = window
  const who = `${application} ${version}`
  const values: Record<string, number | null> = {
    traceErrorRate: w && w.traces > 0 ? w.errorTraces / w.traces : null,
    'traceErrorRate.errors': w ? w.errorTraces : null,
    'traceErrorRate.total': w ? w.traces : null,
    spanDurationP95: w ? quantileSeconds(w.durations, 0.95) : null,
    'spanDurationP95.total': w ? [...w.durations.values()].reduce((a, b) => a + b, 0) : null,
    logErrorRatio: w && w.logs > 0 ? w.errorLogs / w.logs : null,
    'logErrorRatio.errors': w ? w.errorLogs : null,
    'logErrorRatio.total': w ? w.logs : null,
  }
  const reasons: Record<string, string> = {}
  if (values.traceErrorRate === null) reasons.traceErrorRate = `no traces of ${who} reached the OTLP receiver in the window`
  if (values.spanDurationP95 === null) reasons.spanDurationP95 = `no server or root spans of ${who} reached the OTLP receiver in the window`
  if (values.logErrorRatio === null) reasons.logErrorRatio = `no log records of ${who} reached the OTLP receiver in the window`
  return { values, reasons }
}

/** The same signals as no data with one reason (the store could not be read). */
export function otlpUnavailable(reason: string): OtlpValues {
  const values: Record<string, number | null> = {}
  const reasons: Record<string, string> = {}
  for (const signal of OTLP_SIGNALS) {
    values[signal] = null
    reasons[signal] = reason
  }
  return { values, reasons }
}
