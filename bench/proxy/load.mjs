// The proxy benchmark's load generator, in its own process so it does not share an event
// loop with what it measures. Two modes:
//   rate <url> <requests/s> <seconds> [warm-up seconds]
//                                        open loop: requests are scheduled at a fixed rate and
//                                        each latency is counted from its scheduled time (no
//                                        coordinated omission: a stall shows as latency); the
//                                        first warm-up seconds run at the same rate on the same
//                                        connections but are not counted (see below)
//   max <url> <connections> <seconds>   closed loop: each connection sends its next request
//                                        when the previous answer is in; measures throughput
// stdout: one JSON line { sent, ok, failed, seconds, connections, warmupSent, latencyUs: [sorted sample] }
// (connections: the TCP connections it opened, warm-up included; in rate mode at most 512 are
// open at once, and one closed by the other side, e.g. idle too long, is replaced by a new one)
//
// Why a warm-up in the same process: this process starts cold (no connections, code not yet
// optimised), falls behind in its first few hundred milliseconds, then sends what is overdue
// at once, each on a new connection, up to 512. That storm of connections set the p99 of a
// 5 s run, on every path, and says nothing about a proxy at a steady 2,000 requests/s; a
// warm-up in another process does not help, since its connections close with it.
import { Agent, request } from 'node:http'

const [mode, url, amountArg, secondsArg, warmupArg = '0'] = process.argv.slice(2)
const amount = Number(amountArg)
const seconds = Number(secondsArg)
const warmup = mode === 'rate' ? Number(warmupArg) : 0
if (mode !== 'rate' && mode !== 'max') throw new Error(`unknown mode ${mode}`)
if (!(amount > 0 && Number.isFinite(amount))) throw new Error(`amount must be a number > 0, got ${amountArg}`)
if (!(seconds >= 0 && Number.isFinite(seconds))) throw new Error(`seconds must be a number >= 0, got ${secondsArg}`)
if (!(warmup >= 0 && Number.isFinite(warmup))) throw new Error(`warm-up seconds must be >= 0, got ${warmupArg}`)
const target = new URL(url)
const agent = new Agent({ keepAlive: true, maxSockets: mode === 'max' ? amount : 512 })
const latencies = []
let sent = 0
let ok = 0
let failed = 0
let connections = 0
let warmupSent = 0
let counting = warmup === 0
// every socket the agent creates is a new connection to the path under test
const createConnection = agent.createConnection.bind(agent)
agent.createConnection = (...args) => {
  connections += 1
  return createConnection(...args)
}

function once(startedAt) {
  const counted = counting
  if (counted) sent += 1
  else warmupSent += 1
  return new Promise((resolve) => {
    const req = request({ host: target.hostname, port: target.port, path: '/', agent }, (res) => {
      res.resume()
      res.on('end', () => {
        if (counted) {
          if (res.statusCode === 200) ok += 1
          else failed += 1
          latencies.push(Number(process.hrtime.bigint() - startedAt) / 1000)
        }
        resolve()
      })
    })
    req.on('error', () => {
      if (counted) failed += 1
      resolve()
    })
    req.end()
  })
}

const began = process.hrtime.bigint()
const countFrom = began + BigInt(Math.round(warmup * 1e9))
const endAt = countFrom + BigInt(Math.round(seconds * 1e9))

if (mode === 'rate') {
  const intervalNs = 1e9 / amount
  const inFlight = new Set()
  await new Promise((resolve) => {
    const tick = () => {
      const now = process.hrtime.bigint()
      if (now >= endAt) return resolve()
      const due = Math.floor(Number(now - began) / intervalNs)
      while (warmupSent + sent < due) {
        const scheduled = began + BigInt(Math.round((warmupSent + sent) * intervalNs))
        counting = scheduled >= countFrom
        const p = once(scheduled)
        inFlight.add(p)
        p.then(() => inFlight.delete(p))
      }
      setImmediate(tick)
    }
    tick()
  })
  await Promise.all(inFlight)
} else if (mode === 'max') {
  const loop = async () => {
    while (process.hrtime.bigint() < endAt) await once(process.hrtime.bigint())
  }
  await Promise.all(Array.from({ length: amount }, loop))
} else {
  throw new Error(`unknown mode ${mode}`)
}

const elapsed = Number(process.hrtime.bigint() - countFrom) / 1e9
latencies.sort((a, b) => a - b)
process.stdout.write(`${JSON.stringify({ sent, ok, failed, seconds: elapsed, connections, warmupSent, latencyUs: latencies })}\n`)
agent.destroy()
