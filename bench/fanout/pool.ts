/**
 * The fan-out benchmark's subscriber processes, seen from the main process: forked
 * bench/fanout/subscriber-process.ts children (`--import tsx`) that each hold a share of a
 * step's subscribers, with their clocks calibrated against this one (clock.ts) so their
 * receipt times compare with the publisher's.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { bestOffset, clockNow, type ClockOffset, type PingSample } from './clock.ts'
import type { CallName, Calls, Reply, Request } from './protocol.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SCRIPT = fileURLToPath(new URL('./subscriber-process.ts', import.meta.url))
/** Ping-pongs per calibration; the one with the shortest round trip is used. */
const PINGS = 20
/** Sockets being opened at once, over all processes (what one process used to do). */
const PARALLEL_OPENS = 100

export interface SubscriberProcess {
  readonly pid: number | undefined
  call<K extends CallName>(type: K, args: Calls[K]['args']): Promise<Calls[K]['result']>
  stop(): Promise<void>
}

/** Forks one subscriber process; resolves once it listens for calls. */
function startOne(log: (line: string) => void): Promise<SubscriberProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(SCRIPT, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    const pending = new Map<number, { resolve: (result: never) => void; reject: (error: Error) => void }>()
    let nextId = 0
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) log(`[subscribers ${child.pid}] ${line}`)
      })
    }
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once('exit', () => done())
        // It exits by itself when the channel closes; the kill is for a stuck one.
        if (child.connected) child.disconnect()
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
      })
    const handle: SubscriberProcess = {
      pid: child.pid,
      call: (type, args) =>
        new Promise((resolveCall, rejectCall) => {
          if (!child.connected) return rejectCall(new Error(`subscriber process ${child.pid} is gone`))
          const id = nextId++
          pending.set(id, { resolve: resolveCall as (result: never) => void, reject: rejectCall })
          child.send({ id, type, args } as Request)
        }),
      stop,
    }
    const timer = setTimeout(() => {
      void stop()
      reject(new Error('subscriber process did not start in 60 s'))
    }, 60_000)
    child.on('message', (message: Reply | { ready: true }) => {
      if ('ready' in message) {
        clearTimeout(timer)
        resolve(handle)
        return
      }
      const call = pending.get(message.id)
      if (!call) return
      pending.delete(message.id)
      if (message.ok) call.resolve(message.result as never)
      else call.reject(new Error(`subscriber process ${child.pid}: ${message.message}`))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      const error = new Error(`subscriber process ${child.pid} exited (${signal ?? code})`)
      for (const call of pending.values()) call.reject(error)
      pending.clear()
      reject(error)
    })
  })
}

/** One process's receipts, converted to the main process's clock. */
export interface ProcessReceipts {
  subscribers: number
  /** times[s * seqs.length + k]: subscriber s's receipt of seqs[k] (main clock, NaN = not received). */
  times: Float64Array
}

export class SubscriberPool {
  private offsets: ClockOffset[]

  private constructor(private readonly processes: readonly SubscriberProcess[]) {
    this.offsets = processes.map(() => ({ offsetMs: 0, errorMs: Number.POSITIVE_INFINITY }))
  }

  /** Forks `count` subscriber processes (together: tsx start-up is the slow part). */
  static async start(count: number, log: (line: string) => void): Promise<SubscriberPool> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => startOne(log)))
    const failed = started.find((r) => r.status === 'rejected')
    if (failed) {
      await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)))
      throw failed.reason
    }
    return new SubscriberPool(started.map((r) => (r as PromiseFulfilledResult<SubscriberProcess>).value))
  }

  get pids(): (number | undefined)[] {
    return this.processes.map((p) => p.pid)
  }

  /**
   * Measures each process's clock offset (one process at a time, so no ping waits behind
   * another's answer). Returns the offsets and the worst error bound.
   */
  async calibrate(): Promise<{ offsetsMs: number[]; errorMs: number }> {
    for (const [i, p] of this.processes.entries()) {
      const samples: PingSample[] = []
      for (let k = 0; k < PINGS; k++) {
        const sent = clockNow()
        const { now } = await p.call('ping', {})
        samples.push({ sent, remote: now, received: clockNow() })
      }
      this.offsets[i] = bestOffset(samples)
    }
    return { offsetsMs: this.offsets.map((o) => o.offsetMs), errorMs: Math.max(...this.offsets.map((o) => o.errorMs)) }
  }

  /** Opens `count` subscribers, a contiguous block per process (each block still alternates servers and tokens). */
  async open(count: number, urls: readonly string[], tokens: readonly string[], application: string): Promise<void> {
    const n = this.processes.length
    const parallel = Math.ceil(PARALLEL_OPENS / n)
    await Promise.all(
      this.processes.map((p, i) =>
        p.call('open', { from: Math.floor((count * i) / n), to: Math.floor((count * (i + 1)) / n), urls: [...urls], tokens: [...tokens], application, parallel }),
      ),
    )
  }

  /** When (main clock) the last subscriber got `seq`, or null if some did not within `limitMs`. */
  async waitAll(seq: number, limitMs: number): Promise<number | null> {
    const answers = await Promise.all(this.processes.map((p) => p.call('waitAll', { seq, limitMs })))
    if (answers.some((a) => !a.all)) return null
    const times = answers.flatMap((a, i) => (a.lastAt === null ? [] : [a.lastAt - this.offsets[i]!.offsetMs]))
    return times.length === 0 ? null : Math.max(...times)
  }

  /** Every subscriber's receipts of `seqs`, plus the errors and closed sockets they saw. */
  async receipts(seqs: readonly number[]): Promise<{ processes: ProcessReceipts[]; errors: number; closed: number }> {
    const answers = await Promise.all(this.processes.map((p) => p.call('receipts', { seqs: [...seqs] })))
    return {
      processes: answers.map((a, i) => {
        const offset = this.offsets[i]!.offsetMs
        for (let k = 0; k < a.times.length; k++) a.times[k]! -= offset
        return { subscribers: a.subscribers, times: a.times }
      }),
      errors: answers.reduce((n, a) => n + a.errors, 0),
      closed: answers.reduce((n, a) => n + a.closed, 0),
    }
  }

  /** Closes every subscriber socket (the processes stay for the next step). */
  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.call('close', {})))
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()))
  }
}
