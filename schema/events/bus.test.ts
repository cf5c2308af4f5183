/**
 * One body of tests run against both transports: what every Bus must do.
 * Redis-only behaviour (one SUBSCRIBE per channel, garbage on the wire, reconnects, other
 * processes) is in redis.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TEST_REDIS_URL, randomPrefix, rolloutChanged, waitFor } from '../../test/support/events.ts'
import type { Bus, BusErrorHandler } from './bus.ts'
import { BusClosedError } from './bus.ts'
import { InvalidPayloadError, type Payloads, type RolloutChangedEvent } from './channels.ts'
import { createBus } from './index.ts'

const PREFIX = randomPrefix('bus')

interface Reported {
  error: Error
  source: string
  channel?: string
}

const TRANSPORTS: [string, (onError: BusErrorHandler) => Bus][] = [
  ['memory', (onError) => createBus(undefined, { onError })],
  ['redis', (onError) => createBus(TEST_REDIS_URL, { prefix: PREFIX, onError })],
]

describe.each(TRANSPORTS)('Bus (%s)', (kind, make) => {
  let bus: Bus
  let reported: Reported[]

  beforeEach(() => {
    reported = []
    bus = make((error, info) => reported.push({ error, ...info }))
  })
  afterEach(async () => {
    await bus.close()
  })

  /** Subscribes and collects payloads. */
  async function collect<C extends keyof Payloads>(channel: C): Promise<{ got: Payloads[C][]; stop: () => Promise<void> }> {
    const got: Payloads[C][] = []
    const stop = await bus.subscribe(channel, (payload) => got.push(payload))
    return { got, stop }
  }

  it('reports its kind and answers ping', async () => {
    expect(bus.kind).toBe(kind)
    await expect(bus.ping()).resolves.toBeUndefined()
  })

  it('round-trips a payload on each channel', async () => {
    const changed = await collect('rollout.changed')
    const commands = await collect('rollout.command')
    const apps = await collect('application.changed')
    const command: Payloads['rollout.command'] = {
      commandId: 'c1',
      rolloutId: 'r1',
      application: 'checkout',
      kind: 'PROMOTE',
      full: true,
      actor: 'alice',
      at: '2026-01-01T00:00:00.000Z',
    }
    const app: Payloads['application.changed'] = { applicationId: 'a1', name: 'checkout', at: '2026-01-01T00:00:00+02:00' }
    await bus.publish('rollout.changed', rolloutChanged(0))
    await bus.publish('rollout.command', command)
    await bus.publish('application.changed', app)
    await waitFor(() => changed.got.length + commands.got.length + apps.got.length === 3, 'three events')
    expect(changed.got).toEqual([rolloutChanged(0)])
    expect(commands.got).toEqual([command])
    expect(apps.got).toEqual([app])
    expect(bus.stats).toMatchObject({ published: 3, received: 3, dropped: 0 })
  })

  it('gives every handler its own copy, never the publisher’s object', async () => {
    const first: RolloutChangedEvent[] = []
    const second: RolloutChangedEvent[] = []
    await bus.subscribe('rollout.changed', (payload) => {
      first.push(payload)
      payload.status = 'MUTATED BY HANDLER'
    })
    await bus.subscribe('rollout.changed', (payload) => second.push(payload))
    const published = rolloutChanged(1)
    await bus.publish('rollout.changed', published)
    published.status = 'MUTATED BY PUBLISHER'
    await waitFor(() => second.length === 1, 'delivery')
    expect(second[0]).toEqual(rolloutChanged(1))
    expect(first[0]).not.toBe(second[0])
    expect(first[0]).not.toBe(published)
  })

  it('strips keys the contract does not know', async () => {
    const { got } = await collect('application.changed')
    const withExtra = { applicationId: 'a1', name: 'x', at: '2026-01-01T00:00:00Z', secret: 'nope' }
    await bus.publish('application.changed', withExtra)
    await waitFor(() => got.length === 1, 'delivery')
    expect(got[0]).toEqual({ applicationId: 'a1', name: 'x', at: '2026-01-01T00:00:00Z' })
  })

  it('delivers to many handlers, including the same function twice', async () => {
    const got: number[] = []
    const handler = (payload: RolloutChangedEvent): void => void got.push(payload.seq)
    const stops = await Promise.all([1, 2, 3].map(() => bus.subscribe('rollout.changed', handler)))
    await bus.publish('rollout.changed', rolloutChanged(7))
    await waitFor(() => got.length === 3, 'three deliveries')
    await stops[0]!()
    await stops[0]!() // idempotent: does not remove another subscription
    await bus.publish('rollout.changed', rolloutChanged(8))
    await waitFor(() => got.length === 5, 'two more deliveries')
    expect(got).toEqual([7, 7, 7, 8, 8])
  })

  it('stops delivering after unsubscribe', async () => {
    const a = await collect('rollout.changed')
    const b = await collect('rollout.changed')
    await bus.publish('rollout.changed', rolloutChanged(1))
    await waitFor(() => a.got.length === 1 && b.got.length === 1, 'first event at both')
    await a.stop()
    await bus.publish('rollout.changed', rolloutChanged(2))
    await waitFor(() => b.got.length === 2, 'second event at b')
    expect(a.got.map((e) => e.seq)).toEqual([1])
    await b.stop()
    // No subscriber left: a fresh one sees only what comes after it.
    const c = await collect('rollout.changed')
    await bus.publish('rollout.changed', rolloutChanged(3))
    await waitFor(() => c.got.length === 1, 'third event at c')
    expect(b.got.map((e) => e.seq)).toEqual([1, 2])
    expect(c.got.map((e) => e.seq)).toEqual([3])
  })

  it('keeps one publisher’s order', async () => {
    const { got } = await collect('rollout.changed')
    const count = 300
    // Not awaited one by one: the publishes are in flight together.
    await Promise.all(Array.from({ length: count }, (_, seq) => bus.publish('rollout.changed', rolloutChanged(seq))))
    await waitFor(() => got.length === count, `${count} events`)
    expect(got.map((e) => e.seq)).toEqual(Array.from({ length: count }, (_, seq) => seq))
  })

  it('isolates a throwing handler from the others and from the publisher', async () => {
    const got: number[] = []
    await bus.subscribe('rollout.changed', () => {
      throw new Error('handler bug')
    })
    await bus.subscribe('rollout.changed', async () => {
      throw new Error('async handler bug')
    })
    await bus.subscribe('rollout.changed', (payload) => void got.push(payload.seq))
    await expect(bus.publish('rollout.changed', rolloutChanged(1))).resolves.toBeUndefined()
    await bus.publish('rollout.changed', rolloutChanged(2))
    await waitFor(() => got.length === 2 && reported.length === 4, 'deliveries and reports')
    expect(got).toEqual([1, 2])
    expect(reported.map((r) => [r.source, r.channel, r.error.message]).sort()).toEqual([
      ['handler', 'rollout.changed', 'async handler bug'],
      ['handler', 'rollout.changed', 'async handler bug'],
      ['handler', 'rollout.changed', 'handler bug'],
      ['handler', 'rollout.changed', 'handler bug'],
    ])
    expect(bus.stats.handlerErrors).toBe(4)
  })

  it('rejects an invalid outgoing payload, naming the field, and publishes nothing', async () => {
    const { got } = await collect('rollout.changed')
    const bad: [unknown, RegExp][] = [
      [rolloutChanged(-1), /seq/],
      [rolloutChanged(1.5), /seq/],
      [{ ...rolloutChanged(1), kind: 'bogus' }, /kind/],
      [{ ...rolloutChanged(1), at: 'yesterday' }, /at/],
      [{ ...rolloutChanged(1), rolloutId: undefined }, /rolloutId/],
      [{ ...rolloutChanged(1), rolloutId: '' }, /rolloutId/],
      [null, /payload/],
      ['{"rolloutId":"r1"}', /payload/],
    ]
    for (const [payload, field] of bad) {
      const attempt = bus.publish('rollout.changed', payload as RolloutChangedEvent)
      await expect(attempt).rejects.toThrow(InvalidPayloadError)
      await expect(attempt).rejects.toThrow(field)
    }
    await expect(
      bus.publish('rollout.command', {
        commandId: 'c1',
        rolloutId: 'r1',
        application: 'a',
        kind: 'DESTROY' as 'ABORT',
        full: false,
        actor: 'x',
        at: '2026-01-01T00:00:00Z',
      }),
    ).rejects.toThrow(/rollout\.command.*kind/)
    expect(bus.stats.published).toBe(0)
    await bus.publish('rollout.changed', rolloutChanged(42))
    await waitFor(() => got.length === 1, 'the valid event')
    expect(got.map((e) => e.seq)).toEqual([42])
  })

  describe('iterate', () => {
    it('yields events published after it is ready, then ends on return()', async () => {
      const events = bus.iterate('rollout.changed')
      await events.ready
      await bus.publish('rollout.changed', rolloutChanged(1))
      await bus.publish('rollout.changed', rolloutChanged(2))
      expect((await events.next()).value).toEqual(rolloutChanged(1))
      expect((await events.next()).value).toEqual(rolloutChanged(2))
      const pending = events.next()
      await expect(events.return()).resolves.toEqual({ done: true, value: undefined })
      await expect(pending).resolves.toEqual({ done: true, value: undefined })
      await expect(events.next()).resolves.toEqual({ done: true, value: undefined })
      // Unsubscribed: a later event reaches only a new subscriber.
      const { got } = await collect('rollout.changed')
      await bus.publish('rollout.changed', rolloutChanged(3))
      await waitFor(() => got.length === 1, 'later event')
      await expect(events.next()).resolves.toEqual({ done: true, value: undefined })
    })

    it('ends a for-await loop when the signal aborts', async () => {
      const controller = new AbortController()
      const events = bus.iterate('rollout.changed', { signal: controller.signal })
      await events.ready
      const seen: number[] = []
      const loop = (async () => {
        for await (const event of events) {
          seen.push(event.seq)
          if (seen.length === 2) controller.abort()
        }
      })()
      for (let seq = 0; seq < 5; seq++) await bus.publish('rollout.changed', rolloutChanged(seq))
      await loop
      expect(seen).toEqual([0, 1])
    })

    it('ends at once when the signal aborts while next() waits, or was aborted already', async () => {
      const controller = new AbortController()
      const events = bus.iterate('rollout.changed', { signal: controller.signal })
      await events.ready
      const pending = events.next()
      controller.abort()
      await expect(pending).resolves.toEqual({ done: true, value: undefined })

      const already = bus.iterate('rollout.changed', { signal: AbortSignal.abort() })
      await already.ready
      await expect(already.next()).resolves.toEqual({ done: true, value: undefined })
    })

    it('keeps only the newest events for a slow consumer and counts the rest', async () => {
      const events = bus.iterate('rollout.changed', { bufferLimit: 3 })
      await events.ready
      const { got } = await collect('rollout.changed') // same dispatch: when it has all, so has the iterator
      for (let seq = 0; seq < 10; seq++) await bus.publish('rollout.changed', rolloutChanged(seq))
      await waitFor(() => got.length === 10, 'all ten events')
      expect(events.dropped).toBe(7)
      expect(bus.stats.overflowed).toBe(7)
      const seen: number[] = []
      for (let i = 0; i < 3; i++) seen.push((await events.next()).value!.seq)
      expect(seen).toEqual([7, 8, 9])
      await events.return()
    })

    it('rejects a bufferLimit below 1', () => {
      expect(() => bus.iterate('rollout.changed', { bufferLimit: 0 })).toThrow(RangeError)
    })

    it('queues only events that pass the filter', async () => {
      const events = bus.iterate('rollout.changed', { filter: (e) => e.rolloutId === 'mine' })
      await events.ready
      for (const [seq, rolloutId] of [[0, 'other'], [1, 'mine'], [2, 'other'], [3, 'mine']] as const) {
        await bus.publish('rollout.changed', rolloutChanged(seq, { rolloutId }))
      }
      expect((await events.next()).value).toMatchObject({ rolloutId: 'mine', seq: 1 })
      expect((await events.next()).value).toMatchObject({ rolloutId: 'mine', seq: 3 })
      await events.return()
    })

    it('ends with the error when the filter throws', async () => {
      const events = bus.iterate('rollout.changed', {
        filter: () => {
          throw new Error('filter bug')
        },
      })
      await events.ready
      const pending = events.next()
      await bus.publish('rollout.changed', rolloutChanged(1))
      await expect(pending).rejects.toThrow('filter bug')
      await expect(events.next()).resolves.toEqual({ done: true, value: undefined })
    })

    it('ends every open iterator when the bus closes', async () => {
      const events = bus.iterate('application.changed')
      await events.ready
      const pending = events.next()
      await bus.close()
      await expect(pending).resolves.toEqual({ done: true, value: undefined })
    })
  })

  it('refuses work once closed, and closes twice without complaint', async () => {
    await bus.close()
    await bus.close()
    await expect(bus.publish('rollout.changed', rolloutChanged(1))).rejects.toThrow(BusClosedError)
    await expect(bus.subscribe('rollout.changed', () => undefined)).rejects.toThrow(BusClosedError)
    await expect(bus.ping()).rejects.toThrow(BusClosedError)
    expect(() => bus.iterate('rollout.changed')).toThrow(BusClosedError)
  })

  it('accepts onReconnect callbacks and removes them', () => {
    const off = bus.onReconnect(() => undefined)
    expect(typeof off).toBe('function')
    off()
  })
})

describe('memory bus specifics', () => {
  it('is live as soon as iterate returns', async () => {
    const bus = createBus()
    const events = bus.iterate('rollout.changed')
    await bus.publish('rollout.changed', rolloutChanged(5))
    expect((await events.next()).value?.seq).toBe(5)
    await bus.close()
  })

  it('delivers asynchronously and in publish order even when a handler publishes', async () => {
    const bus = createBus()
    const order: string[] = []
    await bus.subscribe('rollout.changed', (e) => {
      order.push(`a${e.seq}`)
      if (e.seq === 1) void bus.publish('rollout.changed', rolloutChanged(3))
    })
    await bus.subscribe('rollout.changed', (e) => void order.push(`b${e.seq}`))
    const first = bus.publish('rollout.changed', rolloutChanged(1))
    expect(order).toEqual([]) // not delivered inside publish
    await first
    await bus.publish('rollout.changed', rolloutChanged(2))
    await waitFor(() => order.length === 6, 'six deliveries')
    // b sees 1 before 3 although a published 3 while handling 1: no re-entrant delivery.
    expect(order).toEqual(['a1', 'b1', 'a3', 'b3', 'a2', 'b2'])
    await bus.close()
  })
})
