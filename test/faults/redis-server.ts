import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/**
 * A redis-server of the test's own on a loopback port, so a fault test can stop and start
 * it without touching the shared Redis on 6379. No persistence: a restart loses every key
 * (lease keys and the INCR fencing counters too), the harshest case for the leases.
 */
export interface PrivateRedis {
  readonly url: string
  readonly port: number
  /** Stops the server (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port (empty), and waits until it answers PING. */
  start(): Promise<void>
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>
}

export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sentra-redis-'))
  let child: ChildProcess | null = null
  const url = `redis://127.0.0.1:${port}`

  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
      stdio: 'ignore',
    })
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => {})
    const deadline = Date.now() + 15_000
    try {
      for (;;) {
        try {
          await probe.connect()
          if ((await probe.ping()) === 'PONG') return
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within 15 s: ${String(error)}`)
          probe.disconnect()
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
    } finally {
      probe.disconnect()
    }
  }
  const stop = async () => {
    const running = child
    child = null
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    running.kill('SIGTERM')
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  await start()
  return {
    url,
    port,
    stop,
    start,
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
