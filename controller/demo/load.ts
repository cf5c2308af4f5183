import { Agent, request } from 'node:http'

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]']

/**
 * Steady demo traffic through the proxy: `rate` requests per second, at most `concurrency`
 * in flight (a slow version does not pile requests up). Loopback only, unless the caller
 * names the other hosts it may reach (the compose stack's controllers). Stops on stop().
 */
export function startLoad({ url, rate = 50, concurrency = 32, allowedHosts = [] }: { url: string; rate?: number; concurrency?: number; allowedHosts?: readonly string[] }): { stop(): void; sent(): number } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const target = new URL(url)
  if (!LOOPBACK.includes(target.hostname) && !allowedHosts.includes(target.hostname)) throw new Error(`demo load only goes to loopback, not ${target.hostname}`)
  let inFlight = 0
  let sent = 0
  let stopped = false
  const fire = () => {
    if (stopped || inFlight >= concurrency) return
    inFlight++
    sent++
    const req = request({ host: target.hostname, port: target.port, path: `/checkout?n=${sent}`, agent, timeout: 10_000 }, (res) => {
      res.resume()
      res.on('end', () => inFlight--)
      res.on('error', () => inFlight--)
    })
    req.on('error', () => inFlight--)
    req.on('timeout', () => req.destroy())
    req.end()
  }
  const timer = setInterval(fire, 1000 / rate)
  return {
    stop: () => {
      stopped = true
      clearInterval(timer)
      agent.destroy()
    },
    sent: () => sent,
  }
}
