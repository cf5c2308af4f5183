/**
 * `npm run bench -- proxy`: the latency Sentra's weighted proxy adds and the throughput it
 * sustains, next to a direct connection and next to nginx configured as a weighted proxy,
 * in the same run on the same upstreams. See docs/benchmarks.md, section "Proxy".
 *
 * Processes (each alone, so none shares an event loop with another): two upstreams (v1 and
 * v2, bench/proxy/upstream.mjs), Sentra's proxy (bench/proxy/sentra-proxy.ts: the controller's
 * WeightedProxy, canary weight 10 %), nginx (one worker, the same 90/10 weights; skipped with
 * the reason when the `nginx` binary is missing: `apt-get install -y nginx-light`), and the
 * load generator for each measurement (bench/proxy/loadgen.go, or load.mjs: see
 * load-generator.ts).
 *
 * Every path first gets one closed-loop second that is not measured, so each proxy is
 * measured with its code compiled, as it runs in production. Measurements per path (direct
 * to v1, through Sentra, through nginx):
 * - open loop at BENCH_RATE requests/s (default 2000) for BENCH_SECONDS (default 10), after
 *   BENCH_WARMUP_SECONDS (default 1) at the same rate on the same connections, not counted:
 *   p50/p99 from each request's scheduled time (see load.mjs for why the warm-up is in-process);
 * - closed loop with BENCH_CONNECTIONS keep-alive connections (default 64) for BENCH_SECONDS:
 *   answered requests per second.
 * - for Sentra and nginx, the proxy process's CPU time per request in each of the two runs
 *   (from /proc; null elsewhere), which a busy machine disturbs far less than requests/s.
 * - then BENCH_ROUNDS (default 3) rounds of open-loop runs of every path back to back, the
 *   order rotated every round; `p99OverheadMedianMs` is the median of each round's proxied
 *   p99 minus that round's direct p99, and the p99 target is judged on it;
 * - then BENCH_ROUNDS back-to-back closed-loop pairs of Sentra and nginx, the order swapped
 *   every round; `sentraThroughputVsNginx` is the median of their ratios.
 * - in each run, the TCP connections the upstreams accepted (`upstreamConnectionsOpened`) and,
 *   at the fixed rate, the ones the load generator opened (`clientConnectionsOpened`).
 * BENCH_SENTRA_SCRIPT runs another build of sentra-proxy.ts (e.g. a copy of the last commit's
 * proxy) in place of this one, to compare before and after on the same machine state.
 * Overhead = the proxied p50/p99 minus the direct one. On a 2-core machine the load
 * generator, the proxy and the upstreams share the cores, which is the same for every path.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadGeneratorChoice, NODE_LOAD_GENERATOR, prepareLoadGenerator, type LoadGenerator } from './load-generator.ts'
import { cpuMicrosPerRequest, latencyMs, median, nginxConfig, procStatCpuTicks, verdicts, type LatencySummary } from './summary.ts'

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
const RATE = Number(process.env.BENCH_RATE ?? 2000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1)
/** Another build's sentra-proxy.ts (same argv), to compare two versions of the proxy on the same machine state. */
const SENTRA_SCRIPT = process.env.BENCH_SENTRA_SCRIPT ?? here('./sentra-proxy.ts')
const CANARY_WEIGHT = 10
const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']

interface LoadResult {
  sent: number
  ok: number
  failed: number
  seconds: number
  /** TCP connections the load generator opened to the path, warm-up included. */
  connections: number
  /** Requests of the warm-up, not counted in the others. */
  warmupSent: number
  latencyUs: number[]
}

interface PathResult {
  atFixedRate: { requestsPerSecond: number; sent: number; failed: number; latencyMs: LatencySummary; proxyCpuMicrosPerRequest: number | null; clientConnectionsOpened: number; upstreamConnectionsOpened: number | null }
  maxThroughput: { connections: number; requestsPerSecond: number; failed: number; latencyMs: LatencySummary; proxyCpuMicrosPerRequest: number | null; upstreamConnectionsOpened: number | null }
}

/** Linux clock ticks per second for /proc times (USER_HZ, 100 on every mainstream architecture). */
const USER_HZ = 100

