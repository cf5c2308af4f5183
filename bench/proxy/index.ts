/**
 * `npm run bench -- proxy`: the latency Sentra's weighted proxy adds and the throughput it
 * sustains, next to a direct connection and next to nginx configured as a weighted proxy,
 * in the same run on the same upstreams. See docs/benchmarks.md, section "Proxy".
 *
 * Processes (each alone, so none shares an event loop with another): two upstreams (v1 and
 * v2, bench/proxy/upstream.mjs), Sentra's proxy (bench/proxy/sentra-proxy.ts: the controller's
 * WeightedProxy, canary weight 10 %), nginx (one worker, the same 90/10 weights; skipped with
 * the reason when the `nginx` binary is missing: `apt-get install -y nginx-light`), and the
 * load generator (bench/proxy/load.mjs) for each measurement.
 *
 * Measurements per path (direct to v1, through Sentra, through nginx):
 * - open loop at BENCH_RATE requests/s (default 2000) for BENCH_SECONDS (default 10): p50/p99
 *   from each request's scheduled time;
 * - closed loop with BENCH_CONNECTIONS keep-alive connections (default 64) for BENCH_SECONDS:
 *   answered requests per second.
 * Overhead = the proxied p50/p99 minus the direct one. On a 2-core machine the load
 * generator, the proxy and the upstreams share the cores, which is the same for every path.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { latencyMs, nginxConfig, verdicts, type LatencySummary } from './summary.ts'

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
const RATE = Number(process.env.BENCH_RATE ?? 2000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const CANARY_WEIGHT = 10
const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']

interface LoadResult {
  sent: number
  ok: number
  failed: number
  seconds: number
  latencyUs: number[]
}

interface PathResult {
  atFixedRate: { requestsPerSecond: number; sent: number; failed: number; latencyMs: LatencySummary }
  maxThroughput: { connections: number; requestsPerSecond: number; failed: number; latencyMs: LatencySummary }
}

/** Starts a child that prints one JSON line with its port when it is ready. */
function startReporting(command: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const line = buffered.split('\n')[0]
      if (buffered.includes('\n') && line) resolve({ child, port: (JSON.parse(line) as { port: number }).port })
    })
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)))
    child.once('error', reject)
  })
}

function runLoad(mode: 'rate' | 'max', url: string, amount: number, seconds: number): Promise<LoadResult> {
  const child = spawn(process.execPath, [here('./load.mjs'), mode, url, String(amount), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited with ${code}`))))
  })
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
    const up = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false)
    if (up) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nothing answered on port ${port} within 10 s`)
}

async function startNginx(stablePort: number, canaryPort: number): Promise<{ child: ChildProcess; port: number; dir: string } | { skipped: string }> {
  const binary = NGINX_CANDIDATES.find((path) => existsSync(path))
  if (!binary) return { skipped: 'nginx is not installed (apt-get install -y nginx-light)' }
  const dir = await mkdtemp(join(tmpdir(), 'sentra-bench-nginx-'))
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub))
  const port = await freePort()
  await writeFile(join(dir, 'nginx.conf'), nginxConfig({ prefix: dir, port, stablePort, canaryPort, canaryWeight: CANARY_WEIGHT }))
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitForPort(port, child)
  return { child, port, dir }
}

async function measure(name: string, url: string): Promise<PathResult> {
  process.stderr.write(`proxy: ${name}: warm-up\n`)
  await runLoad('rate', url, Math.min(RATE, 500), 1)
  process.stderr.write(`proxy: ${name}: ${RATE} requests/s for ${SECONDS} s\n`)
  const rate = await runLoad('rate', url, RATE, SECONDS)
  process.stderr.write(`proxy: ${name}: ${CONNECTIONS} connections for ${SECONDS} s\n`)
  const max = await runLoad('max', url, CONNECTIONS, SECONDS)
  return {
    atFixedRate: { requestsPerSecond: RATE, sent: rate.sent, failed: rate.failed, latencyMs: latencyMs(rate.latencyUs) },
    maxThroughput: { connections: CONNECTIONS, requestsPerSecond: Math.round(max.ok / max.seconds), failed: max.failed, latencyMs: latencyMs(max.latencyUs) },
  }
}

const minus = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.round((a - b) * 1000) / 1000)
const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 100) / 100 : null)

export async function run(): Promise<object> {
  const children: ChildProcess[] = []
  let nginxDir: string | null = null
  try {
    const stable = await startReporting(process.execPath, [here('./upstream.mjs'), 'v1'])
    children.push(stable.child)
    const canary = await startReporting(process.execPath, [here('./upstream.mjs'), 'v2'])
    children.push(canary.child)
    const sentra = await startReporting(process.execPath, ['--import', 'tsx', here('./sentra-proxy.ts'), `http://127.0.0.1:${stable.port}`, `http://127.0.0.1:${canary.port}`, String(CANARY_WEIGHT)])
    children.push(sentra.child)
    const nginx = await startNginx(stable.port, canary.port)
    if ('child' in nginx) {
      children.push(nginx.child)
      nginxDir = nginx.dir
    }

    const direct = await measure('direct', `http://127.0.0.1:${stable.port}/`)
    const viaSentra = await measure('sentra', `http://127.0.0.1:${sentra.port}/`)
    const viaNginx = 'port' in nginx ? await measure('nginx', `http://127.0.0.1:${nginx.port}/`) : null

    const sentraOverhead = {
      p50Ms: minus(viaSentra.atFixedRate.latencyMs.p50, direct.atFixedRate.latencyMs.p50),
      p99Ms: minus(viaSentra.atFixedRate.latencyMs.p99, direct.atFixedRate.latencyMs.p99),
    }
    const throughputVsNginx = viaNginx ? ratio(viaSentra.maxThroughput.requestsPerSecond, viaNginx.maxThroughput.requestsPerSecond) : null
    return {
      benchmark: 'proxy',
      machine: { cpus: cpus().length, loadAverage1m: Math.round(loadavg()[0]! * 100) / 100, node: process.version },
      settings: { rate: RATE, seconds: SECONDS, connections: CONNECTIONS, canaryWeightPercent: CANARY_WEIGHT },
      direct,
      sentra: { ...viaSentra, overheadAtFixedRate: sentraOverhead, throughputVsDirect: ratio(viaSentra.maxThroughput.requestsPerSecond, direct.maxThroughput.requestsPerSecond) },
      nginx: viaNginx
        ? {
            ...viaNginx,
            overheadAtFixedRate: {
              p50Ms: minus(viaNginx.atFixedRate.latencyMs.p50, direct.atFixedRate.latencyMs.p50),
              p99Ms: minus(viaNginx.atFixedRate.latencyMs.p99, direct.atFixedRate.latencyMs.p99),
            },
            throughputVsDirect: ratio(viaNginx.maxThroughput.requestsPerSecond, direct.maxThroughput.requestsPerSecond),
          }
        : { skipped: 'skipped' in nginx ? nginx.skipped : 'not measured' },
      sentraThroughputVsNginx: throughputVsNginx,
      targets: verdicts({ p99OverheadMs: sentraOverhead.p99Ms, throughputVsNginx }),
    }
  } finally {
    for (const child of children) child.kill('SIGTERM')
    if (nginxDir) await rm(nginxDir, { recursive: true, force: true })
  }
}
