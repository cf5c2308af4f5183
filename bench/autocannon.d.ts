/**
 * The part of autocannon 8's programmatic API the benchmarks use (the package ships no
 * types, and @types/autocannon is not a dependency). See node_modules/autocannon/README.md.
 */
declare module 'autocannon' {
  export interface Options {
    url: string
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS'
    headers?: Record<string, string>
    body?: string
    /** Concurrent connections. Default 10. */
    connections?: number
    /** Seconds. Default 10; ignored when `amount` is set. */
    duration?: number
    /** Requests to make before stopping; overrides `duration`. */
    amount?: number
    /** Seconds before a request counts as timed out. Default 10. */
    timeout?: number
    pipelining?: number
    /** Worker threads firing requests (connections are split between them). Default 0: this thread. */
    workers?: number
    title?: string
  }

  /** hdr-histogram-percentiles-obj: average, mean, stddev, min, max, total, p0_001 … p99_999. */
  export interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p2_5: number
    p50: number
    p75: number
    p90: number
    p97_5: number
    p99: number
    p99_9: number
    sent?: number
    totalCount?: number
  }

  export interface Result {
    title?: string
    url: string
    connections: number
    pipelining: number
    /** Seconds the run lasted. */
    duration: number
    samples: number
    start: Date
    finish: Date
    /** Connection errors, timeouts included. */
    errors: number
    timeouts: number
    mismatches: number
    non2xx: number
    resets: number
    '1xx': number
    '2xx': number
    '3xx': number
    '4xx': number
    '5xx': number
    statusCodeStats: Record<string, { count: number }>
    /** Milliseconds, 2xx responses only. */
    latency: Histogram
    /** Per-second request counts; `total` is every completed request, `sent` every request sent. */
    requests: Histogram
    /** Per-second bytes read. */
    throughput: Histogram
  }

  export interface Instance extends PromiseLike<Result> {
    stop(): void
    on(event: string, listener: (...args: unknown[]) => void): this
  }

  function autocannon(options: Options): Instance
  export default autocannon
}
