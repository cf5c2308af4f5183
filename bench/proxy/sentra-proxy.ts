/**
 * Sentra's weighted proxy for the proxy benchmark, alone in its process as the controller
 * runs it: argv <stable url> <canary url> <canary weight>. Prints {"port":N} when ready.
 */
import { WeightedProxy } from '../../controller/proxy/index.ts'

const [stable, canary, weight] = process.argv.slice(2)
if (!stable || !canary || weight === undefined) throw new Error('usage: sentra-proxy.ts <stable url> <canary url> <canary weight>')
const proxy = new WeightedProxy({
  host: '127.0.0.1',
  port: 0,
  routes: { stable: { version: 'v1', url: stable }, canary: { version: 'v2', url: canary }, weight: Number(weight) },
})
const { port } = await proxy.listen()
process.stdout.write(`${JSON.stringify({ port })}\n`)
process.on('SIGTERM', () => {
  void proxy.close().then(() => process.exit(0))
})
