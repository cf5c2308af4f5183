/**
 * Where the Docker engine listens (SENTRA_DOCKER_HOST). Kept apart from docker-engine.ts so
 * the configuration can check the value without loading dockerode.
 */
import { existsSync } from 'node:fs'

/** A unix socket, or a loopback TCP address. */
export type DockerHost = { socketPath: string } | { host: string; port: number }

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock'

const LOOPBACK = ['127.0.0.1', 'localhost', '::1', '[::1]']

/**
 * Parses `unix:///path`, a plain absolute path, or `tcp://127.0.0.1:2375`. A TCP engine must
 * be on this machine: containers use host networking and Sentra's proxy reaches them on
 * 127.0.0.1, which only works when they run here.
 */
export function parseDockerHost(raw: string): DockerHost {
  const value = raw.trim()
  if (value.length > 4096) throw new Error('the Docker host must be at most 4096 characters')
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length)
    if (!socketPath.startsWith('/')) throw new Error(`"${raw}" must name an absolute socket path (unix:///var/run/docker.sock)`)
    return { socketPath }
  }
  if (value.startsWith('/')) return { socketPath: value }
  const tcp = /^(?:tcp|http):\/\/(\[::1\]|[^:/\s]+):(\d{1,5})\/?$/.exec(value)
  if (tcp) {
    const host = tcp[1]!
    const port = Number(tcp[2])
    if (port < 1 || port > 65535) throw new Error(`"${raw}": ${port} is not a port number`)
    if (!LOOPBACK.includes(host)) throw new Error(`"${raw}": the engine must run on this machine (127.0.0.1 or localhost), since Sentra reaches the containers on loopback`)
    return { host: host === '[::1]' ? '::1' : host, port }
  }
  throw new Error(`"${raw}" is not a Docker host; use unix:///var/run/docker.sock or tcp://127.0.0.1:2375`)
}

export function describeHost(host: DockerHost): string {
  return 'socketPath' in host ? `unix://${host.socketPath}` : `tcp://${host.host.includes(':') ? `[${host.host}]` : host.host}:${host.port}`
}

/**
 * The engine the docker target uses, as SENTRA_DOCKER_HOST says: a checked address, `none`
 * (no docker target), or unset: the default socket when it exists, else none.
 * Throws with the reason when the value is not a usable address.
 */
export function configuredDockerHost(raw: string | undefined, socketExists: (path: string) => boolean = existsSync): string | null {
  if (raw === undefined || raw.trim() === '') return socketExists(DEFAULT_DOCKER_SOCKET) ? `unix://${DEFAULT_DOCKER_SOCKET}` : null
  if (/^(none|off|0|false)$/i.test(raw.trim())) return null
  return describeHost(parseDockerHost(raw))
}
