/** Ports for the version processes of the process target. */
import { createServer } from 'node:net'

const HOST = '127.0.0.1'

/** A port the OS says is free right now (listen on 0, read it, close). The child binds it a
 * moment later; if something else took it meanwhile, the child fails to start and says so. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('the OS gave no port'))))
    })
  })
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/**
 * The first port of `range` (inclusive) that is neither `reserved` nor bound by anyone, added
 * to `reserved` before it is returned: two starts running at once never get the same port.
 * The caller removes it again when its process has exited.
 */
export async function reservePortInRange(range: readonly [number, number], reserved: Set<number>): Promise<number> {
  const [low, high] = range
  for (let port = low; port <= high; port += 1) {
    if (reserved.has(port) || !(await canBind(port))) continue
    // Checked again: another start may have taken it while this one was probing.
    if (reserved.has(port)) continue
    reserved.add(port)
    return port
  }
  throw new Error(`no free port in ${low}-${high} on ${HOST}`)
}
