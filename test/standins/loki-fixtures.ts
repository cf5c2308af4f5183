/** Test data for the Loki stand-in: a version's log lines with a given share of error lines. */
import type { LokiStandin } from './loki.ts'

export interface VersionLogs {
  application: string
  version: string
  /** Lines are spread evenly over (from, to]. */
  from: Date
  to: Date
  lines: number
  /** Share of error lines, 0..1, spread evenly (deterministic). */
  errorRatio: number
  /** Extra stream labels. */
  labels?: Record<string, string>
}

export const ERROR_LINE = 'level=error msg="upstream failed" status=500 path=/checkout'
export const INFO_LINE = 'level=info msg="request served" status=200 path=/checkout'

/** Pushes the lines under `{app, version, ...labels}`; returns how many are error lines. */
export function pushVersionLogs(loki: LokiStandin, logs: VersionLogs): { errors: number; total: number } {
  const span = logs.to.getTime() - logs.from.getTime()
  let errors = 0
  const lines = Array.from({ length: logs.lines }, (_, i) => {
    const error = Math.floor((i + 1) * logs.errorRatio) > Math.floor(i * logs.errorRatio)
    if (error) errors += 1
    return {
      time: logs.from.getTime() + (span * (i + 1)) / logs.lines,
      line: `${error ? ERROR_LINE : INFO_LINE} seq=${i}`,
    }
  })
  loki.push({ app: logs.application, version: logs.version, ...(logs.labels ?? {}) }, lines)
  return { errors, total: logs.lines }
}

/** `errors / all lines` of a version, with `or vector(0)` so no error lines reads as 0, not "no data". */
export const ERROR_RATIO_QUERY =
  '(sum(count_over_time({app="{{application}}", version="{{version}}"} |= "level=error" [{{window}}])) or vector(0))' +
  ' / sum(count_over_time({app="{{application}}", version="{{version}}"} [{{window}}]))'
