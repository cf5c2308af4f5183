/**
 * A loopback TCP port in front of the Docker engine's socket that a test can cut and restore:
 * "the engine is unreachable" without stopping the real engine other tests use.
 */
import { connect, createServer, type Socket } from 'node:net'
import type { DockerHost } from '../../controller/targets/docker-host.ts'

export interface EngineForwarder {
  /** tcp://127.0.0.1:<port>, for SENTRA_DOCKER_HOST / the runtime's dockerHost. */
  readonly url: string
  /** Drops every open connection and refuses new ones until `restore`. */
  cut(): void
  restore(): void
  close(): Promise<void>
}

export async function startEngineForwarder(engine: DockerHost): Promise<EngineForwarder> {
  let open = true
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    if (!open) {
      client.destroy()
      return
    }
    const upstream = 'socketPath' in engine ? connect(engine.socketPath) : connect(engine.port, engine.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `tcp://127.0.0.1:${port}`,
    cut: () => {
      open = false
      for (const socket of sockets) socket.destroy()
    },
    restore: () => {
      open = true
    },
    close: async () => {
      open = false
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
