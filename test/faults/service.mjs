#!/usr/bin/env node
// The application the fault tests roll out: like services/demo.mjs, but its verdict cannot be
// blurred by a starved machine. Even versions (v2, v4, ...) fail half of their requests,
// odd ones none; no added latency. Plain ESM with node: built-ins only (starts at once).
//
// Environment: APP_VERSION, PORT (set by the process target), SENTRA_PARENT_PID (exit with Sentra).
import { createServer } from 'node:http'

const version = process.env.APP_VERSION || 'v1'
const port = Number(process.env.PORT || 0)
const bad = Number(/^v(\d+)/.exec(version)?.[1] ?? 1) % 2 === 0

const server = createServer((req, res) => {
  if ((req.url || '/').startsWith('/healthz')) {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
    return
  }
  const failed = bad && Math.random() < 0.5
  res.writeHead(failed ? 500 : 200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ version, failed }))
})

const stop = () => {
  server.close()
  server.closeAllConnections()
  setTimeout(() => process.exit(0), 500).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// Die with the controller: its end of our stdin closes however it ends, even by SIGKILL.
const parentPid = Number(process.env.SENTRA_PARENT_PID || 0)
if (parentPid > 0) {
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  setInterval(() => {
    try {
      process.kill(parentPid, 0)
    } catch (error) {
      if (error && error.code === 'ESRCH') stop()
    }
  }, 1000).unref()
}
server.on('error', (error) => {
  process.stderr.write(`fault service ${version}: cannot listen on 127.0.0.1:${port}: ${error.message}\n`)
  process.exit(2)
})
server.listen(port, '127.0.0.1', () => process.stdout.write(`fault service ${version} listening on ${port} (${bad ? 'bad' : 'good'})\n`))
