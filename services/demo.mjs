#!/usr/bin/env node
// The demo application Sentra rolls out: a tiny HTTP service whose quality depends on its
// version, so a canary analysis has something real to find. Plain ESM JavaScript with only
// node: built-ins, so `node services/demo.mjs` starts in a few milliseconds (no tsx).
//
// Environment:
//   APP_VERSION            e.g. v1. Odd vN (v1, v3, ...) are good: ~0.3 % errors, 20-40 ms.
//                          Even vN (v2, v4, ...) are bad: ~8 % errors (500) and +150 ms.
//   PORT, HOST             where to listen (HOST defaults to 127.0.0.1; PORT 0 = any)
//   DEMO_ERROR_RATE        0..1, replaces the version's error rate (1 = always 500, 0 = never)
//   DEMO_EXTRA_LATENCY_MS  replaces the version's extra latency (0 for good, 150 for bad)
//   DEMO_FAIL_AFTER_MS     after this many ms from start the error rate becomes
//   DEMO_ERROR_RATE_AFTER  this one (default 0.08): a fault onset at a known moment
//   DEMO_UNHEALTHY=1       /healthz answers 503
//   SENTRA_PARENT_PID      set by Sentra's process target: exit when Sentra is gone
//   OTEL_EXPORTER_OTLP_ENDPOINT, SENTRA_OTLP_TOKEN_FILE
//                          export a span and a log record per request over OTLP (demo-otel.mjs);
//                          unset: no telemetry, and no OpenTelemetry code is loaded
import { createServer } from 'node:http'
import { startTelemetry } from './demo-otel.mjs'

const version = process.env.APP_VERSION || 'v1'
const host = process.env.HOST || '127.0.0.1'
const port = intEnv('PORT', 0, 0, 65535)

const GOOD = { errorRate: 0.003, extraLatencyMs: 0 }
const BAD = { errorRate: 0.08, extraLatencyMs: 150 }
const number = /^v?(\d+)/i.exec(version)
// Even-numbered versions are the bad releases; anything unnumbered counts as good.
const profile = number && Number(number[1]) % 2 === 0 ? BAD : GOOD

const errorRate = rateEnv('DEMO_ERROR_RATE', profile.errorRate)
const extraLatencyMs = intEnv('DEMO_EXTRA_LATENCY_MS', profile.extraLatencyMs, 0, 600_000)
const failAfterMs = process.env.DEMO_FAIL_AFTER_MS ? intEnv('DEMO_FAIL_AFTER_MS', 0, 0, Number.MAX_SAFE_INTEGER) : null
const errorRateAfter = rateEnv('DEMO_ERROR_RATE_AFTER', BAD.errorRate)
const unhealthy = process.env.DEMO_UNHEALTHY === '1'

// Histogram buckets (seconds) around the demo's 20-200 ms latencies.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5]
/** @type {Map<string, number>} status code -> requests */
const requestsByCode = new Map()
const bucketCounts = BUCKETS.map(() => 0)
let durationSum = 0
let durationCount = 0

let startedAt = Date.now()

const telemetry = await startTelemetry({ version, log: (line) => process.stdout.write(`demo ${version}: ${line}\n`) }).catch((error) => {
  process.stderr.write(`demo ${version}: telemetry disabled: ${error.message}\n`)
  return null
})

