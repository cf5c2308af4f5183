import { fileURLToPath } from 'node:url'

export const DEMO_APPLICATION = 'demo'
export const DEMO_LISTEN_PORT = 4100

/** What each demo version does (services/demo.mjs): even versions are bad releases, odd ones good. */
export function demoVersionIsBad(version: string): boolean {
  const n = Number(/^v(\d+)$/.exec(version)?.[1] ?? Number.NaN)
  return Number.isInteger(n) && n % 2 === 0
}

/**
 * The demo application: services/demo.mjs behind Sentra's proxy, a quick canary (10 % →
 * 50 %, analysed on errors and p95 latency against the stable version), ticking every second.
 */
export function demoSpec({ port = DEMO_LISTEN_PORT, host = '127.0.0.1' }: { port?: number; host?: string } = {}): Record<string, unknown> {
  return {
    name: DEMO_APPLICATION,
    target: {
      kind: 'process',
      listen: `${host}:${port}`,
      command: [process.execPath, fileURLToPath(new URL('../../services/demo.mjs', import.meta.url))],
      env: { APP_VERSION: '{{version}}', PORT: '{{port}}' },
      healthPath: '/healthz',
    },
    strategy: {
      canary: {
        steps: [{ setWeight: 10 }, { analyze: { min: '15s', max: '2m' } }, { setWeight: 50 }, { analyze: { min: '15s', max: '2m' } }],
      },
    },
    gates: [
      { name: 'errors', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 0.03 } },
      { name: 'latency', signal: 'latencyP95', judge: { kind: 'relative', maxRatio: 2 } },
    ],
    interval: '1s',
    inconclusiveLimit: 30,
  }
}
