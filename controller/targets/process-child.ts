/** One version of an application running as a local child process (used by process.ts). */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable } from 'node:stream'
import type { Upstream } from '../proxy/types.ts'
import { probe, probeTimeout } from './health-probe.ts'

/** Lines kept per stream for error messages. */
const TAIL_LINES = 50
/** A line longer than this is cut, so a program printing without newlines cannot grow memory. */
const MAX_LINE = 8 * 1024

export interface VersionProcessOptions {
  application: string
  version: string
  port: number
  argv: string[]
  env: Record<string, string>
  cwd: string
  log: (line: string) => void
}

export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the program could not be started at all (e.g. ENOENT). */
  error?: string
}

/**
 * A started child process with the last lines of its output and its exit status.
 * `stopRequested` tells an exit Sentra asked for from one it did not (a crash).
 */
export class VersionProcess {
  readonly application: string
  readonly version: string
  readonly port: number
  readonly upstream: Upstream
  #child: ChildProcess
  #log: (line: string) => void
  #stdout: string[] = []
  #stderr: string[] = []
  #exit: ProcessExit | null = null
  #exited: Promise<ProcessExit>
  #stopRequested = false

  constructor(options: VersionProcessOptions) {
    this.application = options.application
    this.version = options.version
    this.port = options.port
    this.upstream = { version: options.version, url: `http://127.0.0.1:${options.port}` }
    this.#log = options.log
    const [program = '', ...args] = options.argv
    // stdin is a pipe only we hold: when Sentra dies, however it dies, the kernel closes it
    // and a cooperating child (services/demo.mjs) exits on EOF. The child stays in our
    // process group, so a terminal's Ctrl-C reaches it too.
    this.#child = spawn(program, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] })
    // Writing never happens, but an EPIPE on close must not become an uncaught error.
    this.#child.stdin?.on('error', () => {})
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => resolve(this.#ended({ code, signal })))
      this.#child.once('error', (error) => {
        // 'error' without a pid: spawning failed and no 'exit' will follow.
        if (this.#child.pid === undefined) resolve(this.#ended({ code: null, signal: null, error: error.message }))
        else this.#log(`${this.label}: ${error.message}`)
      })
    })
    this.#lines(this.#child.stdout, this.#stdout, '')
    this.#lines(this.#child.stderr, this.#stderr, ' (stderr)')
  }

  get label(): string {
    return `${this.application}/${this.version}`
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  /** null while running. */
  get exit(): ProcessExit | null {
    return this.#exit
  }

  /** Resolves once the process has exited (or could not start). */
  whenExited(): Promise<ProcessExit> {
    return this.#exited
  }

  get stopRequested(): boolean {
    return this.#stopRequested
  }

  /** "exited with code 1", "was killed by signal SIGKILL", "could not start: spawn x ENOENT". */
  describeExit(): string {
    const exit = this.#exit
    if (exit === null) return 'is running'
    if (exit.error !== undefined) return `could not start: ${exit.error}`
    if (exit.signal !== null) return `was killed by signal ${exit.signal}`
    return `exited with code ${exit.code ?? 'unknown'}`
  }

  /** The last `count` lines of stderr (stdout when stderr is empty), for error messages. */
  lastOutput(count: number): string[] {
    const lines = this.#stderr.length > 0 ? this.#stderr : this.#stdout
    return lines.slice(-count)
  }

  /**
   * Resolves once `url` answers 2xx. Rejects when the process exits first (with its exit and
   * last stderr lines) or after `timeoutMs` (the process is then left to the caller to stop).
   */
  async waitHealthy(path: string, timeoutMs: number): Promise<void> {
    const url = `${this.upstream.url}${path}`
    const deadline = Date.now() + timeoutMs
    let last = 'no answer yet'
    let pause = 25
    for (;;) {
      if (this.#exit !== null) throw new Error(this.#startFailure())
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`${this.label} did not become healthy at ${url} within ${timeoutMs} ms (last: ${last})`)
      const answer = await probe(url, probeTimeout(deadline))
      if (answer.ok) return
      last = answer.detail
      // Wake up at once when the process dies instead of sleeping through it.
      await Promise.race([delay(Math.min(pause, Math.max(deadline - Date.now(), 0))), this.#exited])
      pause = Math.min(pause * 2, 500)
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (pid reaped). */
  async stop(graceMs: number): Promise<void> {
    this.#stopRequested = true
    if (this.#exit !== null) return
    // Only the signal: closing stdin too would make the child think Sentra died.
    this.#child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs)
    })
    const outcome = await Promise.race([this.#exited, timedOut])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      this.#log(`${this.label}: still running ${graceMs} ms after SIGTERM; sending SIGKILL`)
      this.#child.kill('SIGKILL')
      await this.#exited
    }
  }

  /**
   * Sentra is shutting down: an exit from now on is expected, not a crash. The same signal
   * that stops Sentra (a terminal's Ctrl-C, systemd's stop) reaches the child too, since it
   * stays in our process group; its exit must not read as the canary's failure.
   */
  expectExit(): void {
    this.#stopRequested = true
  }

  /** Synchronous last resort for process 'exit' handlers, where nothing can be awaited. */
  killNow(): void {
    this.#stopRequested = true
    if (this.#exit === null) this.#child.kill('SIGKILL')
  }

  #ended(exit: ProcessExit): ProcessExit {
    this.#exit = exit
    const how = this.describeExit()
    this.#log(`${this.label}: process ${this.pid ?? '(none)'} ${how}${this.#stopRequested ? '' : ' unexpectedly'}`)
    return exit
  }

  #startFailure(): string {
    const lines = this.lastOutput(5)
    const output = lines.length > 0 ? `; last output:\n${lines.join('\n')}` : ''
    return `process ${this.label} ${this.describeExit()} while starting${output}`
  }

  #lines(stream: Readable | null, tail: string[], tag: string): void {
    if (stream === null) return
    stream.setEncoding('utf8')
    let partial = ''
    const emit = (line: string): void => {
      tail.push(line)
      if (tail.length > TAIL_LINES) tail.shift()
      this.#log(`[${this.label}${tag}] ${line}`)
    }
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) emit(line.replace(/\r$/, '').slice(0, MAX_LINE))
      if (partial.length > MAX_LINE) {
        emit(partial.slice(0, MAX_LINE))
        partial = ''
      }
    })
    stream.on('end', () => {
      if (partial !== '') emit(partial)
      partial = ''
    })
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
