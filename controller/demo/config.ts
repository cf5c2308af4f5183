/**
 * The demo as a process of its own (`npm run demo`, the image's `demo` role): where its
 * proxy listens, where its load goes and where its versions export telemetry, from the
 * environment. Used by the compose stack, where the demo versions run inside whichever
 * controller holds the rollout.
 */
export interface DemoProcessConfig {
  /** SENTRA_DEMO_HOST: the proxy's listen host (e.g. 0.0.0.0 in a container). */
  host: string
  /** SENTRA_DEMO_LOAD_URLS: comma-separated http URLs the load is spread over. */
  loadUrls: string[]
  /** SENTRA_DEMO_OTLP_ENDPOINT: an OTLP/HTTP endpoint that needs no token (a collector). */
  exportTo: string | null
  /** SENTRA_DEMO_RATE: requests per second in all (1-1000). */
  rate: number
}

export class DemoConfigError extends Error {}

function httpUrl(name: string, raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new DemoConfigError(`${name}: "${raw.slice(0, 100)}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DemoConfigError(`${name}: "${raw.slice(0, 100)}" is not an http(s) URL`)
  if (url.username || url.password) throw new DemoConfigError(`${name}: "${url.host}" must not carry credentials`)
  return url.toString()
}

export function readDemoConfig(env: NodeJS.ProcessEnv): DemoProcessConfig {
  const host = env.SENTRA_DEMO_HOST || '127.0.0.1'
  if (!/^[a-zA-Z0-9.:-]{1,253}$/.test(host)) throw new DemoConfigError(`SENTRA_DEMO_HOST: "${host.slice(0, 100)}" is not a host name or address`)
  const urls = (env.SENTRA_DEMO_LOAD_URLS ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '')
  if (urls.length > 16) throw new DemoConfigError(`SENTRA_DEMO_LOAD_URLS: at most 16 URLs (got ${urls.length})`)
  const rateText = env.SENTRA_DEMO_RATE || '100'
  const rate = Number(rateText)
  if (!/^\d+$/.test(rateText) || rate < 1 || rate > 1000) throw new DemoConfigError(`SENTRA_DEMO_RATE: "${rateText.slice(0, 20)}" must be a whole number of requests per second from 1 to 1000`)
  return {
    host,
    loadUrls: urls.map((url) => httpUrl('SENTRA_DEMO_LOAD_URLS', url)),
    exportTo: env.SENTRA_DEMO_OTLP_ENDPOINT ? httpUrl('SENTRA_DEMO_OTLP_ENDPOINT', env.SENTRA_DEMO_OTLP_ENDPOINT).replace(/\/+$/, '') : null,
    rate,
  }
}
