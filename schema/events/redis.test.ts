/**
 * What only the Redis transport does: one SUBSCRIBE per channel, garbage on the wire,
 * reconnects, another process publishing, an unreachable server. Runs against the real Redis
 * (TEST_REDIS_URL) under a random channel prefix.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TEST_REDIS_URL, randomPrefix, rolloutChanged, waitFor } from '../../test/support/events.ts'
import type { BusErrorSource, Unsubscribe } from './bus.ts'
import { MAX_MESSAGE_BYTES, type RolloutChangedEvent } from './channels.ts'
import { createBus } from './index.ts'
import { RedisBus } from './redis.ts'

const PREFIX = randomPrefix('redis')
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PUBLISH_SCRIPT = 'test/support/publish-event.ts'

let raw: Redis // a plain client: counts subscriptions, publishes garbage, kills connections

beforeAll(async () => {
  raw = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await raw.connect()
})
afterAll(async () => {
  await raw.quit()
})

async function numsub(channel: string): Promise<number> {
  const reply = (await raw.pubsub('NUMSUB', PREFIX + channel)) as [string, number]
  return Number(reply[1])
}

/** Runs the publish script in another Node process; resolves with its exit code and output. */
function runPublisher(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PUBLISH_SCRIPT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`publisher did not exit within ${timeoutMs} ms (stdout: ${stdout}, stderr: ${stderr})`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

describe('RedisBus', () => {
  let bus: RedisBus
  let reports: { source: BusErrorSource; channel?: string; message: string }[]
  let name: string

  beforeEach(() => {
    reports = []
    name = `sentra-test-${Math.random().toString(36).slice(2, 10)}`
    bus = new RedisBus(TEST_REDIS_URL, {
      prefix: PREFIX,
      connectionName: name,
      onError: (error, info) => reports.push({ ...info, message: error.message }),
    })
  })
  afterEach(async () => {
    await bus.close()
  })

  it('namespaces channel names with the prefix', async () => {
    const got: string[] = []
    const listener = new Redis(TEST_REDIS_URL)
    listener.on('message', (channel: string) => got.push(channel))
    await listener.subscribe(`${PREFIX}rollout.changed`)
    await bus.publish('rollout.changed', rolloutChanged(1))
    await waitFor(() => got.length === 1, 'the raw listener')
    expect(got).toEqual([`${PREFIX}rollout.changed`])
    await listener.quit()
    const defaults = new RedisBus(TEST_REDIS_URL)
    expect(defaults.prefix).toBe('sentra:')
    await defaults.close()
  })

  it('holds one Redis subscription per channel however many local handlers', async () => {
    expect(await numsub('rollout.changed')).toBe(0)
    const got: number[] = []
    const stops = await Promise.all(
      Array.from({ length: 5 }, () => bus.subscribe('rollout.changed', (e) => void got.push(e.seq))),
    )
    const iterators = [bus.iterate('rollout.changed'), bus.iterate('rollout.changed')]
    await Promise.all(iterators.map((it) => it.ready))
    expect(await numsub('rollout.changed')).toBe(1)
    expect(await numsub('rollout.command')).toBe(0)
    await bus.ping() // both connections, the subscriber one in subscriber mode

    await bus.publish('rollout.changed', rolloutChanged(1))
    await waitFor(() => got.length === 5, 'five handlers')
    expect((await iterators[0]!.next()).value?.seq).toBe(1)
    expect(bus.stats.received).toBe(1) // one message, however many handlers

    for (const stop of stops) await stop()
    expect(await numsub('rollout.changed')).toBe(1) // the iterators still listen
    await iterators[0]!.return()
    expect(await numsub('rollout.changed')).toBe(1)
    await iterators[1]!.return()
    expect(await numsub('rollout.changed')).toBe(0) // the last one out sent UNSUBSCRIBE
  })

  it('stays consistent when subscribes and unsubscribes race', async () => {
    // Subscribe and unsubscribe without waiting in between: the per-channel queue of
    // SUBSCRIBE/UNSUBSCRIBE must end where the local handlers are.
    const pending = Array.from({ length: 20 }, (_, i) =>
      bus.subscribe('rollout.command', () => undefined).then(async (stop): Promise<Unsubscribe | undefined> => {
        if (i % 2 === 0) return stop
        await stop()
        return undefined
      }),
    )
    const kept = (await Promise.all(pending)).filter((stop) => stop !== undefined)
    expect(kept).toHaveLength(10)
    expect(await numsub('rollout.command')).toBe(1)
    await Promise.all(kept.map((stop) => stop()))
    expect(await numsub('rollout.command')).toBe(0)
    // And back again.
    const stop = await bus.subscribe('rollout.command', () => undefined)
    expect(await numsub('rollout.command')).toBe(1)
    await stop()
    expect(await numsub('rollout.command')).toBe(0)
  })

  it('drops and counts garbage on the channel; the next valid message still arrives', async () => {
    const got: RolloutChangedEvent[] = []
    const handlerCalls = { count: 0 }
    await bus.subscribe('rollout.changed', (e) => {
      handlerCalls.count += 1
      got.push(e)
    })
    const channel = `${PREFIX}rollout.changed`
    const huge = JSON.stringify({ ...rolloutChanged(0), padding: 'x'.repeat(MAX_MESSAGE_BYTES) })
    const garbage = [
      'not json at all',
      '{"rolloutId": "r1", "seq": ',
      '',
      'null',
      '[1,2,3]',
      JSON.stringify({ ...rolloutChanged(1), seq: 'one' }),
      JSON.stringify({ ...rolloutChanged(1), kind: 'explode' }),
      JSON.stringify({ rolloutId: 'r1' }),
      huge,
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
    ]
    for (const message of garbage) await raw.publish(channel, message)
    await raw.publish(channel, JSON.stringify(rolloutChanged(2)))
    await waitFor(() => got.length === 1, 'the valid message')
    expect(got).toEqual([rolloutChanged(2)])
    expect(handlerCalls.count).toBe(1)
    expect(bus.stats).toMatchObject({ received: 1, dropped: garbage.length, handlerErrors: 0 })
    // Reported, but rate-limited: one report for the burst.
    const dropReports = reports.filter((r) => r.source === 'message')
    expect(dropReports).toHaveLength(1)
    expect(dropReports[0]).toMatchObject({ channel: 'rollout.changed' })
    expect(dropReports[0]!.message).toMatch(/dropped 1 bad message.*not-json/)
  })

  it('ignores messages on channels outside the contract and on other prefixes', async () => {
    const got: RolloutChangedEvent[] = []
    await bus.subscribe('rollout.changed', (e) => void got.push(e))
    await raw.publish(`other-${PREFIX}rollout.changed`, JSON.stringify(rolloutChanged(1)))
    await raw.publish(`${PREFIX}rollout.unknown`, JSON.stringify(rolloutChanged(1)))
    await raw.publish(`${PREFIX}rollout.changed`, JSON.stringify(rolloutChanged(3)))
    await waitFor(() => got.length === 1, 'the message on our channel')
    expect(got.map((e) => e.seq)).toEqual([3])
  })

  it('publishes nothing on the wire when the payload is invalid', async () => {
    const seen: string[] = []
    const listener = new Redis(TEST_REDIS_URL)
    listener.on('message', (_channel: string, message: string) => seen.push(message))
    await listener.subscribe(`${PREFIX}rollout.changed`)
    await expect(bus.publish('rollout.changed', { ...rolloutChanged(1), seq: -3 })).rejects.toThrow(/seq/)
    await bus.publish('rollout.changed', rolloutChanged(4))
    await waitFor(() => seen.length === 1, 'the valid message')
    expect(JSON.parse(seen[0]!)).toEqual(rolloutChanged(4))
    await listener.quit()
  })

  it('resubscribes after the connection drops and tells onReconnect', async () => {
    const got: number[] = []
    await bus.subscribe('rollout.changed', (e) => void got.push(e.seq))
    let reconnects = 0
    bus.onReconnect(() => (reconnects += 1))
    const removed = bus.onReconnect(() => {
      throw new Error('callbacks are removable')
    })
    removed()

    const list = (await raw.client('LIST')) as string
    const line = list.split('\n').find((l) => l.includes(` name=${name}-sub `))
    const id = /(?:^|\s)id=(\d+)/.exec(line ?? '')?.[1]
    expect(id, 'the subscriber connection in CLIENT LIST').toBeDefined()
    await raw.client('KILL', 'ID', id!)

    await waitFor(() => reconnects === 1, 'onReconnect', 10_000)
    // ioredis resubscribed (autoResubscribe) before the callback ran.
    expect(await numsub('rollout.changed')).toBe(1)
    await bus.publish('rollout.changed', rolloutChanged(9))
    await waitFor(() => got.length === 1, 'an event after the reconnect')
    expect(got).toEqual([9])
    expect(reports.filter((r) => r.source === 'handler')).toEqual([])
  })

  it('receives an event published by another process', async () => {
    const got: RolloutChangedEvent[] = []
    await bus.subscribe('rollout.changed', (e) => void got.push(e))
    const payload = rolloutChanged(11, { rolloutId: 'from-child' })
    const result = await runPublisher([TEST_REDIS_URL, PREFIX, 'rollout.changed', JSON.stringify(payload)])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe('published')
    await waitFor(() => got.length === 1, 'the event from the child process')
    expect(got).toEqual([payload])
  })

  it('makes a child process that publishes an invalid payload fail without sending it', async () => {
    const got: RolloutChangedEvent[] = []
    await bus.subscribe('rollout.changed', (e) => void got.push(e))
    const result = await runPublisher([TEST_REDIS_URL, PREFIX, 'rollout.changed', JSON.stringify({ rolloutId: 'x' })])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/invalid payload for channel "rollout.changed"/)
    await bus.publish('rollout.changed', rolloutChanged(12))
    await waitFor(() => got.length === 1, 'the marker event')
    expect(got.map((e) => e.seq)).toEqual([12])
  })
})

