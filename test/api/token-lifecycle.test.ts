import { createClient } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'

/** An open subscription does not outlive its token: revoked or expired, the next event ends it. */
describe('subscriptions end when their token is revoked or expires', () => {
  let api: TestApi
  let rawRolloutId: string
  let seq = 1000

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: demoSpec('lifecycle') })
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation { startRollout(application: "lifecycle", version: "v2") { id } }`)
    rawRolloutId = Buffer.from(started.data!.startRollout.id, 'base64').toString().split(':')[1]!
  }, 60_000)
  afterAll(async () => {
    await api?.close()
  })

  const publish = () =>
    api.bus.publish('rollout.changed', { rolloutId: rawRolloutId, application: 'lifecycle', seq: seq++, status: 'PENDING', kind: 'state', at: new Date().toISOString() })

  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await publish()
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  for (const how of ['revoked', 'expired'] as const) {
    it(`${how}: the next event ends the subscription with UNAUTHENTICATED`, async () => {
      const { token, apiToken } = await api.store.tokens.create(`watcher ${how}`, 'read', { expiresAt: new Date(Date.now() + 3_600_000) })
      const client = createClient({ url: api.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, onNonLazyError: () => undefined, connectionParams: { token } })
      const received: unknown[] = []
      let failure: unknown = null
      const dispose = client.subscribe({ query: `subscription { rolloutEvents { seq } }` }, { next: (v) => received.push(v), error: (e) => (failure = e), complete: () => undefined })
      try {
        await until(() => received.length > 0, 'a first event')
        if (how === 'revoked') await api.store.tokens.revoke(apiToken.id)
        else await api.store.db.kysely.updateTable('api_tokens').set({ expires_at: Date.now() - 1 }).where('id', '=', apiToken.id).execute()
        const before = received.length
        await until(() => failure !== null, 'the subscription to end')
        expect(failure).toEqual([{ message: 'the token is no longer valid (revoked or expired)', extensions: { code: 'UNAUTHENTICATED' } }])
        // Only events already on their way when the token went may still have been sent.
        expect(received.length - before).toBeLessThanOrEqual(3)
      } finally {
        dispose()
        await client.dispose()
      }
    })
  }
})
