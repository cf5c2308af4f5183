import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The Sentra checkout this plugin lives in (plugins/backstage/../..). */
export const SENTRA_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const TSX = `${SENTRA_ROOT}node_modules/.bin/tsx`

export interface SentraProcess {
  output(): string
  /** Resolves with the first line matching `pattern`; rejects if the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  stop(): Promise<void>
}

/**
 * Runs one of Sentra's entry points (server/main.ts, controller/main.ts) from the root
 * checkout with the root's tsx, as `npm run server` would. The plugin has its own
 * node_modules; Sentra runs on the root's, so the root must be installed (`npm ci`) first.
 */
export function startSentraProcess(entry: string, env: Record<string, string>): SentraProcess {
  if (!existsSync(TSX)) throw new Error(`${TSX} is missing: run \`npm ci\` at the root of the Sentra checkout before the plugin's tests`)
  const child: ChildProcess = spawn(TSX, [`${SENTRA_ROOT}${entry}`], {
    cwd: SENTRA_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: tsx runs Sentra in a child, and stop() ends both.
    detached: true,
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
  const running = () => child.exitCode === null && child.signalCode === null
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal)
    } catch {
      // Already gone.
    }
  }

  return {
    output: () => output,
    waitFor: (pattern, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
          child.off('exit', onExit)
        }
        const check = () => {
          const line = output.split('\n').find((l) => pattern.test(l))
          if (line === undefined) return
          done()
          resolve(line)
        }
        const onExit = () => {
          done()
          reject(new Error(`${entry} exited (code ${child.exitCode}) before printing ${pattern}; output:\n${output.slice(-3000)}`))
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`${entry}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-3000)}`))
        }, timeoutMs)
        listeners.add(check)
        child.once('exit', onExit)
        check()
      }),
    stop: async () => {
      if (!running()) return
      signalGroup('SIGTERM')
      const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