/**
 * CPU time (ms) a process has used so far, from /proc; null where there is no /proc or no
 * such process. CPU per request is less sensitive to a busy machine than requests/s: other
 * work slows a proxy down, but barely changes what one request costs it.
 */
async function cpuMs(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null
  try {
    return (procStatCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8')) * 1000) / USER_HZ
  } catch {
    return null
  }
}

const used = (before: number | null, after: number | null): number | null => (before === null || after === null ? null : after - before)

/**
 * TCP connections the upstreams have accepted so far (bench/proxy/upstream.mjs counts them),
 * null when one cannot tell. Read around a run, it says how many upstream connections a path
 * opened: a proxy that keeps too few idle ones opens (and closes) connections all the time.
 * The count includes this query's own connection to each upstream, subtracted by the caller.
 */
async function upstreamAccepted(ports: readonly number[]): Promise<number | null> {
  let total = 0
  for (const port of ports) {
    const answer = await fetch(`http://127.0.0.1:${port}/__bench/connections`).then((r) => r.json() as Promise<{ accepted: number }>, () => null)
    if (answer === null || !Number.isInteger(answer.accepted)) return null
    total += answer.accepted
  }
  return total
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

let loadGenerator: LoadGenerator = NODE_LOAD_GENERATOR

function runLoad(mode: 'rate' | 'max', url: string, amount: number, seconds: number, warmupSeconds = 0): Promise<LoadResult> {
  const child = spawn(loadGenerator.command, [...loadGenerator.args, mode, url, String(amount), String(seconds), String(warmupSeconds)], { stdio: ['ignore', 'pipe', 'inherit'] })
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

/**
 * Measures one path; `proxyPid` is the proxy's process (none for the direct path), whose CPU
 * time is read around each run, and `upstreamPorts` the upstreams, whose accepted connections
 * are counted around each run.
 */
async function measure(name: string, url: string, upstreamPorts: readonly number[], proxyPid?: number): Promise<PathResult> {
  process.stderr.write(`proxy: ${name}: ${RATE} requests/s for ${WARMUP_SECONDS} s of warm-up and ${SECONDS} s\n`)
  const rateAccepted = await upstreamAccepted(upstreamPorts)
  const rateCpu = await cpuMs(proxyPid)
  const rate = await runLoad('rate', url, RATE, SECONDS, WARMUP_SECONDS)
  const maxCpu = await cpuMs(proxyPid)
  const maxAccepted = await upstreamAccepted(upstreamPorts)
  process.stderr.write(`proxy: ${name}: ${CONNECTIONS} connections for ${SECONDS} s\n`)
  const max = await runLoad('max', url, CONNECTIONS, SECONDS)
  const endCpu = await cpuMs(proxyPid)
  const endAccepted = await upstreamAccepted(upstreamPorts)
  // each count includes one query connection per upstream
  const opened = (before: number | null, after: number | null): number | null => (before === null || after === null ? null : after - before - upstreamPorts.length)
  return {
    atFixedRate: { requestsPerSecond: RATE, sent: rate.sent, failed: rate.failed, latencyMs: latencyMs(rate.latencyUs), proxyCpuMicrosPerRequest: cpuMicrosPerRequest(used(rateCpu, maxCpu), rate.sent + rate.warmupSent), clientConnectionsOpened: rate.connections, upstreamConnectionsOpened: opened(rateAccepted, maxAccepted) },
    maxThroughput: { connections: CONNECTIONS, requestsPerSecond: Math.round(max.ok / max.seconds), failed: max.failed, latencyMs: latencyMs(max.latencyUs), proxyCpuMicrosPerRequest: cpuMicrosPerRequest(used(maxCpu, endCpu), max.ok + max.failed), upstreamConnectionsOpened: opened(maxAccepted, endAccepted) },
  }
}

interface PairedRound {
  sentraRequestsPerSecond: number
  nginxRequestsPerSecond: number
  ratio: number | null
}

/**
 * Closed-loop throughput of Sentra and nginx in back-to-back pairs, the order swapped every
 * round: on a shared machine the load changes from one minute to the next, and a ratio of
 * two runs seconds apart is far steadier than one of runs a minute apart.
 */
async function pairedThroughput(sentraUrl: string, nginxUrl: string): Promise<PairedRound[]> {
  const rounds: PairedRound[] = []
  const rps = async (url: string): Promise<number> => {
    const result = await runLoad('max', url, CONNECTIONS, SECONDS)
    return Math.round(result.ok / result.seconds)
  }
  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`proxy: paired round ${round + 1}/${ROUNDS}: ${CONNECTIONS} connections for ${SECONDS} s each\n`)
    let sentra: number
    let nginx: number
    if (round % 2 === 0) {
      sentra = await rps(sentraUrl)
      nginx = await rps(nginxUrl)
    } else {
      nginx = await rps(nginxUrl)
      sentra = await rps(sentraUrl)
    }
    rounds.push({ sentraRequestsPerSecond: sentra, nginxRequestsPerSecond: nginx, ratio: ratio(sentra, nginx) })
  }
  return rounds
}

interface LatencyRound {
  /** The paths in the order they ran in this round. */
  order: string[]
  p99Ms: Record<string, number | null>
  /** Each proxy's p99 minus the direct path's, in this round. */
  p99OverheadMs: Record<string, number | null>
}

/**
 * Open-loop runs of every path back to back, BENCH_ROUNDS times, the order rotated every
 * round. A p99 of a few milliseconds moves by as much from one minute to the next on a
 * shared machine (a stall of the cores, another process waking up), so one run per path
 * says little about the difference between two paths; the median of each round's
 * difference does. Each run has its own warm-up, as in `measure`.
 */
async function pairedLatency(paths: ReadonlyArray<{ name: string; url: string }>): Promise<LatencyRound[]> {
  const rounds: LatencyRound[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const order = paths.map((_, i) => paths[(i + round) % paths.length]!)
    process.stderr.write(`proxy: latency round ${round + 1}/${ROUNDS}: ${RATE} requests/s for ${SECONDS} s each, ${order.map((p) => p.name).join(', ')}\n`)
    const p99Ms: Record<string, number | null> = {}
    for (const path of order) p99Ms[path.name] = latencyMs((await runLoad('rate', path.url, RATE, SECONDS, WARMUP_SECONDS)).latencyUs).p99
    const p99OverheadMs: Record<string, number | null> = {}
    for (const path of paths) if (path.name !== 'direct') p99OverheadMs[path.name] = minus(p99Ms[path.name] ?? null, p99Ms.direct ?? null)
    rounds.push({ order: order.map((p) => p.name), p99Ms, p99OverheadMs })
  }
  return rounds
}

/** The median over the rounds of one proxy's p99 overhead, or null without rounds. */
function medianOverhead(rounds: readonly LatencyRound[], name: string): number | null {
  const values: number[] = []
  for (const round of rounds) {
    const value = round.p99OverheadMs[name]
    if (value !== undefined && value !== null) values.push(value)
  }
  return median(values)
}

/** One closed-loop second, not measured: a proxy process is measured warm, as it runs in production, not while its code is still being compiled. */
async function warmUp(url: string): Promise<void> {
  await runLoad('max', url, CONNECTIONS, 1)
}

const minus = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.round((a - b) * 1000) / 1000)
const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 100) / 100 : null)
const cpuRatio = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : ratio(a, b))

