import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A Sentra process (server/main.ts, controller/main.ts, embedded.ts) run as `npm run` would. */
export interface SentraProcess {
  readonly child: ChildProcess
  output(): string
  /** Resolves when a line of output matches; rejects when the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** SIGTERM and wait for the exit (SIGKILL after a grace period). */
  stop(): Promise<void>
  /** kill -9: no cleanup of any kind. */
  kill9(): Promise<void>
}

export function startSentra(entry: string, env: Record<string, string>): SentraProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const listeners = new Set<() => void>()
  const append = (chunk: Buffer) => {
    output += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  return {
    child,
    output: () => output,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = output.split('\n').find((line) => pattern.test(line))
          if (match !== undefined) {
            done()
            resolve(match)
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`${entry}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-3000)}`))
        }, timeoutMs)
        const onExit = () => {
          done()
          reject(new Error(`${entry} exited (code ${child.exitCode}) before printing ${pattern}; output:\n${output.slice(-3000)}`))
        }
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
          child.off('exit', onExit)
        }
        listeners.add(check)
        child.once('exit', onExit)
        check()
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
