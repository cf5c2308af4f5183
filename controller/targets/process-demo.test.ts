// services/demo.mjs, the application the process target runs in the demo: its behaviour by
// version, its overrides, its /metrics, and how it ends.
import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO, alive, eventually } from './process-test-support.ts'

interface Demo {
  child: ChildProcess
  url: string
  /** When it printed that it listens (the clock DEMO_FAIL_AFTER_MS counts from, give or take). */
  listeningAt: number
}

const started: ChildProcess[] = []

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

async function startDemo(env: Record<string, string>, stdin: 'pipe' | 'ignore' = 'ignore'): Promise<Demo> {
  const child = spawn(process.execPath, [DEMO], { env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: [stdin, 'pipe', 'pipe'] })
  started.push(child)
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match?.[1] !== undefined) resolve(match[1])
    })
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}`)))
  })
  return { child, url, listeningAt: Date.now() }
}

/** `count` GETs, `concurrency` at a time; the status codes. */
async function statuses(url: string, count: number, concurrency = 25): Promise<number[]> {
  const codes: number[] = []
  for (let sent = 0; sent < count; sent += concurrency) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(concurrency, count - sent) }, async () => {
        const res = await fetch(`${url}/checkout`)
        await res.arrayBuffer()
        return res.status
      }),
    )
    codes.push(...batch)
  }
  return codes
}

const errors = (codes: number[]): number => codes.filter((code) => code === 500).length

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

/** A minimal reader of the Prometheus text format (0.0.4): every line is a comment or a sample. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  const types = new Map<string, string>()
  const samples: { name: string; labels: Record<string, string>; value: number }[] = []
  expect(text.endsWith('\n')).toBe(true)
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type) {
      types.set(type[1] ?? '', type[2] ?? '')
      continue
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/.exec(line)
    expect(sample, `not a Prometheus sample line: ${line}`).not.toBeNull()
    const labels: Record<string, string> = {}
    for (const pair of (sample?.[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? ''
    const value = Number(sample?.[3])
    expect(Number.isNaN(value)).toBe(false)
    const name = sample?.[1] ?? ''
    // A sample belongs to a family whose TYPE came before it.
    expect([...types.keys()].some((family) => name === family || name.startsWith(`${family}_`))).toBe(true)
    samples.push({ name, labels, value })
  }
  return { types, samples }
}

describe('services/demo.mjs', () => {
  it('v2 fails clearly more often than v1 and is slower', async () => {
    const [v1, v2] = await Promise.all([startDemo({ APP_VERSION: 'v1' }), startDemo({ APP_VERSION: 'v2' })])
    const [good, bad] = await Promise.all([statuses(v1.url, 400), statuses(v2.url, 400)])
    expect(good.every((code) => code === 200 || code === 500)).toBe(true)
    // Expected 1.2 vs 32 errors in 400; the bounds leave the test about 4 standard deviations.
    expect(errors(good)).toBeLessThanOrEqual(8)
    expect(errors(bad)).toBeGreaterThanOrEqual(12)
    expect(errors(bad)).toBeGreaterThan(errors(good) + 4)
    // Latency seen by the service itself; only lower bounds, which a slow machine cannot break.
    const mean = async (url: string): Promise<number> => {
      const { samples } = parsePrometheus(await (await fetch(`${url}/metrics`)).text())
      const sum = samples.find((s) => s.name === 'http_server_request_duration_seconds_sum')?.value ?? 0
      const count = samples.find((s) => s.name === 'http_server_request_duration_seconds_count')?.value ?? 1
      return sum / count
    }
    expect(await mean(v1.url)).toBeGreaterThanOrEqual(0.019)
    expect(await mean(v2.url)).toBeGreaterThanOrEqual(0.169)
  })

  it('DEMO_ERROR_RATE and DEMO_EXTRA_LATENCY_MS override the version exactly', async () => {
    const [always, never] = await Promise.all([
      startDemo({ APP_VERSION: 'v1', DEMO_ERROR_RATE: '1', DEMO_EXTRA_LATENCY_MS: '0' }),
      startDemo({ APP_VERSION: 'v2', DEMO_ERROR_RATE: '0', DEMO_EXTRA_LATENCY_MS: '0' }),
    ])
    expect(await statuses(always.url, 30)).toEqual(Array(30).fill(500))
    expect(await statuses(never.url, 30)).toEqual(Array(30).fill(200))
    const res = await fetch(`${never.url}/some/path?q=1`)
    expect(await res.json()).toEqual({ version: 'v2', path: '/some/path' })
  })

  it('DEMO_FAIL_AFTER_MS switches to DEMO_ERROR_RATE_AFTER at a known moment', async () => {
    const failAfterMs = 1_500
    const demo = await startDemo({ APP_VERSION: 'v1', DEMO_ERROR_RATE: '0', DEMO_FAIL_AFTER_MS: String(failAfterMs), DEMO_ERROR_RATE_AFTER: '1' })
    const [before] = await statuses(demo.url, 1)
    // Only when the answer surely came before the onset (a slow machine may be later).
    if (Date.now() - demo.listeningAt < failAfterMs - 200) expect(before).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, demo.listeningAt + failAfterMs + 100 - Date.now())))
    expect(await statuses(demo.url, 10)).toEqual(Array(10).fill(500))
  })

  it('serves /healthz, and 503 with DEMO_UNHEALTHY=1', async () => {
    const [healthy, sick] = await Promise.all([startDemo({ APP_VERSION: 'v1' }), startDemo({ APP_VERSION: 'v1', DEMO_UNHEALTHY: '1' })])
    const ok = await fetch(`${healthy.url}/healthz`)
    expect([ok.status, await ok.text()]).toEqual([200, 'ok'])
    expect((await fetch(`${sick.url}/healthz`)).status).toBe(503)
  })

  it('/metrics is Prometheus text whose counters and histogram add up', async () => {
    const demo = await startDemo({ APP_VERSION: 'v3', DEMO_ERROR_RATE: '0.5', DEMO_EXTRA_LATENCY_MS: '0' })
    const codes = await statuses(demo.url, 60)
    await fetch(`${demo.url}/healthz`)
    const res = await fetch(`${demo.url}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const { types, samples } = parsePrometheus(await res.text())
    expect(types.get('http_server_requests_total')).toBe('counter')
    expect(types.get('http_server_request_duration_seconds')).toBe('histogram')

    const requests = samples.filter((s) => s.name === 'http_server_requests_total')
    expect(requests.every((s) => s.labels.version === 'v3')).toBe(true)
    const byCode = Object.fromEntries(requests.map((s) => [s.labels.code, s.value]))
    // Health checks and scrapes are not application traffic.
    expect(byCode).toEqual(Object.fromEntries([...new Set(codes)].map((code) => [String(code), codes.filter((c) => c === code).length])))

    const buckets = samples.filter((s) => s.name === 'http_server_request_duration_seconds_bucket')
    const counts = buckets.map((s) => s.value)
    expect(counts).toEqual([...counts].sort((a, b) => a - b))
    expect(buckets.at(-1)?.labels.le).toBe('+Inf')
    const count = samples.find((s) => s.name === 'http_server_request_duration_seconds_count')
    expect(buckets.at(-1)?.value).toBe(60)
    expect(count?.value).toBe(60)
    expect(samples.find((s) => s.name === 'http_server_request_duration_seconds_sum')?.value).toBeGreaterThan(60 * 0.019)
  })

  it('exits cleanly on SIGTERM and SIGINT', async () => {
    const [a, b] = await Promise.all([startDemo({ APP_VERSION: 'v1' }), startDemo({ APP_VERSION: 'v1' })])
    a.child.kill('SIGTERM')
    b.child.kill('SIGINT')
    expect(await exited(a.child)).toEqual({ code: 0, signal: null })
    expect(await exited(b.child)).toEqual({ code: 0, signal: null })
  })

  it('started by Sentra (SENTRA_PARENT_PID), exits when its stdin closes; by hand, it does not', async () => {
    const managed = await startDemo({ APP_VERSION: 'v1', SENTRA_PARENT_PID: String(process.pid) }, 'pipe')
    const byHand = await startDemo({ APP_VERSION: 'v1' }, 'pipe')
    managed.child.stdin?.end()
    byHand.child.stdin?.end()
    expect(await exited(managed.child)).toEqual({ code: 0, signal: null })
    // The one run by hand keeps serving with its stdin closed.
    expect((await fetch(`${byHand.url}/healthz`)).status).toBe(200)
    expect(alive(byHand.child.pid)).toBe(true)
  })

  it('refuses a bad override with a clear message', async () => {
    const child = spawn(process.execPath, [DEMO], { env: { PATH: process.env.PATH ?? '', PORT: '0', DEMO_ERROR_RATE: '7' }, stdio: ['ignore', 'ignore', 'pipe'] })
    started.push(child)
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    expect(await exited(child)).toEqual({ code: 2, signal: null })
    expect(await eventually(() => stderr.includes('DEMO_ERROR_RATE must be a number in 0..1 (got "7")'))).toBe(true)
  })
})
