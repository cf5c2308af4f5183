import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { SentraClient } from '../src/api/SentraClient'
import { SentraError } from '../src/api/errors'
import { startLoopbackServer, type LoopbackServer } from './support/http'

const sentra = inject('sentra')

/** A rollout node as Sentra sends it, to break one field at a time. */
function rolloutNode(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'Um9sbG91dDox',
    status: 'PROGRESSING',
    canaryWeight: 20,
    fromVersion: 'v1',
    toVersion: 'v2',
    createdAt: '2026-11-27T09:00:00.000Z',
    startedAt: '2026-11-27T09:00:00.000Z',
    finishedAt: null,
    currentStepIndex: 0,
    steps: [{ index: 0, kind: 'SET_WEIGHT', status: 'RUNNING', setWeight: 20 }],
    lastDecision: null,
    ...overrides,
  }
}

function data(node: Record<string, unknown>, application: unknown = { name: 'checkout', stableVersion: 'v1' }) {
  return { data: { application, active: { edges: [{ node }] }, recent: { edges: [{ node }] } } }
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))

describe('SentraClient on answers that are not what Sentra sends', () => {
  let server: LoopbackServer | null = null
  afterEach(async () => {
    await server?.close()
    server = null
  })

  async function failureFrom(handle: Parameters<typeof startLoopbackServer>[0], options: { timeoutMs?: number; maxResponseBytes?: number } = {}): Promise<SentraError> {
    server = await startLoopbackServer(handle)
    const client = new SentraClient({ baseUrl: server.url, token: 't0ken-for-a-fake-server', ...options })
    const error = await client.getApplicationRollouts('checkout').then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(SentraError)
    return error as SentraError
  }

  it('sends the documented request: POST /graphql, JSON, the bearer token, the query and its variables', async () => {
    server = await startLoopbackServer((_req, res) => json(res, 200, data(rolloutNode())))
    const app = await new SentraClient({ baseUrl: server.url, token: 't0ken-for-a-fake-server' }).getApplicationRollouts('checkout', { recent: 7 })
    expect(app?.active?.status).toBe('PROGRESSING')
    const [sent] = server.received
    expect(sent?.url).toBe('/graphql')
    expect(sent?.headers['content-type']).toBe('application/json')
    expect(sent?.headers.authorization).toBe('Bearer t0ken-for-a-fake-server')
    const body = JSON.parse(sent?.body ?? '{}') as { query: string; variables: unknown }
    expect(body.variables).toEqual({ application: 'checkout', recent: 7 })
    expect(body.query).toContain('query SentraCardApplicationRollouts')
  })

  it('an HTML page with 200 (a login page, a misrouted URL)', async () => {
    const error = await failureFrom((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in</body></html>'))
    expect(error.kind).toBe('malformed')
    expect(error.message).toMatch(/^Sentra's answer is not JSON \(text\/html\); is http:\/\/127\.0\.0\.1:\d+\/graphql Sentra's API\?$/)
  })

  it('a proxy error page (502 with HTML)', async () => {
    const error = await failureFrom((_req, res) => res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' }).end('<h1>502</h1>'))
    expect(error.kind).toBe('http')
    expect(error.status).toBe(502)
    expect(error.message).toMatch(/^Sentra answered HTTP 502 Bad Gateway for http:\/\/127\.0\.0\.1:\d+\/graphql$/)
  })

  it('a 403 from Sentra or a proxy', async () => {
    const error = await failureFrom((_req, res) => json(res, 403, { errors: [{ message: 'the token lacks the read scope', extensions: { code: 'FORBIDDEN' } }] }))
    expect(error.kind).toBe('forbidden')
    expect(error.message).toContain('the token lacks the read scope')
    expect(error.message).toContain('"read" scope')
  })

  it('GraphQL errors (e.g. an older Sentra without a field), with long messages cut short', async () => {
    const long = `Cannot query field "canaryWeight" on type "Rollout". ${'x'.repeat(5000)}`
    const error = await failureFrom((_req, res) => json(res, 200, { errors: [{ message: long, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, { message: 'two' }, { message: 'three' }, { message: 'four' }, { nope: 1 }] }))
    expect(error.kind).toBe('graphql')
    expect(error.code).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(error.message).toContain('Cannot query field "canaryWeight"')
    expect(error.message).toContain('(and 2 more)')
    expect(error.message.length).toBeLessThan(600)
  })

  it('invalid JSON, an empty body, JSON without data, data: null, a JSON list', async () => {
    for (const body of ['{"data": {', '', '{"foo": 1}', '{"data": null}', '[1,2]', 'null', '"text"']) {
      const error = await failureFrom((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body))
      expect(error.kind, body).toBe('malformed')
      await server?.close()
      server = null
    }
  })

  const shapes: [string, Record<string, unknown>, string][] = [
    ['an unknown status', data(rolloutNode({ status: 'EXPLODED' })), 'data.active.edges[0].node.status should be one of PENDING'],
    ['a weight over 100', data(rolloutNode({ canaryWeight: 500 })), 'data.active.edges[0].node.canaryWeight should be a percentage (0-100), got 500'],
    ['a weight as text', data(rolloutNode({ canaryWeight: '20' })), 'data.active.edges[0].node.canaryWeight should be an integer, got string'],
    ['a missing id', data(rolloutNode({ id: undefined })), 'data.active.edges[0].node.id should be a string, got undefined'],
    ['steps not a list', data(rolloutNode({ steps: {} })), 'data.active.edges[0].node.steps should be a list, got object'],
    ['a bad step kind', data(rolloutNode({ steps: [{ index: 0, kind: 'DANCE', status: 'RUNNING', setWeight: null }] })), 'data.active.edges[0].node.steps[0].kind should be one of'],
    ['a decision without a reason', data(rolloutNode({ lastDecision: { action: 'ADVANCE', at: 'x', actor: 'controller' } })), 'data.active.edges[0].node.lastDecision.reason should be a string'],
    ['edges missing', { data: { application: { name: 'checkout', stableVersion: null }, active: {}, recent: { edges: [] } } }, 'data.active.edges should be a list, got undefined'],
    ['the application as a list', data(rolloutNode(), []), 'data.application should be an object, got a list'],
    ['a numeric stable version', data(rolloutNode(), { name: 'checkout', stableVersion: 1 }), 'data.application.stableVersion should be a string, got number'],
  ]
  for (const [what, body, message] of shapes) {
    it(`names the field: ${what}`, async () => {
      const error = await failureFrom((_req, res) => json(res, 200, body))
      expect(error.kind).toBe('malformed')
      expect(error.message).toContain(message)
    })
  }

  it('an answer larger than the limit, announced or streamed without a length', async () => {
    const big = 'x'.repeat(64 * 1024)
    const announced = await failureFrom((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) }).end(big), { maxResponseBytes: 16 * 1024 })
    expect(announced.message).toContain('larger than 16 KiB')
    await server?.close()
    server = null
    const streamed = await failureFrom(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        for (let i = 0; i < 8; i++) res.write(big)
        res.end()
      },
      { maxResponseBytes: 16 * 1024 },
    )
    expect(streamed.kind).toBe('malformed')
    expect(streamed.message).toContain('larger than 16 KiB')
  })

  it('a server that never answers, or stops in the middle of the body: a timeout', async () => {
    const silent = await failureFrom(() => undefined, { timeoutMs: 300 })
    expect(silent.kind).toBe('timeout')
    expect(silent.message).toMatch(/^Sentra did not answer within 0\.3 s \(http:\/\/127\.0\.0\.1:\d+\/graphql\)$/)
    await server?.close()
    server = null
    const stalled = await failureFrom((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).write('{"data": '), { timeoutMs: 300 })
    expect(stalled.kind).toBe('timeout')
  })

  it('a connection closed without an answer', async () => {
    const error = await failureFrom((req) => req.socket.destroy())
    expect(error.kind).toBe('network')
    expect(error.message).toContain('Cannot reach Sentra at')
  })

  it('after all of that, the same client still reads the real server', async () => {
    const client = new SentraClient({ baseUrl: sentra.url, token: sentra.token })
    expect((await client.getApplicationRollouts(sentra.application))?.name).toBe(sentra.application)
  })
})
