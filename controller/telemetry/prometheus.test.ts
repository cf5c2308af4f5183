/**
 * The Prometheus provider, against a real Prometheus (Debian's `prometheus` package, started
 * here on loopback with its own config and data dir, scraping two demo versions every second)
 * and against tiny loopback HTTP servers that answer badly on purpose.
 *
 * A missing Prometheus fails the real-Prometheus tests (it is never a skip): install it with
 * `apt-get install -y prometheus`, or point PROMETHEUS_BIN at a binary.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppSpec, type GateSpec, type JudgeSpec, assertSpec } from '../../schema/spec.ts'
import { plannedSteps } from '../../schema/rollout-steps.ts'
import { DEMO_SERVICE, freePort, waitFor } from '../../test/support/rollouts.ts'
import { evaluateGates } from '../evaluate.ts'
import { judgeFor } from '../judges/index.ts'
import { decide } from '../rollout.ts'
import {
  PrometheusError,
  PrometheusProvider,
  type PrometheusProviderConfig,
  type PrometheusWindowQuery,
  type PrometheusWindowSample,
  promDuration,
  renderQuery,
} from './prometheus.ts'
import { NoDataError } from './provider.ts'

const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus'
const WINDOW_MS = 10_000

// Error ratio per version over the window; "or vector(0)" makes "no 5xx at all" a 0 % error
// rate while no traffic at all stays no data (empty / NaN).
const ERRORS =
  '(sum(rate(http_server_requests_total{application="{{application}}",version="{{version}}",code=~"5.."}[{{window}}])) or vector(0))' +
  ' / sum(rate(http_server_requests_total{application="{{application}}",version="{{version}}"}[{{window}}]))'
const P95 =
  'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{application="{{application}}",version="{{version}}"}[{{window}}])))'

function gate(name: string, query: string, judge: JudgeSpec = { kind: 'threshold', max: 1 }): GateSpec {
  return { name, provider: 'prometheus', query, judge, dryRun: false, inconclusiveLimit: 6 }
}

function windowQuery(gates: GateSpec[], extra: Partial<PrometheusWindowQuery> = {}): PrometheusWindowQuery {
  const end = new Date()
  return {
    application: 'demo',
    canaryVersion: 'v2',
    baselineVersion: 'v1',
    start: new Date(end.getTime() - WINDOW_MS),
    end,
    canaryWeight: 10,
    gates,
    ...extra,
  }
}

const signal = (): AbortSignal => AbortSignal.timeout(15_000)

// ---------------------------------------------------------------------------------------
// Processes: Prometheus, two demo versions, and a bounded load loop.

interface Child {
  readonly name: string
  readonly process: ChildProcess
  output(): string
}

const children: Child[] = []
const killAll = (): void => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL')
}

function startChild(name: string, command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Child {
  const process_ = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  process_.stdout?.on('data', append)
  process_.stderr?.on('data', append)
  process_.on('error', (error) => append(Buffer.from(`spawn failed: ${error.message}\n`)))
  const child: Child = { name, process: process_, output: () => output }
  children.push(child)
  return child
}

async function stopChild(child: Child): Promise<void> {
  const { process: p } = child
  if (p.exitCode !== null || p.signalCode !== null) return
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()))
  p.kill('SIGTERM')
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

async function startDemo(version: string, env: Record<string, string> = {}): Promise<{ child: Child; port: number }> {
  // SENTRA_PARENT_PID + a stdin pipe: the demo exits when this test process dies, however it dies.
  const child = startChild(`demo ${version}`, process.execPath, [DEMO_SERVICE], {
    env: { APP_VERSION: version, PORT: '0', HOST: '127.0.0.1', SENTRA_PARENT_PID: String(process.pid), ...env },
  })
  const line = await waitFor(
    async () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(child.output()),
    (match) => match !== null || child.process.exitCode !== null,
    { timeoutMs: 10_000, everyMs: 50, what: `demo ${version} to listen` },
  )
  if (line === null) throw new Error(`demo ${version} exited: ${child.output()}`)
  return { child, port: Number(line[1]) }
}

/**
 * Keeps `workers` requests in flight against `url` until `stop` aborts (loopback only; each
 * request ends within ~200 ms, so the loop ends soon after).
 */
function load(url: string, workers: number, stop: AbortSignal): Promise<void> {
  const worker = async (): Promise<void> => {
    while (!stop.aborted) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
        await response.arrayBuffer()
      } catch {
        if (!stop.aborted) await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }
  return Promise.all(Array.from({ length: workers }, worker)).then(() => undefined)
}

