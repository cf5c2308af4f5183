// The proxy benchmark's load generator, in its own process so it does not share an event
// loop with what it measures. Two modes:
//   rate <url> <requests/s> <seconds>   open loop: requests are scheduled at a fixed rate and
//                                        each latency is counted from its scheduled time (no
//                                        coordinated omission: a stall shows as latency)
//   max <url> <connections> <seconds>   closed loop: each connection sends its next request
//                                        when the previous answer is in; measures throughput
// stdout: one JSON line { sent, ok, failed, seconds, latencyUs: [sorted sample] }
import { Agent, request } from 'node:http'

const [mode, url, amountArg, secondsArg] = process.argv.slice(2)
const amount = Number(amountArg)
const seconds = Number(secondsArg)
const target = new URL(url)
const agent = new Agent({ keepAlive: true, maxSockets: mode === 'max' ? amount : 512 })
const latencies = []
let sent = 0
let ok = 0
let failed = 0

function once(startedAt) {
  sent += 1
  return new Promise((resolve) => {
    const req = request({ host: target.hostname, port: target.port, path: '/', agent }, (res) => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode === 200) ok += 1
        else failed += 1
        latencies.push(Number(process.hrtime.bigint() - startedAt) / 1000)
        resolve()
      })
    })
    req.on('error', () => {
      failed += 1
      resolve()
    })
    req.end()
  })
}

const began = process.hrtime.bigint()
const endAt = began + BigInt(Math.round(seconds * 1e9))

if (mode === 'rate') {
  const intervalNs = 1e9 / amount
  const inFlight = new Set()
  await new Promise((resolve) => {
    const tick = () => {
      const now = process.hrtime.bigint()
      if (now >= endAt) return resolve()
      const due = Math.floor(Number(now - began) / intervalNs)
      while (sent < due) {
        const scheduled = began + BigInt(Math.round(sent * intervalNs))
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

const elapsed = Number(process.hrtime.bigint() - began) / 1e9
latencies.sort((a, b) => a - b)
process.stdout.write(`${JSON.stringify({ sent, ok, failed, seconds: elapsed, latencyUs: latencies })}\n`)
agent.destroy()
