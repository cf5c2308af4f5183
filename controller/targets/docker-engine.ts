/**
 * The few Docker Engine API calls the docker target makes (through dockerode), with the
 * engine's own error message kept as evidence and every HTTP call to the engine counted.
 */
import Docker from 'dockerode'
import { describeHost, type DockerHost } from './docker-host.ts'
import { LABELS, type ManagedContainer, type ContainerState } from './docker-names.ts'


/** An engine call failed; `engineMessage` is what the engine (or the connection) said. */
export class DockerEngineError extends Error {
  readonly statusCode: number | null
  readonly engineMessage: string
  /** True when the engine could not be reached at all (no answer, as opposed to an error answer). */
  readonly unreachable: boolean

  constructor(what: string, where: string, cause: unknown) {
    const statusCode = statusOf(cause)
    const engineMessage = messageOf(cause)
    const unreachable = statusCode === null && isConnectionFailure(cause)
    super(unreachable ? `the Docker engine at ${where} is unreachable (${what}): ${engineMessage}` : `Docker engine: ${what}: ${engineMessage}`, { cause })
    this.name = 'DockerEngineError'
    this.statusCode = statusCode
    this.engineMessage = engineMessage
    this.unreachable = unreachable
  }
}

/** What a container is doing, from an inspect. */
export interface ContainerInspection {
  state: ContainerState
  exitCode: number
  /** The engine's error for a container that could not run (e.g. exec format error), or ''. */
  error: string
  oomKilled: boolean
  /** The image's HEALTHCHECK status (starting, healthy, unhealthy), or null without one. */
  health: string | null
  /** The last output of the health check, for messages. */
  healthOutput: string | null
}

export interface CreateContainerRequest {
  name: string
  image: string
  env: Record<string, string>
  labels: Record<string, string>
}

export class DockerEngine {
  readonly where: string
  #docker: Docker
  #calls = 0

  constructor(host: DockerHost, { timeoutMs = 60_000 }: { timeoutMs?: number } = {}) {
    this.where = describeHost(host)
    this.#docker = new Docker({ ...('socketPath' in host ? { socketPath: host.socketPath } : { host: host.host, port: host.port, protocol: 'http' as const }), timeout: timeoutMs })
    // Every engine request goes through modem.dial: counting there counts them all.
    const modem = this.#docker.modem as unknown as { dial: (...args: unknown[]) => unknown }
    const dial = modem.dial.bind(modem)
    modem.dial = (...args: unknown[]) => {
      this.#calls += 1
      return dial(...args)
    }
  }

  /** HTTP requests made to the engine so far (for the benchmark and the API-call budget). */
  get calls(): number {
    return this.#calls
  }

  async ping(): Promise<void> {
    await this.#call('ping', () => this.#docker.ping())
  }

  /** Every container (running or not) labelled as belonging to `application`. */
  async containersOf(application: string): Promise<ManagedContainer[]> {
    const listed = await this.#call(`list the containers of ${application}`, () =>
      this.#docker.listContainers({ all: true, filters: { label: [`${LABELS.application}=${application}`] } }),
    )
    return listed.map((info) => ({
      id: info.Id,
      name: (info.Names[0] ?? info.Id).replace(/^\//, ''),
      application: info.Labels[LABELS.application] ?? application,
      version: info.Labels[LABELS.version] ?? '',
      role: info.Labels[LABELS.role] ?? '',
      port: portLabel(info.Labels[LABELS.port]),
      state: normalizeState(info.State),
      status: info.Status,
    }))
  }