interface Stack {
  prometheus: Child
  url: string
  dir: string
  loadStop: AbortController
  loading: Promise<void>
}

let stack: Stack | null = null
let stackError: unknown = null
let stackReady: Promise<void> = Promise.resolve()

async function startStack(): Promise<void> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(
      `Prometheus is not installed (${PROMETHEUS_BIN} is missing). These tests need a real Prometheus and fail rather than skip: ` +
        'install the Debian package with `apt-get update && apt-get install -y prometheus`, or set PROMETHEUS_BIN.',
    )
  }
  const dir = await mkdtemp(join(tmpdir(), 'sentra-prometheus-'))
  // v1 is the demo's good release (~0.3 % errors, 20-40 ms); v2 its bad one (+150 ms), with
  // 20 % errors instead of 8 % so a 10 s window separates them far beyond sampling noise.
  const [v1, v2] = await Promise.all([startDemo('v1'), startDemo('v2', { DEMO_ERROR_RATE: '0.2' })])
  const port = await freePort()
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 900ms',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: demo',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${v1.port}']`,
    '        labels: { application: demo, namespace: shop }',
    `      - targets: ['127.0.0.1:${v2.port}']`,
    '        labels: { application: demo, namespace: shop }',
    '',
  ].join('\n')
  await writeFile(join(dir, 'prometheus.yml'), config)
  const prometheus = startChild('prometheus', PROMETHEUS_BIN, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1h',
    '--log.level=warn',
  ], { cwd: dir })
  const url = `http://127.0.0.1:${port}`
  const loadStop = new AbortController()
  // Bad releases answer in ~180 ms, good ones in ~30 ms: more workers on v2 keep both well above
  // a few hundred requests per window.
  const loading = Promise.all([load(`http://127.0.0.1:${v1.port}/`, 4, loadStop.signal), load(`http://127.0.0.1:${v2.port}/`, 12, loadStop.signal)]).then(
    () => undefined,
  )
  stack = { prometheus, url, dir, loadStop, loading }
  await waitFor(
    async () => {
      if (prometheus.process.exitCode !== null) throw new Error(`prometheus exited (code ${prometheus.process.exitCode}):\n${prometheus.output()}`)
      return fetch(`${url}/-/ready`).then((r) => r.status, () => 0)
    },
    (status) => status === 200,
    { timeoutMs: 20_000, everyMs: 100, what: 'Prometheus to be ready' },
  )
}

beforeAll(() => {
  process.on('exit', killAll)
  // Started now, awaited by the real-Prometheus tests, so the data accumulates while the
  // bad-input tests run.
  stackReady = startStack().catch((error: unknown) => {
    stackError = error
  })
})

afterAll(async () => {
  await stackReady
  if (stack !== null) {
    stack.loadStop.abort()
    await stack.loading
  }
  await Promise.all(children.map(stopChild))
  process.off('exit', killAll)
  if (stack !== null) await rm(stack.dir, { recursive: true, force: true })
  for (const child of children) expect(child.process.exitCode !== null || child.process.signalCode !== null, `${child.name} still running`).toBe(true)
})

// ---------------------------------------------------------------------------------------
// Tiny loopback servers answering badly on purpose.

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

interface Fake {
  url: string
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>
  close(): Promise<void>
}

