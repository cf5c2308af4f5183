import { fileURLToPath } from 'node:url'

export const DEMO_APPLICATION = 'demo'
export const DEMO_LISTEN_PORT = 4100

/** What each demo version does (services/demo.mjs): even versions are bad releases, odd ones good. */
export function demoVersionIsBad(version: string): boolean {
  const n = Number(/^v(\d+)$/.exec(version)?.[1] ?? Number.NaN)
  return Number.isInteger(n) && n % 2 === 0
}

/** Where the demo service exports its spans and logs (OTLP/HTTP), and the file holding its token. */
export interface DemoTelemetry {
  endpoint: string
  /** Absent when the endpoint needs no token (an OpenTelemetry Collector). */
  tokenFile?: string
}

/**
 * The demo application: services/demo.mjs behind Sentra's proxy, ticking every second, judged
 * by the sequential (anytime-valid) tests on errors and p95 latency against the stable version.
 * A bad release fails its gates within seconds at 25 %; a good one leaves each analysis as soon
 * as it is shown within its margins (errors ≤ baseline + 1 pp and ≤ 5 × the baseline's, p95
 * ≤ 1.5 × the baseline's; a p95 gate also fails a canary slower in its tail, above the p99),
 * and adaptive steps let it skip the 50 % step when the evidence leaves enough headroom.
 * With `telemetry`, each version also exports a span and a log record per request to
 * Sentra's OTLP receiver (services/demo-otel.mjs), so rollouts get linked traces.
 */
export function demoSpec({ port = DEMO_LISTEN_PORT, host = '127.0.0.1', telemetry }: { port?: number; host?: string; telemetry?: DemoTelemetry } = {}): Record<string, unknown> {
  return {
    name: DEMO_APPLICATION,
    target: {
      kind: 'process',
      listen: `${host}:${port}`,
      command: [process.execPath, fileURLToPath(new URL('../../services/demo.mjs', import.meta.url))],
      env: {
        APP_VERSION: '{{version}}',
        PORT: '{{port}}',
        ...(telemetry ? { OTEL_EXPORTER_OTLP_ENDPOINT: telemetry.endpoint } : {}),
        ...(telemetry?.tokenFile ? { SENTRA_OTLP_TOKEN_FILE: telemetry.tokenFile } : {}),
      },
      healthPath: '/healthz',
    },
    strategy: {
      canary: {
        steps: [
          { setWeight: 25 },
          { analyze: { min: '10s', max: '10m' } },
          { setWeight: 50 },
          { analyze: { min: '10s', max: '10m' } },
          { setWeight: 75 },
          { analyze: { min: '10s', max: '10m' } },
        ],
        adaptive: { maxStep: 50, risk: 0.5 },
      },
    },
    gates: [
      // The demo's good versions fail 0.3 % of requests: within 1 pp and ×5 is shown in about a minute at 25 %
      // (the default ×2 would take several minutes at the demo's 100 requests/s; the benchmark uses the defaults).
      { name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01, margin: '1%', maxRatio: 5 } },
      { name: 'latency', signal: 'latencyP95', judge: { kind: 'sequential', alpha: 0.01, margin: '50%' } },
    ],
    interval: '1s',
    // Two minutes without telemetry at 1 s ticks before asking a person (a scrape outage is not evidence).
    inconclusiveLimit: 120,
  }
}
