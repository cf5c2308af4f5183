import { existsSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'

/**
 * The part of Next.js's programmatic API used here (`next({ dev, dir })`). Loaded with
 * require rather than imported: Next.js's type declarations change `process.env` for the
 * whole program (NODE_ENV becomes required), which the API and controller code must not see.
 */
interface NextServer {
  prepare(): Promise<void>
  getRequestHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void>
  getUpgradeHandler(): (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>
  close(): Promise<void>
}
type CreateNextServer = (options: { dev: boolean; dir: string; quiet?: boolean; hostname?: string; port?: number }) => NextServer
const next = createRequire(import.meta.url)('next') as CreateNextServer

/** The dashboard as request handlers, for an HTTP server that serves other things too. */
export interface DashboardHandler {
  /** Serves a page, an asset or a Next.js internal path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** WebSocket upgrades for Next.js itself (development hot reload); the API's /graphql is not its business. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>
  close(): Promise<void>
}

export interface DashboardOptions {
  /** Development mode compiles on demand and hot-reloads; otherwise `next build` output in `<dir>/.next` is served. */
  dev: boolean
  /** The Next.js project: this web/ folder. */
  dir: string
  /** Quieter logs (no server information in error pages). */
  quiet?: boolean
  /** The host name browsers use (development mode refuses its hot-reload socket to other origins). */
  hostname?: string
  port?: number
}

/** Whether `next build` has run in `dir` (its output is what production mode serves). */
export function hasProductionBuild(dir: string): boolean {
  return existsSync(join(dir, '.next', 'BUILD_ID'))
}

/**
 * The dashboard through Next.js's programmatic API, to be mounted in the API server
 * (embedded mode: one process, one port) or in web/main.ts (a dashboard process of its own).
 *
 * Next.js sets `process.env.NODE_ENV` while preparing ('production' or 'development'):
 * read anything that depends on it (server/config.ts) before calling this.
 */
export async function createDashboardHandler({ dev, dir, quiet = !dev, hostname, port }: DashboardOptions): Promise<DashboardHandler> {
  // Next.js reports anonymous usage to the internet unless told not to; Sentra sends nothing anywhere.
  process.env.NEXT_TELEMETRY_DISABLED ??= '1'
  if (!dev && !hasProductionBuild(dir)) {
    throw new Error(`the dashboard has no production build in ${join(dir, '.next')}: run \`next build ${dir}\` first, or use development mode`)
  }
  const app = next({ dev, dir, quiet, ...(hostname ? { hostname } : {}), ...(port ? { port } : {}) })
  await app.prepare()
  const handle = app.getRequestHandler()
  const upgrade = dev ? app.getUpgradeHandler() : null
  return {
    handle: (req, res) => handle(req, res),
    upgrade: async (req, socket, head) => {
      if (upgrade) return upgrade(req, socket, head)
      // Production pages open no WebSocket but the API's /graphql.
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n')
    },
    close: () => app.close(),
  }
}
