/**
 * The real Docker engine for tests: whether it answers, test images made with `docker import`
 * from a root filesystem built here (no registry is reachable), and cleanup by label.
 *
 * The image is busybox-static plus busybox httpd serving a CGI script on every path:
 * GET /healthz answers 200 (a static file); GET / answers 200, or 500 for ERROR_PERCENT % of
 * requests. It listens on 127.0.0.1:$PORT (host networking; PORT is set by Sentra).
 */
import { execFile } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Docker from 'dockerode'
import { DEFAULT_DOCKER_SOCKET, parseDockerHost, type DockerHost } from '../../controller/targets/docker-host.ts'
import { LABELS } from '../../controller/targets/docker-names.ts'

const run = promisify(execFile)
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox']

/** The engine the tests use: SENTRA_DOCKER_HOST, else the default socket. */
export const TEST_DOCKER_HOST: DockerHost = parseDockerHost(process.env.SENTRA_DOCKER_HOST || DEFAULT_DOCKER_SOCKET)

export interface EngineCheck {
  ok: boolean
  /** Why the engine cannot be used, for the skip or failure message. */
  reason: string
}

/** Whether the engine answers a ping and busybox-static is there to build images. */
export async function checkDockerEngine(): Promise<EngineCheck> {
  const busybox = BUSYBOX_CANDIDATES.find((path) => existsSync(path))
  if (busybox === undefined) return { ok: false, reason: 'busybox is not installed (apt-get install -y busybox-static)' }
  try {
    await new Docker({ ...TEST_DOCKER_HOST, timeout: 5000 }).ping()
    return { ok: true, reason: '' }
  } catch (error) {
    const where = 'socketPath' in TEST_DOCKER_HOST ? TEST_DOCKER_HOST.socketPath : `${TEST_DOCKER_HOST.host}:${TEST_DOCKER_HOST.port}`
    return { ok: false, reason: `no Docker engine answers at ${where} (${error instanceof Error ? error.message : String(error)}); .ci/run starts one: dockerd --bridge=none --iptables=false --ip-masq=false` }
  }
}

/**
 * In CI (CI=true) a missing engine is a failure, never a skip: call this in beforeAll.
 * Elsewhere the suite is skipped (see `dockerSuite`), with the reason printed once.
 */
export function requireEngine(check: EngineCheck): void {
  if (!check.ok) throw new Error(`the Docker tests need a Docker engine: ${check.reason}`)
}

/** True when the docker suites should run: an engine answers, or CI=true (where a missing one must fail). */
export function dockerSuiteRuns(check: EngineCheck): boolean {
  if (check.ok || process.env.CI === 'true') return true
  console.warn(`Skipping the Docker engine tests: ${check.reason}. Set CI=true to make this a failure.`)
  return false
}

/** How one test image behaves. */
export interface TestImage {
  /** Share of requests to / answered 500, 0-100. */
  errorPercent?: number
  /** Exits with this code this many seconds after starting (after becoming healthy), printing a line to stderr first. */
  crashAfterSeconds?: number
  crashCode?: number
  /** Exits at once with this code, printing a line to stderr (never healthy). */
  failAtStart?: number
}

const INDEX_CGI = `#!/bin/sh
if [ $((RANDOM % 100)) -lt \${ERROR_PERCENT:-0} ]; then
  printf 'Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\nfailing on purpose\\n'
else
  printf 'Content-Type: text/plain\\r\\n\\r\\nhello from %s\\n' "\${APP_VERSION:-unknown}"
fi
`

const START = `#!/bin/sh
if [ -n "\${FAIL_AT_START:-}" ]; then echo "fatal: refusing to start (FAIL_AT_START=$FAIL_AT_START)" >&2; exit "$FAIL_AT_START"; fi
echo "listening on 127.0.0.1:$PORT"
if [ -n "\${CRASH_AFTER:-}" ]; then
  httpd -f -p "127.0.0.1:$PORT" -h /www &
  sleep "$CRASH_AFTER"
  echo "fatal: out of cheese after $CRASH_AFTER s" >&2
  exit "\${CRASH_CODE:-3}"
fi
exec httpd -f -p "127.0.0.1:$PORT" -h /www
`

let rootfsTar: Promise<string> | null = null

