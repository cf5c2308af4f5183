/**
 * A subscriber process of the fan-out benchmark, forked by bench/fanout/pool.ts (run with
 * `--import tsx`). It holds its share of the subscribers' sockets, so receiving N messages
 * per event is spread over several event loops instead of the publisher's, and answers the
 * main process's calls (bench/fanout/protocol.ts). Receipts are stamped with
 * performance.now() on the hot path and turned into this process's epoch clock
 * (clock.ts) only when reported.
 */
import { clockNow } from './clock.ts'
import type { Calls, CallName, Ready, Reply, Request } from './protocol.ts'
import { openSubscribers, type Subscriber } from './subscribers.ts'

const send = process.send?.bind(process)
if (!send) throw new Error('subscriber-process.ts must be forked with an IPC channel')

let subscribers: Subscriber[] = []

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function closeAll(): void {
  for (const s of subscribers) s.close()
  subscribers = []
}

type Handlers = { [K in CallName]: (args: Calls[K]['args']) => Calls[K]['result'] | Promise<Calls[K]['result']> }

const handlers: Handlers = {
  ping: () => ({ now: clockNow() }),

  open: async ({ from, to, urls, tokens, application, parallel }) => {
    closeAll()
    subscribers = await openSubscribers(from, to, urls, tokens, application, parallel)
    return { count: subscribers.length }
  },

  waitAll: async ({ seq, limitMs }) => {
    const deadline = performance.now() + limitMs
    // Subscribers before `ready` already have seq: each poll only looks at the rest.
    let ready = 0
    for (;;) {
      while (ready < subscribers.length && subscribers[ready]!.received.has(seq)) ready++
      if (ready === subscribers.length) break
      if (performance.now() > deadline) return { all: false, lastAt: null }
      await sleep(5)
    }
    let lastAt: number | null = null
    for (const s of subscribers) lastAt = Math.max(lastAt ?? -Infinity, s.received.get(seq)!)
    return { all: true, lastAt: lastAt === null ? null : performance.timeOrigin + lastAt }
  },

  receipts: ({ seqs }) => {
    const times = new Float64Array(subscribers.length * seqs.length).fill(Number.NaN)
    subscribers.forEach((s, row) => {
      seqs.forEach((seq, k) => {
        const at = s.received.get(seq)
        if (at !== undefined) times[row * seqs.length + k] = performance.timeOrigin + at
      })
    })
    return {
      subscribers: subscribers.length,
      times,
      errors: subscribers.reduce((n, s) => n + s.errors, 0),
      closed: subscribers.filter((s) => s.closed).length,
    }
  },

  close: () => {
    closeAll()
    return {}
  },
}

process.on('message', (request: Request) => {
  void (async () => {
    let reply: Reply
    try {
      const handler = handlers[request.type] as (args: Request['args']) => Calls[CallName]['result'] | Promise<Calls[CallName]['result']>
      reply = { id: request.id, ok: true, result: await handler(request.args) }
    } catch (error) {
      reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) }
    }
    send(reply)
  })()
})

// The main process went away (finished or crashed): do not linger holding sockets.
process.on('disconnect', () => {
  closeAll()
  process.exit(0)
})

send({ ready: true } satisfies Ready)
