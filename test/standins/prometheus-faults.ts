/**
 * A Prometheus-compatible HTTP stand-in that misbehaves on purpose, for the fault suites.
 * The first path segment picks the behaviour, so one server backs several providers
 * (a provider URL keeps its path prefix: `http://127.0.0.1:PORT/hang`):
 *
 * - `/ok/...`      a well-formed instant vector of one sample (`value`, default 0.001)
 * - `/hang/...`    accepts the request and never answers
 * - `/error/...`   HTTP 500 with a Prometheus error envelope
 * - `/garbage/...` 200 with, in turn: text that is not JSON, JSON of the wrong shape, and a
 *                  vector whose sample is not a number
 *
 * Only the endpoints Sentra's Prometheus client calls are answered (query, query_range,
 * status/buildinfo); each request is counted per behaviour.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type FaultMode = 'ok' | 'hang' | 'error' | 'garbage'
const MODES: readonly FaultMode[] = ['ok', 'hang', 'error', 'garbage']

export interface FaultyPrometheus {
  /** Base URL of one behaviour, for a provider's `url`. */
  url(mode: FaultMode): string
  /** Requests received per behaviour. */
  requests(mode: FaultMode): number
  close(): Promise<void>
}

const GARBAGE = [
  () => '<html>502 Bad Gateway</html>{',
  () => JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: 'everything is fine' } }),
  () => JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, 'not-a-number'] }] } }),
]

export async function startFaultyPrometheus({ value = 0.001 }: { value?: number } = {}): Promise<FaultyPrometheus> {
  const counts = new Map<FaultMode, number>(MODES.map((mode) => [mode, 0]))
  const hanging = new Set<ServerResponse>()
  let garbageTurn = 0
  const json = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(body)
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const [, first = '', ...rest] = (req.url ?? '/').split('?')[0]!.split('/')
    const mode = MODES.find((m) => m === first)
    const endpoint = rest.join('/')
    if (mode === undefined || !['api/v1/query', 'api/v1/query_range', 'api/v1/status/buildinfo'].includes(endpoint)) {
      json(res, 404, JSON.stringify({ status: 'error', errorType: 'not_found', error: `no ${req.url}` }))
      return
    }
    counts.set(mode, (counts.get(mode) ?? 0) + 1)
    req.resume()
    switch (mode) {
      case 'hang':
        hanging.add(res)
        res.on('close', () => hanging.delete(res))
        return
      case 'error':
        json(res, 500, JSON.stringify({ status: 'error', errorType: 'internal', error: 'stand-in: the query engine fell over' }))
        return
      case 'garbage':
        json(res, 200, GARBAGE[garbageTurn++ % GARBAGE.length]!())
        return
      case 'ok':
        if (endpoint === 'api/v1/status/buildinfo') json(res, 200, JSON.stringify({ status: 'success', data: { version: '2.42.0-standin' } }))
        else json(res, 200, JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(value)] }] } }))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (mode) => `http://127.0.0.1:${port}/${mode}`,
    requests: (mode) => counts.get(mode) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
