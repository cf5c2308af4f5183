import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request a test receiver got, with the raw body as sent. */
export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  at: number
}

/** What to answer: a status (and body), after an optional delay. */
export interface Answer {
  status: number
  body?: string
  delayMs?: number
}

/** Decides each answer; `index` counts the requests this receiver got, from 0. */
export type Responder = (request: ReceivedRequest, index: number) => Answer

export interface WebhookReceiver {
  readonly port: number
  readonly url: string
  readonly requests: ReceivedRequest[]
  /** Changes the answers from now on. */
  respond(responder: Responder): void
  /** Stops listening and cuts open connections (a held answer is never sent). */
  close(): Promise<void>
}

/**
 * A real HTTP receiver on 127.0.0.1 (port 0 = any free one) that records every request
 * and answers as told (200 by default).
 */
export async function startReceiver({ port = 0, respond }: { port?: number; respond?: Responder } = {}): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = []
  let responder: Responder = respond ?? (() => ({ status: 200, body: 'ok' }))
  const timers = new Set<NodeJS.Timeout>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      const index = requests.length
      requests.push(request)
      const answer = responder(request, index)
      const send = (): void => {
        if (res.destroyed) return
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '')
      }
      if (!answer.delayMs) return send()
      const timer = setTimeout(() => {
        timers.delete(timer)
        send()
      }, answer.delayMs)
      timers.add(timer)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const actual = (server.address() as AddressInfo).port
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}/hooks/sentra`,
    requests,
    respond: (next) => {
      responder = next
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
