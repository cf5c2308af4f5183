import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { createConnection } from 'mysql2/promise'

/**
 * A mariadbd of the test's own (a temporary datadir, a loopback port of its own), so a
 * fault test can kill and restart the database without touching the shared one on 3306.
 * Root has no password over TCP, as on the shared server (test/support/databases.ts).
 */
export interface PrivateMariadb {
  readonly port: number
  /** `mysql://root@127.0.0.1:<port>/<database>` for SENTRA_DATABASE_URL. */
  url(database: string): string
  /** CREATE DATABASE (utf8mb4, binary collation, as the shared test databases). */
  createDatabase(name: string): Promise<void>
  /** SIGKILL, as a crash or a pulled plug: every connection drops at once, nothing is flushed. */
  kill(): Promise<void>
  /** Starts it again on the same datadir and port (InnoDB recovers), and waits until it answers. */
  start(): Promise<void>
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>
  /**
   * SIGSTOP: the server hangs. The kernel still completes TCP handshakes (its backlog) and
   * open connections stay up, but nothing answers (test/faults/mariadb-hang.test.ts).
   */
  pause(): void
  /** SIGCONT: it carries on where it stopped. Does nothing when it is not running. */
  resume(): void
}

/** Debian and most distributions keep the server binaries in sbin, often not on a user's PATH. */
function findBinary(names: readonly string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin']
  for (const name of names) for (const dir of dirs) if (dir && existsSync(join(dir, name))) return join(dir, name)
  return null
}

// Small enough to install and start in a second or two on a busy two-core machine.
const SIZING = ['--innodb-buffer-pool-size=32M', '--innodb-log-file-size=8M']

/**
 * Installs a fresh datadir and starts mariadbd on `port`. Fails (never skips) when the
 * binaries are missing: the outage test is part of the suite, and a CI image without
 * mariadb-server must say so rather than pass silently.
 */
export async function startPrivateMariadb(port: number): Promise<PrivateMariadb> {
  const server = findBinary(['mariadbd', 'mysqld'])
  const install = findBinary(['mariadb-install-db', 'mysql_install_db'])
  if (!server || !install) {
    throw new Error('the MariaDB outage test needs mariadbd and mariadb-install-db (Debian/Ubuntu: apt-get install mariadb-server); not found on PATH, /usr/sbin or /usr/local/sbin')
  }
  const dir = mkdtempSync(join(tmpdir(), 'sentra-mariadb-'))
  const datadir = join(dir, 'data')
  // --no-defaults: the machine's my.cnf (user=mysql, its own log and socket paths) must not apply.
  // --user=root only when we are root: mariadbd refuses to run as root without it.
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : []
  const installed = spawnSync(install, ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot, ...SIZING], { encoding: 'utf8', timeout: 120_000 })
  if (installed.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`${install} failed (exit ${installed.status ?? installed.signal}): ${(installed.stdout + installed.stderr).slice(-2000)}`)
  }
  const errorLog = join(dir, 'error.log')
  let child: ChildProcess | null = null

  const connectRoot = () => createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2000 })

  const start = async () => {
    const args = ['--no-defaults', `--datadir=${datadir}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, `--log-error=${errorLog}`, '--skip-name-resolve', ...asRoot, ...SIZING]
    const started = spawn(server, args, { stdio: 'ignore' })
    child = started
    const exited = new Promise<string>((resolve) => started.once('exit', (code, signal) => resolve(`mariadbd exited (${code ?? signal}) while starting`)))
    started.once('error', () => {})
    const deadline = Date.now() + 60_000
    for (;;) {
      try {
        const conn = await connectRoot()
        await conn.query('SELECT 1')
        await conn.end()
        return
      } catch (error) {
        const gone = started.exitCode !== null || started.signalCode !== null ? await exited : null
        if (gone || Date.now() > deadline) {
          const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8').slice(-2000) : ''
          throw new Error(`${gone ?? `mariadbd on ${port} did not answer within 60 s: ${String(error)}`}\n${log}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }

  const kill = async () => {
    const running = child
    child = null
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    running.kill('SIGKILL')
    await exited
  }

  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    const running = child as ChildProcess | null
    if (running && running.exitCode === null && running.signalCode === null) running.kill(name)
  }

  try {
    await start()
  } catch (error) {
    await kill()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    port,
    url: (database) => `mysql://root@127.0.0.1:${port}/${database}`,
    createDatabase: async (name) => {
      if (!/^\w+$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: letters, digits and _ only`)
      const conn = await connectRoot()
      try {
        await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
      } finally {
        await conn.end()
      }
    },
    kill,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    dispose: async () => {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