async function fake(handler: Handler): Promise<Fake> {
  const requests: Fake['requests'] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      handler(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(text)
}

const vectorOf = (...values: string[]) => ({
  status: 'success',
  data: { resultType: 'vector', result: values.map((value, i) => ({ metric: { series: String(i) }, value: [1700000000.5, value] })) },
})

/** A provider against a fake answering every request with `handler`; one gate `g`. */
async function sampleFrom(handler: Handler, config: Partial<PrometheusProviderConfig> = {}): Promise<{ sample: PrometheusWindowSample; fake: Fake }> {
  const server = await fake(handler)
  try {
    const provider = new PrometheusProvider({ url: server.url, ...config })
    const sample = await provider.sample(windowQuery([gate('g', 'x{version="{{version}}"}'), gate('ok', 'vector(1) + 0*x{version="{{version}}"}')]), signal())
    return { sample, fake: server }
  } finally {
    await server.close()
  }
}

/**
 * The reason gate `g` gets when the fake answers every query with `handler` (the provider
 * throws when every gate fails, so a second gate answered normally keeps it from throwing).
 */
async function reasonFor(answer: Handler, config: Partial<PrometheusProviderConfig> = {}): Promise<string> {
  const { sample } = await sampleFrom((req, res, body) => {
    if (decodeURIComponent(body).includes('vector(1)')) return json(res, 200, vectorOf('1'))
    answer(req, res, body)
  }, config)
  expect(sample.canary.values.g).toBeNull()
  expect(sample.canary.values.ok).toBe(1)
  return sample.canary.reasons.g ?? '(no reason)'
}

describe('PrometheusProvider on bad answers (loopback stand-ins)', () => {
  it('sends POST form queries with the bearer token and custom headers, and keeps a path prefix', async () => {
    const server = await fake((_req, res) => json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1700000000, '0.25'] } }))
    try {
      const provider = new PrometheusProvider({ url: `${server.url}/prom/`, bearerToken: 's3cret', headers: { 'X-Scope-OrgID': 'team-a' }, timeoutMs: 2000 })
      const q = windowQuery([gate('g', 'rate(x{app="{{application}}",version="{{version}}",ns="{{namespace}}"}[{{window}}]) / {{interval}}')], {
        namespace: 'shop',
        intervalMs: 2500,
      })
      const sample = await provider.sample(q, signal())
      expect(sample.canary.values.g).toBe(0.25)
      expect(sample.baseline.values.g).toBe(0.25)
      expect(sample.canary.requests).toBeNull()
      expect(sample.canary.errors).toBeNull()
      expect(sample.canary.queries.g).toBe('rate(x{app="demo",version="v2",ns="shop"}[10s]) / 3s')
      expect(sample.baseline.queries.g).toBe('rate(x{app="demo",version="v1",ns="shop"}[10s]) / 3s')
      const request = server.requests[0]!
      expect(request.method).toBe('POST')
      expect(request.url).toBe('/prom/api/v1/query')
      expect(request.headers.authorization).toBe('Bearer s3cret')
      expect(request.headers['x-scope-orgid']).toBe('team-a')
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded')
      const form = new URLSearchParams(request.body)
      expect(form.get('time')).toBe((q.end.getTime() / 1000).toFixed(3))
      expect(form.get('timeout')).toBe('2000ms')
      expect(server.requests.map((r) => new URLSearchParams(r.body).get('query')).sort()).toEqual([sample.baseline.queries.g, sample.canary.queries.g])
    } finally {
      await server.close()
    }
  })

  it('uses GET with basic auth (also from credentials in the URL) when asked', async () => {
    const server = await fake((_req, res) => json(res, 200, vectorOf('3')))
    try {
      const [host] = server.url.replace('http://', '').split('/')
      const provider = new PrometheusProvider({ url: `http://ann:p%40ss@${host}`, method: 'GET' })
      const result = await provider.query('up', new Date(1700000000000), signal())
      expect(result.resultType).toBe('vector')
      const request = server.requests[0]!
      expect(request.method).toBe('GET')
      expect(request.url).toBe('/api/v1/query?query=up&time=1700000000.000&timeout=10000ms')
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from('ann:p@ss').toString('base64')}`)
      expect(provider.url).toBe(`http://${host}`)
    } finally {
      await server.close()
    }
  })

  it('refuses a bad configuration with a clear error', () => {
    expect(() => new PrometheusProvider({ url: 'not a url' })).toThrow(/not a valid URL/)
    expect(() => new PrometheusProvider({ url: 'ftp://x' })).toThrow(/http:\/\/ or https:\/\//)
    expect(() => new PrometheusProvider({ url: 'http://x', bearerToken: 't', basicAuth: { username: 'a', password: 'b' } })).toThrow(/not both/)
    expect(() => new PrometheusProvider({ url: 'http://x', timeoutMs: 0 })).toThrow(/timeoutMs/)
    expect(() => new PrometheusProvider({ url: 'http://x', headers: { 'bad header': 'x' } })).toThrow(/headers are invalid/)
  })

  it('HTTP 500 with a Prometheus error body: the errorType and Prometheus’s message', async () => {
    const reason = await reasonFor((_req, res) => json(res, 500, { status: 'error', errorType: 'internal', error: 'tsdb is on fire' }))
    expect(reason).toBe('Prometheus error (internal, HTTP 500): tsdb is on fire')
  })

  it('HTTP 422 execution error and a 200 carrying status "error"', async () => {
    expect(await reasonFor((_req, res) => json(res, 422, { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' }))).toBe(
      'Prometheus error (execution, HTTP 422): many-to-many matching not allowed',
    )
    expect(await reasonFor((_req, res) => json(res, 200, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }))).toBe(
      'Prometheus error (timeout, HTTP 200): query timed out in expression evaluation',
    )
  })

  it('HTTP 502 from a proxy (not JSON) and 401: the status and a snippet of the body', async () => {
    const bad = await reasonFor((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' })
      res.end('<html>\n<body><h1>502   Bad Gateway</h1></body></html>')
    })
    expect(bad).toMatch(/answered HTTP 502 Bad Gateway: <html> <body><h1>502 Bad Gateway<\/h1><\/body><\/html>$/)
    const auth = await reasonFor((_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' })
      res.end('Unauthorized')
    })
    expect(auth).toMatch(/HTTP 401 Unauthorized \(check the bearer token or basic auth\): Unauthorized/)
  })

  it('malformed JSON, JSON of the wrong shape, and an unknown resultType', async () => {
    expect(await reasonFor((_req, res) => json(res, 200, '{"status":"success","data":{"resultType":"vector","res'))).toMatch(
      /answered HTTP 200 with a body that is not JSON \(.+\): \{"status":"success"/,
    )
    expect(
      await reasonFor((_req, res) => json(res, 200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1700000000, 0.5] }] } })),
    ).toBe('the Prometheus answer is malformed: data.result[0].value[1] must be a string (Prometheus sends sample values as strings) (got number 0.5)')
    expect(await reasonFor((_req, res) => json(res, 200, { status: 'success', data: { resultType: 'histogram', result: [] } }))).toBe(
      'the Prometheus answer is malformed: data.resultType must be "vector", "scalar", "string" or "matrix" (got string "histogram")',
    )
    expect(await reasonFor((_req, res) => json(res, 200, { status: 'ok', data: {} }))).toMatch(/is not a Prometheus API response: status must be "success" or "error"/)
    expect(await reasonFor((_req, res) => json(res, 200, vectorOf('12abc')))).toMatch(/value\[1\] must be a number as a string, "NaN", "\+Inf" or "-Inf"/)
  })

  it('NaN, +Inf, -Inf, several series and no series: null with the reason', async () => {
    expect(await reasonFor((_req, res) => json(res, 200, vectorOf('NaN')))).toMatch(/^the query returned NaN for v2/)
    expect(await reasonFor((_req, res) => json(res, 200, vectorOf('+Inf')))).toMatch(/^the query returned \+Inf for v2/)
    expect(await reasonFor((_req, res) => json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1, '-Inf'] } }))).toMatch(
      /^the query returned -Inf for v2/,
    )
    expect(await reasonFor((_req, res) => json(res, 200, vectorOf('1', '2', '3')))).toMatch(
      /^query returned 3 series for v2; aggregate it to one, e.g. sum\(\.\.\.\) \(got \{series="0"\}, \{series="1"\}, \{series="2"\}\)/,
    )
    expect(await reasonFor((_req, res) => json(res, 200, vectorOf()))).toMatch(/^no series matched the query for v2/)
  })

  it('warnings keep the value and are kept as evidence', async () => {
    const { sample } = await sampleFrom((_req, res) => json(res, 200, { ...vectorOf('0.5'), warnings: ['partial response: store eu-1 down'], infos: ['metric might not be a counter'] }))
    expect(sample.canary.values.g).toBe(0.5)
    expect(sample.canary.reasons).toEqual({})
    expect(sample.canary.warnings.g).toEqual(['partial response: store eu-1 down', 'info: metric might not be a counter'])
  })

  it('a huge body is cut off at the cap, with or without a content-length', async () => {
    const total = 50 * 1024 * 1024
    const stoppedAt: number[] = []
    const streaming = await reasonFor((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20) // JSON whitespace: only the size is wrong
      let written = 0
      res.on('close', () => stoppedAt.push(written))
      const pump = (): void => {
        while (written < total && !res.destroyed) {
          written += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end(JSON.stringify(vectorOf('1')))
      }
      pump()
    })
    expect(streaming).toMatch(/answered more than 5 MiB; narrow the query \(fewer series\) or raise maxResponseBytes$/)
    // Both versions' downloads were stopped well before the end.
    await waitFor(async () => stoppedAt.length, (n) => n === 2, { timeoutMs: 5000, everyMs: 20, what: 'both downloads to end' })
    for (const written of stoppedAt) expect(written).toBeLessThan(total / 2)

    const declared = await reasonFor(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) })
        res.end(' '.repeat(2 * 1024 * 1024))
      },
      { maxResponseBytes: 1024 * 1024 },
    )
    expect(declared).toMatch(/answered more than 1 MiB/)
  })

  it('a server that never answers, or stalls mid-body, times out with the timeout in the reason', async () => {
    const began = Date.now()
    expect(await reasonFor(() => {}, { timeoutMs: 300 })).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 300 ms \(waiting for the response\)$/)
    expect(
      await reasonFor(
        (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.write('{"status":"success",')
        },
        { timeoutMs: 300 },
      ),
    ).toMatch(/did not answer within 300 ms \(reading the response body\)$/)
    expect(Date.now() - began).toBeLessThan(5000)
  })

  it('the caller’s abort wins over everything (the loop knows why it aborted)', async () => {
    const server = await fake(() => {})
    try {
      const provider = new PrometheusProvider({ url: server.url })
      const controller = new AbortController()
      setTimeout(() => controller.abort(new Error('tick cancelled')), 100)
      await expect(provider.sample(windowQuery([gate('g', 'x{version="{{version}}"}')]), controller.signal)).rejects.toThrow('tick cancelled')
      await expect(provider.sample(windowQuery([gate('g', 'x')]), AbortSignal.abort(new Error('already')))).rejects.toThrow('already')
    } finally {
      await server.close()
    }
  })

  it('every gate failing: PrometheusError when it could not ask, NoDataError when it asked', async () => {
    const port = await freePort() // nothing listens there
    const down = new PrometheusProvider({ url: `http://127.0.0.1:${port}` })
    const error = await down.sample(windowQuery([gate('a', 'x{version="{{version}}"}'), gate('b', 'y{version="{{version}}"}')]), signal()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PrometheusError)
    expect((error as PrometheusError).kind).toBe('unreachable')
    expect((error as Error).message).toBe(`cannot reach Prometheus at http://127.0.0.1:${port}: connection refused (ECONNREFUSED)`)
    await expect(down.ping(signal())).rejects.toThrow(`cannot reach Prometheus at http://127.0.0.1:${port}: connection refused (ECONNREFUSED)`)

    const server = await fake((_req, res, body) =>
      body.includes('bad')
        ? json(res, 400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:4: parse error: unexpected <EOF>' })
        : json(res, 200, vectorOf()),
    )
    try {
      const provider = new PrometheusProvider({ url: server.url })
      const noData = await provider.sample(windowQuery([gate('a', 'bad{version="{{version}}"}'), gate('b', 'none{version="{{version}}"}')]), signal()).catch((e: unknown) => e)
      expect(noData).toBeInstanceOf(NoDataError)
      expect((noData as Error).message).toBe(
        'a: Prometheus error (bad_data, HTTP 400): invalid parameter "query": 1:4: parse error: unexpected <EOF>; b: no series matched the query for v2 (no data; an empty result is never read as 0)',
      )
    } finally {
      await server.close()
    }
  })

  it('a hanging Prometheus neither blocks nor passes the loop’s evaluation', async () => {
    const server = await fake(() => {})
    try {
      const spec = specWith([{ name: 'errors', provider: 'prometheus', query: ERRORS, judge: { kind: 'threshold', max: 0.03 } }])
      const began = Date.now()
      const [evaluation] = await evaluateGates({
        spec,
        canaryVersion: 'v2',
        baselineVersion: 'v1',
        canaryWeight: 10,
        stepStartedAt: Date.now() - 10_000,
        now: Date.now(),
        providers: new Map([['prometheus', new PrometheusProvider({ url: server.url, timeoutMs: 200 })]]),
        timeoutMs: 5000,
      })
      expect(Date.now() - began).toBeLessThan(3000)
      expect(evaluation!.verdict.verdict).toBe('INCONCLUSIVE')
      expect(evaluation!.verdict.reason).toMatch(/^prometheus failed: Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 200 ms/)
    } finally {
      await server.close()
    }
  })

  it('ping reads buildinfo, falls back to a query where it is missing, and reports failures', async () => {
    const server = await fake((req, res) => {
      if (req.url?.startsWith('/ok/')) return json(res, 200, { status: 'success', data: { version: '2.42.0' } })
      if (req.url === '/compat/api/v1/query') return json(res, 200, vectorOf('1'))
      if (req.url?.startsWith('/compat/')) return json(res, 404, '404 page not found')
      json(res, 503, { status: 'error', errorType: 'unavailable', error: 'not ready' })
    })
    try {
      await new PrometheusProvider({ url: `${server.url}/ok` }).ping(signal())
      await new PrometheusProvider({ url: `${server.url}/compat` }).ping(signal())
      await expect(new PrometheusProvider({ url: `${server.url}/down` }).ping(signal())).rejects.toThrow('Prometheus error (unavailable, HTTP 503): not ready')
    } finally {
      await server.close()
    }
  })

  it('renders templates: durations in whole seconds, values escaped, unknown templates refused', () => {
    expect(promDuration(19_200)).toBe('20s')
    expect(promDuration(0)).toBe('1s')
    expect(promDuration(60_000)).toBe('60s')
    const values = { application: 'demo', version: 'v"2\\', namespace: '', window: '20s', interval: '5s' }
    expect(renderQuery('x{version="{{version}}",ns="{{namespace}}"}[{{window}}:{{interval}}]', values)).toBe('x{version="v\\"2\\\\",ns=""}[20s:5s]')
    expect(() => renderQuery('x{version="{{verison}}"}', values)).toThrow('the query uses an unknown template "{{verison}}"; did you mean {{version}}?')
  })
})

