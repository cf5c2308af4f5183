/**
 * Raw graphql-ws frames, sent over a plain WebSocket: what a broken or hostile client sends
 * (bad JSON, unknown message types, subscribe before init, duplicate ids, huge frames,
 * binary frames). The server must answer or close with a protocol code; closing with 1011
 * or 4500, or dropping the connection without a close frame, is a finding.
 */
import WebSocket from 'ws'
import { hostileId, hostileJson, hostileString, type Known } from './hostile.ts'
import type { Rng } from './prng.ts'

export interface RawWsFrame {
  describe: string
  send(url: string): Promise<{ problem: string | null }>
}

const QUIET_MS = 300

export function rawWsFrame(rng: Rng, token: string, known: Known): RawWsFrame {
  const init = JSON.stringify({ type: 'connection_init', payload: { token } })
  const subscribe = (id: unknown, payload: unknown): string => JSON.stringify({ id, type: 'subscribe', payload })
  const protocol = rng.weighted<string | undefined>([[9, 'graphql-transport-ws'], [1, 'graphql-ws'], [1, undefined]])
  const frames: (string | Buffer)[] = rng.weighted<() => (string | Buffer)[]>([
    [2, () => [init, rng.pick(['{', '', 'null', '[]', '"x"', '{"type":1}', '{"type":"nope"}', '{"type":"subscribe"}', '{"type":"subscribe","id":1,"payload":{}}', '{"type":"ping","payload":"x"}', '{"type":"pong"}', '{"type":"complete","id":"nope"}', '{"type":"next","id":"1","payload":{}}', '{"type":"connection_ack"}', '\u0000'])]],
    [2, () => [init, subscribe(rng.pick<unknown>(['1', '', 'x'.repeat(1000), 1, null, {}, '__proto__']), rng.pick<unknown>([{ query: '{ viewer { name } }' }, { query: 1 }, { query: null }, {}, null, 'x', { query: '{ viewer { name } }', variables: 'x' }, { query: '{ viewer { name } }', variables: hostileJson(rng) }, { query: '{ viewer { name } }', operationName: {} }, { query: '{ viewer { name } }', extensions: 'x' }]))]],
    [1, () => [init, subscribe('1', { query: 'subscription { rolloutEvents { seq } }' }), subscribe('1', { query: 'subscription { rolloutEvents { seq } }' })]],
    [1, () => [subscribe('1', { query: '{ viewer { name } }' })]],
    [1, () => [init, init]],
    [1, () => [JSON.stringify({ type: 'connection_init', payload: rng.pick<unknown>([null, 'x', [], { token: hostileString(rng) }, { token: 1 }, { token: hostileId(rng, known) }, { token: [token] }]) }), subscribe('1', { query: '{ viewer { name } }' })]],
    [1, () => [init, Buffer.from([0xff, 0xfe, 0x00, 0x01])]],
    [1, () => [init, subscribe('1', { query: `mutation { pauseRollout(id: ${JSON.stringify(hostileId(rng, known))}, reason: ${JSON.stringify(hostileString(rng).slice(0, 2000))}) { id } }` })]],
    [1, () => [init, subscribe('1', { query: `subscription { rolloutChanged(id: ${JSON.stringify(hostileId(rng, known))}) { id status } }` }), JSON.stringify({ id: '1', type: 'complete' }), JSON.stringify({ id: '1', type: 'complete' })]],
    [0.3, () => [init, 'x'.repeat(rng.pick([1024 * 1024 + 1, 2 * 1024 * 1024]))]],
  ])()
  const describe = `${protocol ?? '(no protocol)'}: ${frames.map((f) => (Buffer.isBuffer(f) ? `<binary ${f.length}>` : f.length > 200 ? `${f.slice(0, 200)}… (${f.length})` : f)).join(' | ')}`

  return {
    describe,
    send: (url) =>
      new Promise((resolve) => {
        let settled = false
        const socket = new WebSocket(url, protocol ? [protocol] : [], { handshakeTimeout: 10_000 })
        const finish = (problem: string | null): void => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          socket.removeAllListeners()
          socket.on('error', () => undefined)
          socket.terminate()
          resolve({ problem })
        }
        const timer = setTimeout(() => finish(null), 10_000)
        socket.on('unexpected-response', (_req, res) => finish(res.statusCode !== undefined && res.statusCode >= 500 ? `upgrade answered ${res.statusCode}` : null))
        socket.on('error', (error) => {
          // Frames over maxPayload: the server closes with 1009; the client may see that as an error.
          finish(/1009|Max payload|ECONNRESET|EPIPE|no subprotocol/i.test(error.message) ? null : `socket error: ${error.message}`)
        })
        socket.on('close', (code, reason) => {
          // graphql-ws closes with 4500 when a client sends a server-only message (connection_ack, next, ...):
          // the library's choice for a protocol violation, on that socket only; any other 4500 is a failure.
          const text = reason.toString()
          const protocolViolation = code === 4500 && /^Unexpected message of type \S+ received$/.test(text)
          finish((code === 1011 || code === 4500 || code === 1006) && !protocolViolation ? `closed with ${code}: ${text}` : null)
        })
        socket.on('open', () => {
          for (const frame of frames) socket.send(frame)
          setTimeout(() => finish(null), QUIET_MS)
        })
      }),
  }
}
