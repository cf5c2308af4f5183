/**
 * The benchmark's subscribers: plain `ws` sockets speaking graphql-transport-ws by hand
 * (connection_init, subscribe, next), so thousands of them cost their subscriber process
 * (bench/fanout/subscriber-process.ts) as little as possible. Each records when each event
 * (by `seq`) reached it.
 */
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'

export const SUBSCRIPTION = `subscription FanoutBench($application: String) {
  rolloutEvents(application: $application) { kind seq at rollout { id status desiredWeight } }
}`

/** `seq` of a `next` message carrying data (the server's key order: id, type, payload.data.rolloutEvents.kind, seq). */
const NEXT_SEQ = /^\{"id":"[^"]*","type":"next","payload":\{"data":\{"rolloutEvents":\{"kind":"[a-z]+","seq":(\d+),/

export interface Subscriber {
  /** seq → performance.now() of receipt (this process's; add performance.timeOrigin to compare across processes). */
  readonly received: Map<number, number>
  errors: number
  closed: boolean
  close(): void
}

/** Opens one subscriber; resolves once the server acknowledged the connection and the subscribe was sent. */
function open(url: string, token: string, application: string): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws')
    const subscriber: Subscriber = {
      received: new Map(),
      errors: 0,
      closed: false,
      close: () => ws.terminate(),
    }
    let acknowledged = false
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { token } })))
    ws.on('message', (data) => {
      const now = performance.now()
      const text = String(data)
      // The hot path: a `next` with data is recognized without JSON.parse, so thousands of
      // subscribers in one process slow the measurement down as little as possible.
      const seq = NEXT_SEQ.exec(text)
      if (seq) {
        subscriber.received.set(Number(seq[1]), now)
        return
      }
      const message = JSON.parse(text) as { type: string }
      if (message.type === 'next') {
        subscriber.errors++ // a next without data: errors
      } else if (message.type === 'error') {
        subscriber.errors++
      } else if (message.type === 'connection_ack') {
        acknowledged = true
        // A random operation id, as graphql-ws clients make: every subscriber's frame differs.
        ws.send(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { application } } }))
        resolve(subscriber)
      }
    })
    ws.on('close', (code, reason) => {
      subscriber.closed = true
      if (!acknowledged) reject(new Error(`subscriber refused: ${code} ${String(reason)}`))
    })
    ws.on('error', (error) => {
      if (!acknowledged) reject(error)
    })
  })
}

/**
 * Opens the step's subscribers `from` to `to - 1`, `parallel` at a time. Subscriber i uses
 * urls[i % urls.length] and tokens[i % tokens.length], so however the step is split over
 * processes, the whole step is round-robin over the servers and the tokens.
 */
export async function openSubscribers(from: number, to: number, urls: readonly string[], tokens: readonly string[], application: string, parallel = 100): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = []
  let next = from
  const worker = async () => {
    while (next < to) {
      const i = next++
      subscribers[i - from] = await open(urls[i % urls.length]!, tokens[i % tokens.length]!, application)
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(0, Math.min(parallel, to - from)) }, worker))
  } catch (error) {
    for (const s of subscribers) s?.close()
    throw error
  }
  return subscribers
}
