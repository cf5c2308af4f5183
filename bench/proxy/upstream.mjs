// An upstream for the proxy benchmark: answers every request with a small 200 at once, so
// what is measured is the proxy in front of it. argv: <version>. Prints {"port":N} when ready.
import { createServer } from 'node:http'

const version = process.argv[2] ?? 'v1'
const body = Buffer.from(`ok ${version}\n`)
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
    res.end(body)
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