/** The root filesystem tar, built once per test process. */
function buildRootfs(): Promise<string> {
  rootfsTar ??= (async () => {
    const busybox = BUSYBOX_CANDIDATES.find((path) => existsSync(path))
    if (busybox === undefined) throw new Error('busybox is not installed (apt-get install -y busybox-static)')
    const dir = await mkdtemp(join(tmpdir(), 'sentra-docker-rootfs-'))
    // The tar is kept for the process's later imports, then removed with it.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const root = join(dir, 'rootfs')
    await mkdir(join(root, 'bin'), { recursive: true })
    await mkdir(join(root, 'www', 'cgi-bin'), { recursive: true })
    await mkdir(join(root, 'tmp'), { recursive: true })
    await copyFile(busybox, join(root, 'bin', 'busybox'))
    await chmod(join(root, 'bin', 'busybox'), 0o755)
    for (const applet of ['sh', 'httpd', 'sleep', 'echo', 'printf']) await symlink('busybox', join(root, 'bin', applet))
    await writeFile(join(root, 'www', 'healthz'), 'ok\n')
    await writeFile(join(root, 'www', 'cgi-bin', 'index.cgi'), INDEX_CGI, { mode: 0o755 })
    await writeFile(join(root, 'start.sh'), START, { mode: 0o755 })
    const tar = join(dir, 'rootfs.tar')
    await run('tar', ['-C', root, '-cf', tar, '.'])
    await rm(root, { recursive: true, force: true })
    return tar
  })()
  return rootfsTar
}

/** `docker import`s the test root filesystem as `reference` (e.g. sentra-test/web:v1) with the behaviour asked for. */
export async function importTestImage(reference: string, behaviour: TestImage = {}): Promise<void> {
  const tar = await buildRootfs()
  const env: string[] = [`ERROR_PERCENT=${behaviour.errorPercent ?? 0}`]
  if (behaviour.crashAfterSeconds !== undefined) env.push(`CRASH_AFTER=${behaviour.crashAfterSeconds}`, `CRASH_CODE=${behaviour.crashCode ?? 3}`)
  if (behaviour.failAtStart !== undefined) env.push(`FAIL_AT_START=${behaviour.failAtStart}`)
  const changes = [...env.map((e) => ['--change', `ENV ${e}`]).flat(), '--change', 'CMD ["/start.sh"]']
  await run('docker', ['import', ...changes, tar, reference], { env: { ...process.env, ...dockerCliEnv() } })
}

/** DOCKER_HOST for the docker CLI, matching TEST_DOCKER_HOST. */
function dockerCliEnv(): Record<string, string> {
  return { DOCKER_HOST: 'socketPath' in TEST_DOCKER_HOST ? `unix://${TEST_DOCKER_HOST.socketPath}` : `tcp://${TEST_DOCKER_HOST.host}:${TEST_DOCKER_HOST.port}` }
}

export function testDocker(): Docker {
  return new Docker({ ...TEST_DOCKER_HOST })
}

/** Every container (running or not) labelled with this application. */
export async function containersOf(application: string): Promise<Docker.ContainerInfo[]> {
  return testDocker().listContainers({ all: true, filters: { label: [`${LABELS.application}=${application}`] } })
}

/** Removes every container of the application (test cleanup). */
export async function removeContainersOf(application: string): Promise<void> {
  const docker = testDocker()
  for (const info of await containersOf(application)) await docker.getContainer(info.Id).remove({ force: true }).catch(() => {})
}

/** Removes test images (cleanup); missing ones are fine. */
export async function removeImages(references: string[]): Promise<void> {
  const docker = testDocker()
  for (const reference of references) await docker.getImage(reference).remove({ force: true }).catch(() => {})
}

/** A unique application name for one test (so runs and files never share containers). */
export function uniqueApp(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`
}

/** A docker application (validated like any spec) behind a proxy on `port`, images `<repository>:{{version}}`. */
export function dockerAppDoc(name: string, repository: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    target: { kind: 'docker', listen: `127.0.0.1:${port}`, image: `${repository}:{{version}}`, containerPort: 8080, env: { APP_VERSION: '{{version}}' }, healthPath: '/healthz' },
    strategy: { canary: { steps: [{ setWeight: 50 }] } },
    ...extra,
  }
}

/** `count` GETs of `/` (a few at a time) through Sentra's proxy at `url`; "version:status" of each answer. */
export async function versionsServed(url: string, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>()
  const batch = 8
  for (let sent = 0; sent < count; sent += batch) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(batch, count - sent) }, async () => {
        const res = await fetch(`${url}/`)
        await res.arrayBuffer()
        return `${res.headers.get('x-sentra-version') ?? 'none'}:${res.status}`
      }),
    )
    for (const answer of answers) seen.set(answer, (seen.get(answer) ?? 0) + 1)
  }
  return seen
}

/**
 * Steady traffic to `/` through Sentra's proxy at `url` (loopback only): the test image's
 * httpd answers its CGI on `/` only (other paths are 404, which is no error signal), so the
 * demo load (controller/demo/load.ts, which asks for /checkout) would not reach it.
 */
export function startRootLoad(url: string, rate = 40): { stop(): void } {
  const target = new URL(url)
  if (!['127.0.0.1', 'localhost'].includes(target.hostname)) throw new Error(`test load only goes to loopback, not ${target.hostname}`)
  let inFlight = 0
  const timer = setInterval(() => {
    if (inFlight >= 16) return
    inFlight++
    fetch(`${target.origin}/`)
      .then((res) => res.arrayBuffer())
      .catch(() => undefined)
      .finally(() => inFlight--)
  }, 1000 / rate)
  return { stop: () => clearInterval(timer) }
}
