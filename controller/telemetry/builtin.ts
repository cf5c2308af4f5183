import { BUILTIN_SIGNALS, isBuiltinSignal } from '../../schema/spec/signals.ts'
import type { RedMetricsReader, VersionStats } from '../proxy/types.ts'
import { type OtlpValues, type OtlpWindowReader, otlpUnavailable, otlpValues } from './otlp-signals.ts'
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
    ...(stats.latencyHistogram !== undefined && requests > 0 ? { latencyHistogram: stats.latencyHistogram } : {}),
  }
}

/** No proxy serves the application (e.g. only OTLP signals are judged): its signals are no data. */
function withoutProxy(version: string, application: string): VersionWindow {
  const reason = `no proxy is serving ${application}, so there are no proxy signals for it`
  return {
    version,
    requests: null,
    errors: null,
    values: { requestRate: null, errorRate: null, latencyP50: null, latencyP95: null, latencyP99: null },
    reasons: { requestRate: reason, errorRate: reason, latencyP50: reason, latencyP95: reason, latencyP99: reason },
  }
}

function withOtlp(window: VersionWindow, otlp: OtlpValues): VersionWindow {
  return { ...window, values: { ...window.values, ...otlp.values }, reasons: { ...window.reasons, ...otlp.reasons } }
}

const EMPTY: VersionStats = { requests: 0, errors: 0, latencyP50: null, latencyP95: null, latencyP99: null }

/**
 * The built-in provider: reads the RED metrics Sentra's proxy records for the canary and
 * the stable version, and, when a gate asks for an OTLP signal, the OTLP receiver's
 * aggregates from the store (so it works whichever process received them).
 */
export class BuiltinProvider implements TelemetryProvider {
  readonly kind = 'builtin'
  readonly #metricsFor: (application: string) => RedMetricsReader | undefined
  readonly #otlp: OtlpWindowReader | null

  constructor(metricsFor: (application: string) => RedMetricsReader | undefined, otlp: OtlpWindowReader | null = null) {
    this.#metricsFor = metricsFor
    this.#otlp = otlp
  }

  async sample(q: WindowQuery, signal: AbortSignal): Promise<WindowSample> {
    signal.throwIfAborted()
    const metrics = this.#metricsFor(q.application)
    const wantsOtlp = q.gates.some((g) => isBuiltinSignal(g.signal) && BUILTIN_SIGNALS[g.signal].source === 'otlp')
    if (!metrics && !(wantsOtlp && this.#otlp)) throw new NoDataError(`no proxy is serving ${q.application}, so there is no built-in telemetry for it`)
    const from = q.start.getTime()
    const to = q.end.getTime()
    const seconds = (to - from) / 1000
    const baselineVersion = q.baselineVersion ?? ''
    let canary = metrics ? toWindow(q.canaryVersion, metrics.window(q.canaryVersion, from, to), seconds) : withoutProxy(q.canaryVersion, q.application)
    let baseline = metrics
      ? toWindow(baselineVersion, q.baselineVersion ? metrics.window(q.baselineVersion, from, to) : EMPTY, seconds)
      : withoutProxy(baselineVersion, q.application)
    if (wantsOtlp) {
      if (!this.#otlp) {
        const none = otlpUnavailable('this controller reads no OTLP aggregates')
        canary = withOtlp(canary, none)
        baseline = withOtlp(baseline, none)
      } else {
        try {
          const versions = q.baselineVersion ? [q.canaryVersion, q.baselineVersion] : [q.canaryVersion]
          const windows = await this.#otlp.window(q.application, versions, from, to)
          signal.throwIfAborted()
          canary = withOtlp(canary, otlpValues(windows.get(q.canaryVersion), q.application, q.canaryVersion))
          baseline = withOtlp(baseline, q.baselineVersion ? otlpValues(windows.get(q.baselineVersion), q.application, q.baselineVersion) : otlpUnavailable('no baseline version'))
        } catch (error) {
          if (signal.aborted) throw error
          const none = otlpUnavailable(`cannot read the OTLP aggregates: ${error instanceof Error ? error.message : String(error)}`)
          canary = withOtlp(canary, none)
          baseline = withOtlp(baseline, none)
        }
      }
    }
    return { provider: this.kind, start: q.start, end: q.end, canaryWeight: q.canaryWeight, canary, baseline }
  }

  async ping(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
  }
}
