/** Sentra's built-in signals: what they measure, their unit and the range a threshold may take. */

export type SignalUnit = 'req/s' | 'fraction' | 'seconds'

export interface SignalInfo {
  /** Prometheus-style unit: rates and ratios are fractions (0.02 is 2 %), durations are seconds. */
  readonly unit: SignalUnit
  /** Smallest meaningful value (inclusive). */
  readonly min: number
  /** Largest meaningful value (inclusive); null when unbounded. */
  readonly max: number | null
  /** Who measures it: Sentra's proxy, or the OTLP receiver. */
  readonly source: 'proxy' | 'otlp'
  readonly description: string
}

/** Longest latency a threshold may name, in seconds (one hour). */
const MAX_LATENCY_SECONDS = 3600

export const BUILTIN_SIGNALS = {
  requestRate: { unit: 'req/s', min: 0, max: null, source: 'proxy', description: 'requests per second' },
  errorRate: { unit: 'fraction', min: 0, max: 1, source: 'proxy', description: 'share of requests that failed (5xx or no response)' },
  latencyP50: { unit: 'seconds', min: 0, max: MAX_LATENCY_SECONDS, source: 'proxy', description: 'median response time' },
  latencyP95: { unit: 'seconds', min: 0, max: MAX_LATENCY_SECONDS, source: 'proxy', description: '95th percentile response time' },
  latencyP99: { unit: 'seconds', min: 0, max: MAX_LATENCY_SECONDS, source: 'proxy', description: '99th percentile response time' },
  traceErrorRate: { unit: 'fraction', min: 0, max: 1, source: 'otlp', description: 'share of traces with an error span' },
  spanDurationP95: { unit: 'seconds', min: 0, max: MAX_LATENCY_SECONDS, source: 'otlp', description: '95th percentile server span duration' },
  logErrorRatio: { unit: 'fraction', min: 0, max: 1, source: 'otlp', description: 'share of log records at error severity or above' },
} as const satisfies Record<string, SignalInfo>

export type BuiltinSignal = keyof typeof BUILTIN_SIGNALS

export const BUILTIN_SIGNAL_NAMES = Object.keys(BUILTIN_SIGNALS) as BuiltinSignal[]

export function isBuiltinSignal(name: unknown): name is BuiltinSignal {
  return typeof name === 'string' && Object.hasOwn(BUILTIN_SIGNALS, name)
}

export function signalInfo(name: BuiltinSignal): SignalInfo {
  return BUILTIN_SIGNALS[name]
}

/** Plain-English statement of a signal's valid range, e.g. for `errorRate`:
 * `must be between 0 and 1 (errorRate is a fraction: 0.02 is 2 %)`. */
export function signalRangeMessage(name: BuiltinSignal): string {
  const info = signalInfo(name)
  const range = info.max === null ? `must be at least ${info.min}` : `must be between ${info.min} and ${info.max}`
  switch (info.unit) {
    case 'fraction':
      return `${range} (${name} is a fraction: 0.02 is 2 %)`
    case 'seconds':
      return `${range} (${name} is in seconds: 0.25 is 250 ms)`
    case 'req/s':
      return `${range} (${name} is in requests per second)`
  }
}
