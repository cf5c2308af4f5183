/** Where one version of an application answers, e.g. { version: 'v2', url: 'http://127.0.0.1:41234' }. */
export interface Upstream {
  version: string
  url: string
}

/** Requests, errors and latency of one version over a window. Latencies in seconds; null = no requests. */
export interface VersionStats {
  requests: number
  /** 5xx answers plus connection failures (counted as 502 by the proxy). */
  errors: number
  latencyP50: number | null
  latencyP95: number | null
  latencyP99: number | null
  /**
   * Requests per latency bucket (controller/proxy/latency-histogram.ts's fixed 10 % buckets),
   * so a judge can count requests above a threshold; absent when the reader keeps none.
   */
  latencyHistogram?: readonly number[]
}

/** Per-version RED metrics the proxy records, readable over any recent window. */
export interface RedMetricsReader {
  /** Stats of requests that finished in [fromMs, toMs). */
  window(version: string, fromMs: number, toMs: number): VersionStats
}

export interface ProxyRoutes {
  stable: Upstream | null
  canary: Upstream | null
  /** Percent (0..100) of new requests sent to the canary when both exist. */
  weight: number
}
