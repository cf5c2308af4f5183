import { describe, expect, it } from 'vitest'
import { HeadError, MAX_HEAD_BYTES, MAX_HEADERS, headEnd, parseRequestHead, parseResponseHead } from './http-head.ts'
import { keepAliveTimeoutMs } from './headers.ts'

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1')

function request(text: string) {
  const buffer = bytes(text)
  return parseRequestHead(buffer, headEnd(buffer, 431))
}

function response(text: string, method = 'GET') {
  const buffer = bytes(text)
  return parseResponseHead(buffer, headEnd(buffer, 502), method)
}

function refusal(parse: () => unknown): { status: number; message: string } {
  try {
    parse()
  } catch (error) {
    if (error instanceof HeadError) return { status: error.status, message: error.message }
    throw error
  }
  throw new Error('accepted a head that should be refused')
}

describe('headEnd', () => {
  it('finds the end of a complete head, and waits for an incomplete one', () => {
    expect(headEnd(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY'), 431)).toBe(27)
    expect(headEnd(bytes('GET / HTTP/1.1\r\nHost: a\r\n'), 431)).toBe(-1)
  })

  it('refuses a head longer than the cap, complete or not', () => {
    const long = `GET / HTTP/1.1\r\nx: ${'a'.repeat(MAX_HEAD_BYTES)}`
    expect(refusal(() => headEnd(bytes(long), 431)).status).toBe(431)
    expect(refusal(() => headEnd(bytes(`${long}\r\n\r\n`), 431)).status).toBe(431)
  })
})

describe('parseRequestHead', () => {
  it('reads the request line, headers as sent, framing and keep-alive', () => {
    const head = request('POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Two: 1\r\nX-Two: 2\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\n\r\n')
    expect(head).toMatchObject({ method: 'POST', target: '/a?b=1', minor: 1, framing: { kind: 'length', length: 5 }, keepAlive: true })
    expect(head.names).toEqual(['Host', 'X-Two', 'X-Two', 'Content-Length', 'Connection'])
    expect(head.values).toEqual(['x', '1', '2', '5', 'keep-alive, X-Hop'])
    expect(head.connection).toEqual(['keep-alive', 'x-hop'])
  })

  it('knows chunked requests, body-less requests, and HTTP/1.0 keep-alive rules', () => {
    expect(request('POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n').framing).toEqual({ kind: 'chunked' })
    expect(request('GET / HTTP/1.1\r\n\r\n').framing).toEqual({ kind: 'none' })
    expect(request('GET / HTTP/1.1\r\nConnection: close\r\n\r\n').keepAlive).toBe(false)
    expect(request('GET / HTTP/1.0\r\n\r\n').keepAlive).toBe(false)
    expect(request('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive).toBe(true)
  })

  it('trims optional whitespace around values and keeps Latin-1 bytes as they are', () => {
    const head = request('GET / HTTP/1.1\r\nX-A: \t spaced \t\r\nX-B: caf\xe9\r\nX-Empty:\r\n\r\n')
    expect(head.values).toEqual(['spaced', 'caf\xe9', ''])
  })

  // request smuggling and other hostile heads: each must be refused, never guessed at
  it.each([
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['Transfer-Encoding with Content-Length', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 400],
    ['a repeated Content-Length, even an equal one', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 400],
    ['a list in Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n', 400],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n', 400],
    ['a hex Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n', 400],
    ['a huge Content-Length', `POST / HTTP/1.1\r\nContent-Length: ${'9'.repeat(16)}\r\n\r\n`, 400],
    ['an unknown transfer coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['chunked that is not the only coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['chunked twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
    ['a disguised coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n', 501],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nX-A: 1\r\n continued\r\n\r\n', 400],
    ['obs-fold with a tab', 'GET / HTTP/1.1\r\nX-A: 1\r\n\tcontinued\r\n\r\n', 400],
    ['space before the colon', 'POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n', 400],
    ['a header without a colon', 'GET / HTTP/1.1\r\nno colon here\r\n\r\n', 400],
    ['an empty header name', 'GET / HTTP/1.1\r\n: value\r\n\r\n', 400],
    ['a bare LF inside the head', 'GET / HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n', 400],
    ['a bare CR inside a value', 'GET / HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n', 400],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n', 400],
    ['a control character in a value', 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n', 400],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n', 400],
    ['a request line with extra spaces', 'GET  / HTTP/1.1\r\n\r\n', 400],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n', 400],
    ['HTTP/2 in an HTTP/1 head', 'GET / HTTP/2.0\r\n\r\n', 505],
    ['an invalid method', 'G(T / HTTP/1.1\r\n\r\n', 400],
    ['a non-ASCII target', 'GET /caf\xe9 HTTP/1.1\r\n\r\n', 400],
  ])('refuses %s', (_name, text, status) => {
    expect(refusal(() => request(text)).status).toBe(status)
  })

  it(`refuses more than ${MAX_HEADERS} header lines with 431`, () => {
    const many = Array.from({ length: MAX_HEADERS + 1 }, (_, i) => `X-${i}: 1\r\n`).join('')
    expect(refusal(() => request(`GET / HTTP/1.1\r\n${many}\r\n`)).status).toBe(431)
    const enough = Array.from({ length: MAX_HEADERS }, (_, i) => `X-${i}: 1\r\n`).join('')
    expect(request(`GET / HTTP/1.1\r\n${enough}\r\n`).names).toHaveLength(MAX_HEADERS)
  })
})

describe('parseResponseHead', () => {
  it('reads status, reason and framing', () => {
    expect(response('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n')).toMatchObject({ status: 200, reason: 'OK', framing: { kind: 'length', length: 3 } })
    expect(response('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n').framing).toEqual({ kind: 'chunked' })
    expect(response('HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n')).toMatchObject({ status: 404, reason: '' })
    expect(response('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ status: 200, reason: '' })
  })

  it('has no body for HEAD, 1xx, 204 and 304, and reads to the close without length or chunked', () => {
    expect(response('HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n', 'HEAD').framing).toEqual({ kind: 'none' })
    expect(response('HTTP/1.1 304 Not Modified\r\nContent-Length: 300\r\n\r\n').framing).toEqual({ kind: 'none' })
    expect(response('HTTP/1.1 204 No Content\r\n\r\n').framing).toEqual({ kind: 'none' })
    expect(response('HTTP/1.1 100 Continue\r\n\r\n').framing).toEqual({ kind: 'none' })
    expect(response('HTTP/1.1 200 OK\r\n\r\n').framing).toEqual({ kind: 'close' })
    expect(response('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n').framing).toEqual({ kind: 'close' })
  })

  it.each([
    ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['two Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['a malformed status line', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['a missing status', 'HTTP/1.1\r\n\r\n'],
    ['a status below 100', 'HTTP/1.1 099 Odd\r\n\r\n'],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n'],
  ])('refuses %s as 502', (_name, text) => {
    expect(refusal(() => response(text)).status).toBe(502)
  })
})

describe('keepAliveTimeoutMs (an upstream announcing when it closes idle connections)', () => {
  const withKeepAlive = (...values: string[]) => response(`HTTP/1.1 200 OK\r\n${values.map((v) => `Keep-Alive: ${v}\r\n`).join('')}Content-Length: 0\r\n\r\n`)
  it.each([
    { values: ['timeout=5'], ms: 5000 },
    { values: ['timeout=5, max=1000'], ms: 5000 },
    { values: ['max=100, timeout=10'], ms: 10_000 },
    { values: ['  TIMEOUT = 3 '], ms: 3000 },
    { values: ['timeout=0'], ms: 0 },
    { values: ['timeout=2', 'timeout=60'], ms: 2000 },
    { values: ['timeout=999999'], ms: 86_400_000 },
    { values: ['max=5'], ms: null },
    { values: ['timeout=abc'], ms: null },
    { values: ['timeout=-1'], ms: null },
    { values: ['timeout=1.5'], ms: null },
    { values: ['timeout='], ms: null },
    { values: ['timeout=1e3'], ms: null },
    { values: ['timeout=99999999999999999999'], ms: null },
    { values: [''], ms: null },
  ])('Keep-Alive: $values → $ms', ({ values, ms }) => {
    expect(keepAliveTimeoutMs(withKeepAlive(...values))).toBe(ms)
  })

  it('is null without a Keep-Alive header', () => {
    expect(keepAliveTimeoutMs(response('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'))).toBeNull()
  })
})
