import type { ExecutionResult } from 'graphql'
import { describe, expect, it } from 'vitest'
import { FanoutHub } from './hub.ts'
import { OPEN, WS_TOO_SLOW, type FanoutSocket } from './socket.ts'

/** A socket that records what it is sent; `bufferedAmount` is set by the test. */
class FakeSocket implements FanoutSocket {
  readyState = OPEN
  bufferedAmount = 0
  sent: string[] = []
  closed: { code: number; reason: string } | null = null
  send(data: string): void {
    this.sent.push(data)
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason }
    this.readyState = 2
  }
  terminate(): void {
    this.readyState = 3
  }
}

/** A source stream the test pushes results into; counts how often it was started and ended. */
function source() {
  const queue: ExecutionResult[] = []
  let wake: (() => void) | null = null
  const state = { started: 0, returned: 0, ended: false }
  const stream: AsyncIterable<ExecutionResult> = {
    [Symbol.asyncIterator]() {
      state.started++
      return {
        async next() {
          while (queue.length === 0 && !state.ended) await new Promise<void>((r) => (wake = r))
          if (state.ended) return { done: true, value: undefined }
          return { done: false, value: queue.shift()! }
        },
        async return() {
          state.returned++
          state.ended = true
          wake?.()
          return { done: true, value: undefined }
        },
      }
    },
  }
  return {
    stream,
    state,
    push(result: ExecutionResult) {
      queue.push(result)
      wake?.()
    },
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5))

describe('FanoutHub', () => {
  it('starts one stream per key and writes the same payload bytes to every member', async () => {
    let reads = 0
    const hub = new FanoutHub({ isActive: async () => (reads++, true) })
    const src = source()
    const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()]
    let starts = 0
    const start = () => (starts++, src.stream)
    const sinks = await Promise.all(sockets.map((socket, i) => hub.join('k', { id: `op-${i}`, socket, tokenId: i < 2 ? 't1' : 't2' }, start)))
    expect(starts).toBe(1)
    expect(hub.stats).toMatchObject({ groups: 1, subscribers: 3 })
    src.push({ data: { n: 1 } })
    await tick()
    expect(sockets.map((s) => s.sent)).toEqual([0, 1, 2].map((i) => [`{"id":"op-${i}","type":"next","payload":{"data":{"n":1}}}`]))
    expect(hub.stats).toMatchObject({ executions: 1, deliveries: 3 })
    // Two tokens, one read each for this event (not one per subscriber).
    expect(reads).toBe(2)
    for (const sink of sinks) await (sink as AsyncIterator<unknown>).return!()
    expect(src.state.returned).toBe(1)
    expect(hub.stats).toMatchObject({ groups: 0, subscribers: 0 })
  })

  it('keeps different keys apart', async () => {
    const hub = new FanoutHub({ isActive: async () => true })
    const a = source()
    const b = source()
    const sa = new FakeSocket()
    const sb = new FakeSocket()
    await hub.join('scope-a', { id: '1', socket: sa, tokenId: 'ta' }, () => a.stream)
    await hub.join('scope-b', { id: '1', socket: sb, tokenId: 'tb' }, () => b.stream)
    a.push({ data: { app: 'a' } })
    await tick()
    expect(sa.sent).toHaveLength(1)
    expect(sb.sent).toHaveLength(0)
    expect(hub.stats.groups).toBe(2)
  })

  it('accepts members only until the first result: a later subscriber starts its own stream', async () => {
    const hub = new FanoutHub({ isActive: async () => true })
    const first = source()
    const second = source()
    const s1 = new FakeSocket()
    const s2 = new FakeSocket()
    await hub.join('k', { id: '1', socket: s1, tokenId: 't' }, () => first.stream)
    first.push({ data: { snapshot: 1 } })
    await tick()
    let secondStarts = 0
    await hub.join('k', { id: '2', socket: s2, tokenId: 't' }, () => (secondStarts++, second.stream))
    expect(secondStarts).toBe(1)
    expect(hub.stats.groups).toBe(2)
  })

  it('closes a socket that does not read (WS_TOO_SLOW) and keeps serving the others', async () => {
    const hub = new FanoutHub({ isActive: async () => true, maxBufferedBytes: 1000 })
    const src = source()
    const slow = new FakeSocket()
    const fast = new FakeSocket()
    await hub.join('k', { id: '1', socket: slow, tokenId: 't' }, () => src.stream)
    await hub.join('k', { id: '1', socket: fast, tokenId: 't' }, () => src.stream)
    slow.bufferedAmount = 5000
    src.push({ data: { n: 1 } })
    await tick()
    expect(slow.closed?.code).toBe(WS_TOO_SLOW)
    expect(slow.sent).toHaveLength(0)
    expect(fast.sent).toHaveLength(1)
    expect(hub.stats.slowClosed).toBe(1)
  })

  it('ends only the member whose token is no longer active, with UNAUTHENTICATED', async () => {
    const revoked = new Set<string>()
    const hub = new FanoutHub({ isActive: async (id) => !revoked.has(id) })
    const src = source()
    const keep = new FakeSocket()
    const gone = new FakeSocket()
    const keepSink = (await hub.join('k', { id: '1', socket: keep, tokenId: 'ok' }, () => src.stream)) as AsyncIterator<unknown>
    const goneSink = (await hub.join('k', { id: '1', socket: gone, tokenId: 'bad' }, () => src.stream)) as AsyncIterator<unknown>
    const goneNext = goneSink.next()
    const keepNext = keepSink.next()
    revoked.add('bad')
    src.push({ data: { n: 1 } })
    await expect(goneNext).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } })
    expect(gone.sent).toHaveLength(0)
    expect(keep.sent).toHaveLength(1)
    expect(hub.stats.subscribers).toBe(1)
    await keepSink.return!()
    await expect(keepNext).resolves.toEqual({ done: true, value: undefined })
    expect(src.state.returned).toBe(1)
  })

  it('gives every member the error of a failing stream, and the result of a failed start', async () => {
    const hub = new FanoutHub({ isActive: async () => true })
    const failing: AsyncIterable<ExecutionResult> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('rollout does not exist')) }),
    }
    const sinks = await Promise.all([1, 2].map((i) => hub.join('k', { id: String(i), socket: new FakeSocket(), tokenId: 't' }, () => failing)))
    for (const sink of sinks) await expect((sink as AsyncIterator<unknown>).next()).rejects.toThrow('rollout does not exist')
    expect(hub.stats.groups).toBe(0)
    const refused = { errors: [] }
    await expect(hub.join('k2', { id: '1', socket: new FakeSocket(), tokenId: 't' }, () => refused)).resolves.toBe(refused)
    expect(hub.stats.groups).toBe(0)
  })
})