const server = createServer((req, res) => {
  const path = (req.url || '/').split('?')[0] || '/'
  if (path === '/healthz') {
    res.writeHead(unhealthy ? 503 : 200, { 'content-type': 'text/plain' })
    res.end(unhealthy ? 'unhealthy' : 'ok')
    return
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
    res.end(metricsText())
    return
  }
  const began = process.hrtime.bigint()
  const beganMs = Date.now()
  const currentRate = failAfterMs !== null && Date.now() - startedAt >= failAfterMs ? errorRateAfter : errorRate
  const failed = Math.random() < currentRate
  const delayMs = 20 + Math.random() * 20 + extraLatencyMs
  const timer = setTimeout(() => {
    const code = failed ? 500 : 200
    const body = failed ? { version, path, error: 'simulated failure' } : { version, path }
    res.writeHead(code, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
    record(code, Number(process.hrtime.bigint() - began) / 1e9)
    telemetry?.request({ path, code, startMs: beganMs, endMs: Date.now() })
  }, delayMs)
  // A client that goes away before the answer is not a request we served.
  res.on('close', () => clearTimeout(timer))
})

function record(code, seconds) {
  const key = String(code)
  requestsByCode.set(key, (requestsByCode.get(key) ?? 0) + 1)
  // Cumulative buckets are computed when printing; here each observation lands in one.
  const index = BUCKETS.findIndex((le) => seconds <= le)
  if (index >= 0) bucketCounts[index] += 1
  durationSum += seconds
  durationCount += 1
}

/** Prometheus text exposition format 0.0.4. */
function metricsText() {
  const v = `version="${escapeLabel(version)}"`
  const lines = [
    '# HELP http_server_requests_total HTTP requests answered, by status code.',
    '# TYPE http_server_requests_total counter',
  ]
  for (const [code, count] of [...requestsByCode].sort()) lines.push(`http_server_requests_total{${v},code="${code}"} ${count}`)
  lines.push(
    '# HELP http_server_request_duration_seconds Time to answer an HTTP request.',
    '# TYPE http_server_request_duration_seconds histogram',
  )
  let cumulative = 0
  BUCKETS.forEach((le, i) => {
    cumulative += bucketCounts[i]
    lines.push(`http_server_request_duration_seconds_bucket{${v},le="${le}"} ${cumulative}`)
  })
  lines.push(
    `http_server_request_duration_seconds_bucket{${v},le="+Inf"} ${durationCount}`,
    `http_server_request_duration_seconds_sum{${v}} ${durationSum}`,
    `http_server_request_duration_seconds_count{${v}} ${durationCount}`,
  )
  return lines.join('\n') + '\n'
}

function escapeLabel(value) {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function intEnv(name, fallback, min, max) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) die(`${name} must be an integer in ${min}..${max} (got "${raw}")`)
  return value
}

function rateEnv(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || value > 1) die(`${name} must be a number in 0..1 (got "${raw}")`)
  return value
}

function die(message) {
  process.stderr.write(`demo ${version}: ${message}\n`)
  process.exit(2)
}

let stopping = false
function stop(reason) {
  if (stopping) return
  stopping = true
  if (reason) process.stderr.write(`demo ${version}: ${reason}, exiting\n`)
  const flushed = telemetry ? Promise.race([telemetry.shutdown(), new Promise((resolve) => setTimeout(resolve, 1000))]) : Promise.resolve()
  server.close(() => flushed.then(() => process.exit(0)))
  // Keep-alive connections would hold close() open; in-flight answers are cut short.
  server.closeAllConnections()
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', () => stop())
process.on('SIGINT', () => stop())

// Dying with Sentra. Node cannot ask the kernel for a parent-death signal, so when Sentra
// starts us (it sets SENTRA_PARENT_PID) we watch two things:
// - stdin is a pipe whose other end only Sentra holds; the kernel closes it however Sentra
//   ends, even by SIGKILL, so 'end' on stdin is the immediate and reliable signal;
// - as a fallback (stdin redirected by a wrapper script), the parent pid is polled.
// Run by hand (no SENTRA_PARENT_PID), stdin is left alone so `demo.mjs < /dev/null` works.
const parentPid = Number(process.env.SENTRA_PARENT_PID || 0)
if (parentPid > 0) {
  process.stdin.on('end', () => stop('stdin closed (Sentra is gone)'))
  process.stdin.on('error', () => stop('stdin failed (Sentra is gone)'))
  process.stdin.resume()
  setInterval(() => {
    try {
      process.kill(parentPid, 0)
    } catch (error) {
      // EPERM means the pid exists (reused by someone else's process); only ESRCH is gone.
      if (error && error.code === 'ESRCH') stop(`parent ${parentPid} is gone`)
    }
  }, 1000).unref()
}

server.on('error', (error) => die(`cannot listen on ${host}:${port}: ${error.message}`))
server.listen(port, host, () => {
  startedAt = Date.now()
  const address = server.address()
  const actual = address && typeof address === 'object' ? address.port : port
  process.stdout.write(`demo ${version} listening on http://${host}:${actual} (error rate ${errorRate}, extra latency ${extraLatencyMs} ms)\n`)
})
