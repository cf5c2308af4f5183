/** The processes and services the fan-out benchmark runs against: a fresh MySQL database and two `npm run server`s. */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { procStatCpuTicks } from '../proxy/summary.ts'
import { createBenchMysqlDatabase } from '../mysql-database.ts'

export const REDIS_URL = process.env.SENTRA_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** Clock ticks per second of /proc/<pid>/stat (Linux's USER_HZ). */
const USER_HZ = 100


export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  stop(): Promise<void>
}

/** Starts `server/main.ts` (what `npm run server` runs) with `env`; resolves once it listens. */
export function startServer(env: Record<string, string>, log: (line: string) => void): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, SENTRA_PORT: '0', SENTRA_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
      })
    let output = ''
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`server did not start in 60 s:\n${output.slice(-2000)}`))
    }, 60_000)
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      for (const line of chunk.toString().split('\n')) if (line.trim()) log(`[server ${child.pid}] ${line}`)
    })
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/\S+)\/graphql/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ url: `${match[1]!.replace(/^http/, 'ws')}/graphql`, child, stop })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${output.slice(-2000)}`))
    })
  })
}

/** User + system CPU of a process so far, in ms; null when it cannot be read. */
export async function cpuMs(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null
  try {
    return (procStatCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8')) * 1000) / USER_HZ
  } catch {
    return null
  }
}

/**
 * Busy CPU of the whole machine so far, all cores, in ms (/proc/stat: everything but idle and
 * iowait; steal counts as busy, it was not ours to use); null when it cannot be read. Shows
 * whether the machine itself was full while no single process of the benchmark was.
 */
export async function machineBusyMs(): Promise<number | null> {
  try {
    const first = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!
    // cpu user nice system idle iowait irq softirq steal (guest time is already inside user)
    const ticks = first.trim().split(/\s+/).slice(1, 9).map(Number)
    if (ticks.length < 8 || ticks.some((t) => !Number.isFinite(t))) return null
    return ((ticks.reduce((a, b) => a + b, 0) - ticks[3]! - ticks[4]!) * 1000) / USER_HZ
  } catch {
    return null
  }
}

/** Resident set size of a process, in bytes; null when it cannot be read. */
export async function rssBytes(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Sums a per-process reading over processes; null if any is unreadable. */
export async function total(pids: readonly (number | undefined)[], read: (pid: number | undefined) => Promise<number | null>): Promise<number | null> {
  const values = await Promise.all(pids.map(read))
  return values.some((v) => v === null) ? null : values.reduce<number>((sum, v) => sum + v!, 0)
}

/** A fresh MySQL database for one run; `drop` removes it. */
export const createDatabase = (): Promise<{ url: string; drop(): Promise<void> }> => createBenchMysqlDatabase('sentra_bench_fanout')
