/** Pure parts of the proxy benchmark: percentiles, the nginx configuration, the verdicts. */

/** The q-quantile (0..1) of an ascending sample, by linear interpolation; null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  const a = sorted[low] as number
  const b = sorted[high] as number
  return a + (b - a) * (position - low)
}

/** The median of a non-empty list (mean of the middle two when even), or null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export interface LatencySummary {
  p50: number | null
  p99: number | null
  max: number | null
}

/** p50, p99 and max of an ascending sample of microseconds, in milliseconds (3 decimals). */
export function latencyMs(sortedUs: readonly number[]): LatencySummary {
  const ms = (us: number | null): number | null => (us === null ? null : Math.round(us) / 1000)
  return { p50: ms(quantile(sortedUs, 0.5)), p99: ms(quantile(sortedUs, 0.99)), max: ms(quantile(sortedUs, 1)) }
}

/**
 * CPU time (user + system, in clock ticks) of a process from the text of /proc/<pid>/stat.
 * Fields are counted after the command name's closing parenthesis, which may hold spaces.
 */
export function procStatCpuTicks(stat: string): number {
  const close = stat.lastIndexOf(')')
  if (close < 0) throw new Error('unreadable /proc/<pid>/stat: no command name')
  const fields = stat.slice(close + 2).trim().split(' ')
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) throw new Error('unreadable /proc/<pid>/stat: no utime/stime')
  return utime + stime
}

/** Microseconds of CPU per request (1 decimal), or null when either is unknown or zero requests. */
export function cpuMicrosPerRequest(cpuMs: number | null, requests: number): number | null {
  if (cpuMs === null || !(requests > 0)) return null
  return Math.round((cpuMs * 1000 * 10) / requests) / 10
}

export interface NginxConfigInput {
  prefix: string
  port: number
  stablePort: number
  canaryPort: number
  canaryWeight: number
}

/**
 * nginx as a weighted reverse proxy, the way an operator would put it in front of two
 * versions: one worker (Sentra's proxy is one Node thread), no access log (Sentra keeps
 * per-second counters, not a log line per request), keep-alive to the upstreams.
 */
export function nginxConfig(input: NginxConfigInput): string {
  const { prefix, port, stablePort, canaryPort, canaryWeight } = input
  if (!Number.isInteger(canaryWeight) || canaryWeight <= 0 || canaryWeight >= 100) throw new RangeError(`canaryWeight must be an integer in 1..99, got ${canaryWeight}`)
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${prefix}/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream versions {
    server 127.0.0.1:${stablePort} weight=${100 - canaryWeight};
    server 127.0.0.1:${canaryPort} weight=${canaryWeight};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://versions;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`
}

export interface Targets {
  /** The targets: p99 overhead <= 1 ms at 2,000 requests/s, >= 50 % of nginx's throughput. */
  p99OverheadMs: number | null
  throughputVsNginx: number | null
}

export function verdicts(t: Targets): { p99OverheadAtMost1ms: boolean | null; atLeastHalfOfNginx: boolean | null } {
  return {
    p99OverheadAtMost1ms: t.p99OverheadMs === null ? null : t.p99OverheadMs <= 1,
    atLeastHalfOfNginx: t.throughputVsNginx === null ? null : t.throughputVsNginx >= 0.5,
  }
}