describe('RedisBus against an unreachable server', () => {
  const CLOSED = 'redis://127.0.0.1:1'

  it('rejects ping quickly with a clear error, and closes at once', async () => {
    const bus = createBus(CLOSED, { onError: () => undefined })
    const started = Date.now()
    await expect(bus.ping()).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:1.* is unreachable.*ECONNREFUSED/)
    expect(Date.now() - started).toBeLessThan(1500)
    const closing = Date.now()
    await bus.close()
    expect(Date.now() - closing).toBeLessThan(500)
  })

  it('gives up on ping after pingTimeoutMs even when no error arrives', async () => {
    // A server that accepts the connection and never answers.
    const { createServer } = await import('node:net')
    const sockets: import('node:net').Socket[] = []
    const server = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as import('node:net').AddressInfo
    const bus = new RedisBus(`redis://127.0.0.1:${port}`, { pingTimeoutMs: 300, onError: () => undefined })
    const started = Date.now()
    await expect(bus.ping()).rejects.toThrow(/unreachable.*no answer to PING within 300 ms/)
    expect(Date.now() - started).toBeLessThan(1500)
    await bus.close()
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })

  it('ends iterators and closes quickly while subscribing is still pending', async () => {
    const bus = createBus(CLOSED, { onError: () => undefined })
    const events = bus.iterate('rollout.changed')
    const pending = events.next()
    const started = Date.now()
    await bus.close()
    expect(Date.now() - started).toBeLessThan(1000)
    await expect(pending).resolves.toEqual({ done: true, value: undefined })
  })

  it('fails subscribe and the iterator with a clear error once ioredis gives up', async () => {
    const bus = new RedisBus(CLOSED, { onError: () => undefined, redisOptions: { maxRetriesPerRequest: 1 } })
    await expect(bus.subscribe('rollout.changed', () => undefined)).rejects.toThrow(/subscribing to "rollout.changed" through Redis at redis:\/\/127\.0\.0\.1:1/)
    const events = bus.iterate('rollout.changed')
    await expect(events.ready).rejects.toThrow(/subscribing/)
    await expect(events.next()).rejects.toThrow(/subscribing/)
    await expect(events.next()).resolves.toEqual({ done: true, value: undefined })
    await bus.close()
  })

  it('lets a process that cannot reach Redis exit on its own', async () => {
    const result = await runPublisher([CLOSED, 'x:', 'rollout.changed', JSON.stringify(rolloutChanged(1))])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/unreachable/)
    expect(result.ms).toBeLessThan(10_000)
  })
})
