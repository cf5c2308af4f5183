// An upstream for the proxy benchmark: answers every request with a small 200 at once, so
// what is measured is the proxy in front of it. argv: <version>. Prints {"port":N} when ready.
// GET /__bench/connections answers {"accepted":N}: the TCP connections it has accepted so
// far, so the benchmark can count how many upstream connections each path opens.
import { createServer } from 'node:http'

const version = process.argv[2] ?? 'v1'
const body = Buffer.from(`ok ${version}\n`)
let accepted = 0
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    if (req.url === '/__bench/connections') {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' })
      res.end(JSON.stringify({ accepted }))
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
    res.end(body)
  })
})
server.on('connection', () => (accepted += 1))
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