// ---------------------------------------------------------------------------------------

function specWith(gates: Array<Record<string, unknown>>, steps: unknown[] = [{ setWeight: 10 }, { analyze: { min: '5s', max: '5m' } }, { setWeight: 50 }]): AppSpec {
  return assertSpec({
    name: 'demo',
    target: { kind: 'process', listen: '127.0.0.1:18080', command: ['node', 'services/demo.mjs'], env: { APP_VERSION: '{{version}}', PORT: '{{port}}' } },
    strategy: { canary: { steps } },
    gates,
  })
}

describe('PrometheusProvider against a real Prometheus', () => {
  let provider: PrometheusProvider

  beforeAll(async () => {
    await stackReady
    if (stackError !== null) throw stackError
    provider = new PrometheusProvider({ url: stack!.url, namespace: 'shop', timeoutMs: 5000 })
    // Data for a whole window on both versions: each scraped for the window's length, with
    // a few hundred requests behind each value.
    const scraped = `min(count_over_time(up{job="demo"}[${promDuration(WINDOW_MS)}]))`
    await waitFor(
      async () => {
        const [count, sample] = await Promise.all([
          provider.query(scraped, new Date(), signal()).catch(() => null),
          provider.sample(windowQuery([gate('requests', 'sum(increase(http_server_requests_total{version="{{version}}"}[{{window}}]))')]), signal()).catch(() => null),
        ])
        const scrapes = count?.resultType === 'vector' ? (count.result[0]?.value ?? 0) : 0
        return { scrapes, v2: sample?.canary.values.requests ?? 0, v1: sample?.baseline.values.requests ?? 0 }
      },
      (seen) => seen.scrapes >= WINDOW_MS / 1000 && seen.v1 >= 300 && seen.v2 >= 300,
      { timeoutMs: 40_000, everyMs: 500, what: 'a full window of data in Prometheus' },
    )
  })

  it('answers ping with its build info', async () => {
    await provider.ping(signal())
    expect((await provider.client.buildInfo(signal())).version).toMatch(/^2\./)
  })

  it('per-version error rate and p95 separate the bad version from the good one', async () => {
    const sample = await provider.sample(windowQuery([gate('errors', ERRORS), gate('p95', P95), gate('targets', 'count(up{namespace="{{namespace}}",application="{{application}}"} == 1)')]), signal())
    expect(sample.provider).toBe('prometheus')
    expect(sample.canary.version).toBe('v2')
    expect(sample.baseline.version).toBe('v1')
    expect(sample.canary.reasons).toEqual({})
    expect(sample.baseline.reasons).toEqual({})
    const { errors: badErrors, p95: badP95 } = sample.canary.values
    const { errors: goodErrors, p95: goodP95 } = sample.baseline.values
    // v2: ~20 % errors, 170-190 ms; v1: ~0.3 % errors, 20-40 ms.
    expect(badErrors).toBeGreaterThan(0.1)
    expect(goodErrors).toBeLessThan(0.02)
    expect(badP95).toBeGreaterThan(0.15)
    expect(goodP95).toBeLessThan(0.08)
    expect(sample.canary.values.targets).toBe(2)
    expect(sample.canary.requests).toBeNull()
    expect(sample.canary.queries.errors).toContain('version="v2"')
    expect(sample.canary.queries.errors).toContain('[10s]')
  })

  it('the threshold judge FAILs the bad version and PASSes the good one on those values', async () => {
    const gates = [gate('errors', ERRORS, { kind: 'threshold', max: 0.03 }), gate('p95', P95, { kind: 'threshold', max: 0.1 })]
    const bad = await provider.sample(windowQuery(gates), signal())
    const good = await provider.sample(windowQuery(gates, { canaryVersion: 'v1', baselineVersion: 'v2' }), signal())
    for (const g of gates) {
      const failed = judgeFor(g.judge).judge([bad], g)
      expect(failed.verdict, failed.reason).toBe('FAIL')
      expect(failed.reason).toMatch(/above the limit of/)
      const passed = judgeFor(g.judge).judge([good], g)
      expect(passed.verdict, passed.reason).toBe('PASS')
    }
  })

  it('through the loop’s evaluation, Prometheus data rolls the bad version back', async () => {
    const spec = specWith([
      { name: 'errors', provider: 'prometheus', query: ERRORS, judge: { kind: 'threshold', max: 0.03 } },
      { name: 'p95', provider: 'prometheus', query: P95, judge: { kind: 'relative', maxRatio: 2 } },
    ])
    const now = Date.now()
    const evaluate = (canaryVersion: string, baselineVersion: string) =>
      evaluateGates({ spec, canaryVersion, baselineVersion, canaryWeight: 10, stepStartedAt: now - WINDOW_MS, now, providers: new Map([['prometheus', provider]]), timeoutMs: 10_000 })
    const state = { status: 'PROGRESSING' as const, stepIndex: 1, stepStartedAt: now - WINDOW_MS, weight: 10, steps: plannedSteps(spec), initial: false }
    const decideOn = (evaluations: Awaited<ReturnType<typeof evaluate>>) =>
      decide({
        state,
        gates: evaluations.map((e) => ({ verdict: e.verdict, dryRun: e.gate.dryRun, inconclusiveStreak: e.verdict.verdict === 'INCONCLUSIVE' ? 1 : 0, inconclusiveLimit: e.gate.inconclusiveLimit })),
        command: null,
        canaryFailure: null,
        now,
      })

    const bad = await evaluate('v2', 'v1')
    expect(bad.map((e) => e.verdict.verdict)).toEqual(['FAIL', 'FAIL'])
    const rollback = decideOn(bad)
    expect(rollback.action).toBe('ROLLBACK')
    expect(rollback.reason).toMatch(/errors/)

    const good = await evaluate('v1', 'v2')
    expect(good.map((e) => e.verdict.verdict)).toEqual(['PASS', 'PASS'])
    expect(decideOn(good).action).toBe('ADVANCE')
  })

  it('a query with a syntax error: Prometheus’s own parse error as the reason', async () => {
    const sample = await provider.sample(windowQuery([gate('ok', P95), gate('broken', 'sum(rate(http_server_requests_total{version="{{version}}"}[{{window}}])')]), signal())
    expect(sample.canary.values.ok).toBeGreaterThan(0)
    expect(sample.canary.values.broken).toBeNull()
    expect(sample.canary.reasons.broken).toMatch(/^Prometheus error \(bad_data, HTTP 400\): invalid parameter "query": 1:\d+: parse error: unclosed left parenthesis$/)
    expect(sample.baseline.reasons.broken).toMatch(/parse error/)
    // Alone, it is no data for the whole provider (INCONCLUSIVE), never a pass.
    await expect(provider.sample(windowQuery([gate('broken', 'sum(x{version="{{version}}"}')]), signal())).rejects.toThrow(NoDataError)
  })

  it('no series, several series, NaN, +Inf, a range vector and a string: null with the reason', async () => {
    const sample = await provider.sample(
      windowQuery([
        gate('ok', ERRORS),
        gate('none', 'sum(http_server_requests_total{application="nope",version="{{version}}"})'),
        gate('several', 'http_server_requests_total{version="{{version}}"}'),
        gate('nan', 'sum(rate(http_server_requests_total{version="{{version}}",code="418"}[{{window}}]) or vector(0)) / sum(rate(http_server_requests_total{version="{{version}}",code="418"}[{{window}}]) or vector(0))'),
        gate('inf', 'sum(rate(http_server_requests_total{version="{{version}}"}[{{window}}])) / 0'),
        gate('range', 'http_server_requests_total{version="{{version}}",code="200"}[{{window}}]'),
        gate('text', '"{{version}}"'),
      ]),
      signal(),
    )
    const { values, reasons } = sample.canary
    expect(values.ok).toBeGreaterThan(0.1)
    for (const key of ['none', 'several', 'nan', 'inf', 'range', 'text']) expect(values[key], key).toBeNull()
    expect(reasons.none).toBe('no series matched the query for v2 (no data; an empty result is never read as 0)')
    expect(reasons.several).toMatch(/^query returned \d+ series for v2; aggregate it to one, e\.g\. sum\(\.\.\.\) \(got http_server_requests_total\{/)
    expect(reasons.nan).toBe('the query returned NaN for v2 (often 0/0: no requests in the window)')
    expect(reasons.inf).toBe('the query returned +Inf for v2 (a division by zero?)')
    expect(reasons.range).toMatch(/^the query returned a range vector \(1 series\) for v2; a gate needs one number/)
    expect(reasons.text).toBe('the query returned a string ("v2") for v2, not a number')
    // The judge sees null: INCONCLUSIVE, never PASS.
    const verdict = judgeFor({ kind: 'threshold', max: 1 }).judge([sample], gate('nan', 'x'))
    expect(verdict.verdict).toBe('INCONCLUSIVE')
  })

  it('no baseline version: baseline values are null with the reason, the canary is still read', async () => {
    const sample = await provider.sample(windowQuery([gate('errors', ERRORS)], { baselineVersion: null }), signal())
    expect(sample.canary.values.errors).toBeGreaterThan(0.1)
    expect(sample.baseline.values.errors).toBeNull()
    expect(sample.baseline.reasons.errors).toBe('there is no baseline version to compare with')
  })

  it('range queries return per-version series for evidence', async () => {
    const end = new Date()
    const result = await provider.queryRange(
      'sum by (version) (rate(http_server_requests_total[5s]))',
      { start: new Date(end.getTime() - 5000), end, stepSeconds: 1 },
      signal(),
    )
    expect(result.resultType).toBe('matrix')
    const versions = result.result.map((s) => s.metric.version).sort()
    expect(versions).toEqual(['v1', 'v2'])
    for (const series of result.result) {
      expect(series.values.length).toBeGreaterThanOrEqual(5)
      for (const [time, value] of series.values) {
        expect(time).toBeGreaterThan(end.getTime() / 1000 - 6)
        expect(value).toBeGreaterThan(0)
      }
    }
    await expect(provider.queryRange('up', { start: new Date(0), end, stepSeconds: 1 }, signal())).rejects.toThrow(/use a larger step/)
  })

  it('checkQuery: a dry run that passes good queries and names Prometheus’s error for bad ones', async () => {
    await provider.checkQuery(ERRORS, signal())
    await provider.checkQuery(P95, signal(), { application: 'demo', version: 'v1' })
    await expect(provider.checkQuery('sum(rate(x{version="{{version}}"}[{{window}}])', signal())).rejects.toThrow(
      /^Prometheus error \(bad_data, HTTP 400\): invalid parameter "query": 1:\d+: parse error: unclosed left parenthesis$/,
    )
    await expect(provider.checkQuery('rate(x{version="{{version}}"})', signal())).rejects.toThrow(/expected type range vector in call to function "rate"/)
    await expect(provider.checkQuery('http_server_requests_total{version="{{version}}"}[{{window}}]', signal(), { version: 'v1' })).rejects.toThrow(/range vector/)
    await expect(provider.checkQuery('http_server_requests_total{version="{{version}}"}', signal(), { version: 'v1' })).rejects.toThrow(/aggregate it to one/)
    await expect(provider.checkQuery('x{version="{{verison}}"}', signal())).rejects.toThrow(/unknown template/)
  })

  it('Prometheus stopped: a connection error, for sample and ping', async () => {
    await stopChild(stack!.prometheus)
    const error = await provider.sample(windowQuery([gate('errors', ERRORS)]), signal()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PrometheusError)
    expect((error as Error).message).toMatch(/^cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/)
    await expect(provider.ping(signal())).rejects.toThrow(/connection refused/)
  })
})
