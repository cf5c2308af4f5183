import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ENTRY = join(ROOT, 'cli', 'sentra.ts')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliRun {
  /** Output so far, stdout then stderr interleaved as they arrived. */
  output(): string
  /** Resolves when the output so far matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
  /** Resolves when the process exits. */
  done: Promise<CliResult>
  kill(signal?: NodeJS.Signals): void
}

/**
 * Runs `node --import tsx cli/sentra.ts …` in a minimal environment (PATH, HOME, and `env`;
 * nothing else of the test's own), with `input` on stdin.
 */
export function startCli(args: readonly string[], { env = {}, input, timeoutMs = 60_000 }: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let all = ''
  const listeners = new Set<() => void>()
  const onData = (into: 'out' | 'err') => (chunk: Buffer) => {
    const text = chunk.toString()
    if (into === 'out') stdout += text
    else stderr += text
    all += text
    for (const listener of listeners) listener()
  }
  child.stdout.on('data', onData('out'))
  child.stderr.on('data', onData('err'))
  child.stdin.on('error', () => undefined)
  child.stdin.end(input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    }),
  )
  return {
    output: () => all,
    done,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    waitFor: (pattern, waitMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(all)) return
          finish()
          resolve()
        }
        const timeout = setTimeout(() => {
          finish()
          reject(new Error(`no output matching ${pattern} within ${waitMs} ms; output:\n${all.slice(-3000)}`))
        }, waitMs)
        const finish = () => {
          clearTimeout(timeout)
          listeners.delete(check)
        }
        listeners.add(check)
        void done.then(() => {
          if (!listeners.has(check)) return
          finish()
          if (pattern.test(all)) resolve()
          else reject(new Error(`the CLI exited before printing ${pattern}; output:\n${all.slice(-3000)}`))
        })
        check()
      }),
  }
}

/** Runs the CLI to its end. */
export function runCli(args: readonly string[], options: Parameters<typeof startCli>[1] = {}): Promise<CliResult> {
  return startCli(args, options).done
}

/** A fresh empty HOME for a test, removed by the returned dispose. */
export async function tempHome(): Promise<{ home: string; dispose(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'sentra-cli-home-'))
  return { home, dispose: () => rm(home, { recursive: true, force: true }) }
}

/**
 * Runs the CLI's `main` in this process, for long tables of bad input where a process per
 * case would be slow; the process wiring itself is covered by the subprocess runs.
 */
export async function runMain(args: readonly string[], { env = {}, input }: { env?: Record<string, string>; input?: string | Buffer } = {}): Promise<CliResult> {
  const { main } = await import('../../cli/main.ts')
  const { Readable } = await import('node:stream')
  let stdout = ''
  let stderr = ''
  const io = {
    out: (text: string) => void (stdout += text),
    err: (text: string) => void (stderr += text),
    isTTY: false,
    columns: 0,
    stdin: Readable.from(input === undefined ? [] : [typeof input === 'string' ? Buffer.from(input) : input]),
  }
  const code = await main(args, io, env)
  return { code, stdout, stderr }
}
