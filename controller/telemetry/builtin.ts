import type { RedMetricsReader, VersionStats } from '../proxy/types.ts'
import { NoDataError, type TelemetryProvider, type VersionWindow, type WindowQuery, type WindowSample } from './provider.ts'

/** Signals of Sentra's own proxy, per version and window. */
function toWindow(version: string, stats: VersionStats, seconds: number): VersionWindow {
  const { requests, errors } = stats
  return {
    version,
    requests,
    errors,
    values: {
      requestRate: seconds > 0 ? requests / seconds : null,
      // No requests is no data, not a 0 % error rate.
      errorRate: requests > 0 ? errors / requests : null,
      latencyP50: stats.latencyP50,
      latencyP95: stats.latencyP95,
      latencyP99: stats.latencyP99,
    },
  }
}

const EMPTY: VersionStats = { requests: 0, errors: 0, latencyP50: null, latencyP95: null, latencyP99: null }

/**
 * The built-in provider: reads the RED metrics Sentra's proxy records for the canary and
 * the stable version. Signals it does not measure (the OTLP ones) come back as no data.
 */
export class BuiltinProvider implements TelemetryProvider {
  readonly kind = 'builtin'
  readonly #metricsFor: (application: string) => RedMetricsReader | undefined

  constructor(metricsFor: (application: string) => RedMetricsReader | undefined) {
    this.#metricsFor = metricsFor
  }

  async sample(q: WindowQuery, signal: AbortSignal): Promise<WindowSample> {
    signal.throwIfAborted()
    const metrics = this.#metricsFor(q.application)
    if (!metrics) throw new NoDataError(`no proxy is serving ${q.application}, so there is no built-in telemetry for it`)
    const from = q.start.getTime()
    const to = q.end.getTime()
    const seconds = (to - from) / 1000
    return {
      provider: this.kind,
      start: q.start,
      end: q.end,
      canaryWeight: q.canaryWeight,
      canary: toWindow(q.canaryVersion, metrics.window(q.canaryVersion, from, to), seconds),
      baseline: toWindow(q.baselineVersion ?? '', q.baselineVersion ? metrics.window(q.baselineVersion, from, to) : EMPTY, seconds),
    }
  }

  async ping(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
  }
}