export async function run(): Promise<object> {
  if (!(WARMUP_SECONDS >= 0)) throw new RangeError(`BENCH_WARMUP_SECONDS must be a number >= 0, got ${JSON.stringify(process.env.BENCH_WARMUP_SECONDS)}`)
  if (!existsSync(SENTRA_SCRIPT)) throw new Error(`BENCH_SENTRA_SCRIPT: no such file ${JSON.stringify(SENTRA_SCRIPT)}`)
  const generatorChoice = loadGeneratorChoice(process.env.BENCH_LOAD_GENERATOR)
  const children: ChildProcess[] = []
  let nginxDir: string | null = null
  const buildDir = await mkdtemp(join(tmpdir(), 'sentra-bench-loadgen-'))
  try {
    loadGenerator = await prepareLoadGenerator(generatorChoice, buildDir)
    const stable = await startReporting(process.execPath, [here('./upstream.mjs'), 'v1'])
    children.push(stable.child)
    const canary = await startReporting(process.execPath, [here('./upstream.mjs'), 'v2'])
    children.push(canary.child)
    const sentra = await startReporting(process.execPath, ['--import', 'tsx', SENTRA_SCRIPT, `http://127.0.0.1:${stable.port}`, `http://127.0.0.1:${canary.port}`, String(CANARY_WEIGHT)])
    children.push(sentra.child)
    const nginx = await startNginx(stable.port, canary.port)
    if ('child' in nginx) {
      children.push(nginx.child)
      nginxDir = nginx.dir
    }

    const upstreamPorts = [stable.port, canary.port]
    process.stderr.write('proxy: warming up every path (1 s closed loop each, not measured)\n')
    await warmUp(`http://127.0.0.1:${stable.port}/`)
    await warmUp(`http://127.0.0.1:${sentra.port}/`)
    if ('port' in nginx) await warmUp(`http://127.0.0.1:${nginx.port}/`)
    const direct = await measure('direct', `http://127.0.0.1:${stable.port}/`, upstreamPorts)
    const viaSentra = await measure('sentra', `http://127.0.0.1:${sentra.port}/`, upstreamPorts, sentra.child.pid)
    const viaNginx = 'port' in nginx ? await measure('nginx', `http://127.0.0.1:${nginx.port}/`, upstreamPorts, nginx.child.pid) : null

    const sentraOverhead = {
      p50Ms: minus(viaSentra.atFixedRate.latencyMs.p50, direct.atFixedRate.latencyMs.p50),
      p99Ms: minus(viaSentra.atFixedRate.latencyMs.p99, direct.atFixedRate.latencyMs.p99),
    }
    const latencyRounds = await pairedLatency([
      { name: 'direct', url: `http://127.0.0.1:${stable.port}/` },
      { name: 'sentra', url: `http://127.0.0.1:${sentra.port}/` },
      ...('port' in nginx ? [{ name: 'nginx', url: `http://127.0.0.1:${nginx.port}/` }] : []),
    ])
    const sentraP99Overhead = latencyRounds.length > 0 ? medianOverhead(latencyRounds, 'sentra') : sentraOverhead.p99Ms
    const paired = 'port' in nginx ? await pairedThroughput(`http://127.0.0.1:${sentra.port}/`, `http://127.0.0.1:${nginx.port}/`) : []
    const pairedRatios = paired.flatMap((round) => (round.ratio === null ? [] : [round.ratio]))
    // the median of the paired rounds when there are any; else the one closed-loop run of each
    const throughputVsNginx = pairedRatios.length > 0 ? median(pairedRatios) : viaNginx ? ratio(viaSentra.maxThroughput.requestsPerSecond, viaNginx.maxThroughput.requestsPerSecond) : null
    return {
      benchmark: 'proxy',
      machine: { cpus: cpus().length, loadAverage1m: Math.round(loadavg()[0]! * 100) / 100, node: process.version },
      settings: { rate: RATE, seconds: SECONDS, connections: CONNECTIONS, canaryWeightPercent: CANARY_WEIGHT, loadGenerator: loadGenerator.name, ...(loadGenerator.note ? { loadGeneratorNote: loadGenerator.note } : {}) },
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
      latencyRounds,
      p99OverheadMedianMs: { sentra: medianOverhead(latencyRounds, 'sentra'), nginx: 'port' in nginx ? medianOverhead(latencyRounds, 'nginx') : null },
      pairedThroughput: paired,
      sentraThroughputVsNginx: throughputVsNginx,
      sentraCpuPerRequestVsNginx: viaNginx ? cpuRatio(viaSentra.maxThroughput.proxyCpuMicrosPerRequest, viaNginx.maxThroughput.proxyCpuMicrosPerRequest) : null,
      targets: verdicts({ p99OverheadMs: sentraP99Overhead, throughputVsNginx }),
    }
  } finally {
    for (const child of children) child.kill('SIGTERM')
    if (nginxDir) await rm(nginxDir, { recursive: true, force: true })
    await rm(buildDir, { recursive: true, force: true })
  }
}