  /**
   * Creates the container, pulling its image first when the engine does not have it and
   * `pull` allows. Host networking: the container listens on loopback ports of this machine.
   */
  async create(request: CreateContainerRequest, pull: boolean): Promise<string> {
    const options: Docker.ContainerCreateOptions = {
      name: request.name,
      Image: request.image,
      Env: Object.entries(request.env).map(([name, value]) => `${name}=${value}`),
      Labels: request.labels,
      // No restart policy: a canary that crashes must stay crashed so canaryFailure sees it.
      HostConfig: { NetworkMode: 'host', RestartPolicy: { Name: 'no' } },
    }
    try {
      const created = await this.#docker.createContainer(options)
      return created.id
    } catch (error) {
      if (statusOf(error) === 404 && pull) {
        await this.pull(request.image)
        return (await this.#call(`create container ${request.name}`, () => this.#docker.createContainer(options))).id
      }
      throw new DockerEngineError(statusOf(error) === 404 ? `image ${request.image} not found` : `create container ${request.name}`, this.where, error)
    }
  }

  /** Pulls an image, waiting for the whole stream (errors arrive inside it, not as a status). */
  async pull(image: string): Promise<void> {
    const stream = await this.#call(`image ${image} not found locally; pulling it failed`, () => this.#docker.pull(image))
    await new Promise<void>((resolve, reject) => {
      this.#docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(new DockerEngineError(`image ${image} not found locally; pulling it failed`, this.where, error)) : resolve()))
    })
  }

  async start(id: string): Promise<void> {
    await this.#call(`start container ${id.slice(0, 12)}`, () => this.#docker.getContainer(id).start(), [304])
  }

  async inspect(id: string): Promise<ContainerInspection> {
    const info = await this.#call(`inspect container ${id.slice(0, 12)}`, () => this.#docker.getContainer(id).inspect())
    const health = info.State.Health
    const lastProbe = health?.Log?.at(-1)
    return {
      state: normalizeState(info.State.Status),
      exitCode: info.State.ExitCode,
      error: info.State.Error ?? '',
      oomKilled: info.State.OOMKilled,
      health: health?.Status ?? null,
      healthOutput: lastProbe?.Output?.trim() || null,
    }
  }

  /** The last `lines` lines the container printed (stderr and stdout interleaved). */
  async lastOutput(id: string, lines: number): Promise<string[]> {
    const raw = await this.#call(`read the logs of ${id.slice(0, 12)}`, () =>
      this.#docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false }),
    )
    return demultiplex(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)))
      .split('\n')
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line !== '')
      .slice(-lines)
  }

  /** Stops (SIGTERM, SIGKILL after `graceSeconds`) and removes; a container already gone is fine. */
  async remove(id: string, graceSeconds: number): Promise<void> {
    const container = this.#docker.getContainer(id)
    await this.#call(`stop container ${id.slice(0, 12)}`, () => container.stop({ t: graceSeconds }), [304, 404])
    await this.#call(`remove container ${id.slice(0, 12)}`, () => container.remove({ force: true }), [404])
  }

  /** Runs one engine call; statuses in `fine` (e.g. 304 already started, 404 already gone) are success. */
  async #call<T>(what: string, run: () => Promise<T>, fine: number[] = []): Promise<T> {
    try {
      return await run()
    } catch (error) {
      const status = statusOf(error)
      if (status !== null && fine.includes(status)) return undefined as T
      throw new DockerEngineError(what, this.where, error)
    }
  }
}

/**
 * Without a TTY the engine frames each chunk of output with an 8-byte header (stream, 0, 0,
 * 0, length as uint32 big-endian). Output that does not look framed is returned as it is.
 */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = []
  let offset = 0
  while (offset + 8 <= raw.length) {
    const stream = raw[offset]!
    if (stream > 2 || raw[offset + 1] !== 0 || raw[offset + 2] !== 0 || raw[offset + 3] !== 0) return raw.toString('utf8')
    const length = raw.readUInt32BE(offset + 4)
    parts.push(raw.subarray(offset + 8, offset + 8 + length))
    offset += 8 + length
  }
  return Buffer.concat(parts).toString('utf8')
}

/** The port label as a port, or 0 when it is missing or not one (such a container is replaced, never adopted). */
function portLabel(value: string | undefined): number {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return 0
  const port = Number(value)
  return port >= 1 && port <= 65535 ? port : 0
}

function normalizeState(state: string): ContainerState {
  const known: ContainerState[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']
  return (known as string[]).includes(state) ? (state as ContainerState) : 'dead'
}

/** No answer at all: a system error on the socket (ENOENT, ECONNREFUSED, EACCES, ...) or a timeout. */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' || (error instanceof Error && /timeout|socket hang up/i.test(error.message))
}

function statusOf(error: unknown): number | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  return typeof status === 'number' ? status : null
}

/** The engine's `message` (dockerode keeps the JSON body in `json`), else the error's own. */
function messageOf(error: unknown): string {
  const body = (error as { json?: unknown } | null)?.json
  const fromBody = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined
  if (typeof fromBody === 'string' && fromBody.trim() !== '') return fromBody.trim()
  if (error instanceof Error) return error.message
  return String(error)
}
