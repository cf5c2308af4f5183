/**
 * Acts as a separate controller process would: changes a rollout in the store, then
 * publishes the change through the Redis bus, and exits.
 *
 *   node --import tsx test/support/change-rollout.ts <database-url> <redis-url> <prefix> <rollout-id> <status>
 */
import { createBus } from '../../schema/events/index.ts'
import { openStore, ROLLOUT_STATUSES, type RolloutStatus } from '../../schema/store/index.ts'

const [databaseUrl, redisUrl, prefix, rolloutId, status] = process.argv.slice(2)
if (!databaseUrl || !redisUrl || prefix === undefined || !rolloutId || !ROLLOUT_STATUSES.includes(status as RolloutStatus)) {
  console.error('usage: change-rollout.ts <database-url> <redis-url> <prefix> <rollout-id> <status>')
  process.exit(2)
}

const store = await openStore(databaseUrl, { migrate: false })
const bus = createBus(redisUrl, { prefix })
try {
  const rollout = await store.rollouts.update(rolloutId, { status: status as RolloutStatus, desiredWeight: 5, canaryWeight: 5 })
  await bus.publish('rollout.changed', {
    rolloutId,
    application: rollout.applicationName,
    seq: rollout.seq,
    status: rollout.status,
    kind: 'state',
    at: new Date().toISOString(),
  })
  console.log(`published seq ${rollout.seq}`)
} finally {
  await bus.close()
  await store.close()
}
