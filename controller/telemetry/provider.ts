import type { GateSpec } from '../../schema/spec.ts'

/** What one version did over one window. Rates and ratios are fractions, durations seconds. */
export interface VersionWindow {
  version: string
  /** Requests seen in the window; null when the provider cannot count them. */
  requests: number | null
  /** Failed requests in the window; null when the provider cannot count them. */
  errors: number | null
  /**
   * Values by key: a built-in signal name (`errorRate`, `latencyP95`, ...) for the built-in
   * provider, the gate name for a provider query. null means "no data", never zero.
   */
  values: Record<string, number | null>
  /** Why a value is null, by the same key (e.g. Prometheus's own error text), when the provider knows. */
  reasons?: Record<string, string>
  /**
   * Built-in provider only: requests per latency bucket of Sentra's proxy (fixed 10 % buckets,
   * controller/proxy/latency-histogram.ts), for the sequential judge's tail-latency counts.
   */
  latencyHistogram?: readonly number[]
}

/** The canary and the baseline (stable) over the same window. */
export interface WindowSample {
  provider: string
  start: Date
  end: Date
  /** Percent of traffic the canary had during the window (as actuated). */
  canaryWeight: number
  canary: VersionWindow
  baseline: VersionWindow
}

export interface WindowQuery {
  application: string
  canaryVersion: string
  /** null for an initial deploy or blue/green preview with nothing to compare against. */
  baselineVersion: string | null
  start: Date
  end: Date
  canaryWeight: number
  /** The gates this provider answers for in this window. */
  gates: readonly GateSpec[]
  /** The application's evaluation interval (`{{interval}}` in queries). */
  intervalMs?: number
}

/** Typed "no values": becomes an INCONCLUSIVE verdict, never a pass (and never a fail). */
export class NoDataError extends Error {
  override readonly name = 'NoDataError'
}

/**
 * One file per backend implements it (builtin.ts, prometheus.ts, ...). Measurements are
 * values; a provider throws only for "could not ask" (NoDataError for "asked, nothing there").
 */
export interface TelemetryProvider {
  readonly kind: string
  sample(q: WindowQuery, signal: AbortSignal): Promise<WindowSample>
  /** Reachability, checked before a rollout starts. */
  ping(signal: AbortSignal): Promise<void>
  /**
   * A dry run of a gate's query (templates rendered for `vars`): rejects with the provider's
   * own message when the query does not parse or cannot run. No data is not a failure here.
   */
  checkQuery?(query: string, signal: AbortSignal, vars: { application?: string; version?: string }): Promise<void>
}
