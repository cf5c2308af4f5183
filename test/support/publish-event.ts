/**
 * Publishes one event through `createBus` from a separate process (the bus tests' cross-process
 * case), then closes the bus and exits on its own: a bus that kept the process alive would make
 * the test time out.
 *
 *   node --import tsx test/support/publish-event.ts <redis-url> <prefix> <channel> <payload-json>
 *
 * Prints `published` on success; on failure prints the error on stderr and exits with 1.
 */
import { createBus, isChannel, type Channel, type Payloads } from '../../schema/events/index.ts'

const [url, prefix, channel, payload] = process.argv.slice(2)
if (!url || prefix === undefined || !channel || !payload || !isChannel(channel)) {
  console.error('usage: publish-event.ts <redis-url> <prefix> <channel> <payload-json>')
  process.exit(2)
}

const bus = createBus(url, { prefix, onError: () => undefined })
try {
  await bus.ping()
  // The payload is checked by the bus itself; a bad one throws InvalidPayloadError here.
  await bus.publish(channel, JSON.parse(payload) as Payloads[Channel])
  console.log('published')
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
} finally {
  await bus.close()
}
