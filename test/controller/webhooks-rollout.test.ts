import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startLoad } from '../../controller/demo/load.ts'
import { verifySignature } from '../../controller/notify/signature.ts'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec, waitFor } from '../support/rollouts.ts'
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.ts'

vi.setConfig({ testTimeout: 90_000 })

interface Body {
  id: string
  event: string
  at: string
  application: string
  rollout: { id: string; fromVersion: string | null; toVersion: string; status: string; canaryWeight: number }
  decision: { action: string; actor: string; reason: string; at: string; stepIndex: number; fromWeight: number; toWeight: number }
  cause?: { action: string; reason: string }
}

/** The real controller decides; its notifier tells receivers on loopback. */
describe('webhooks from a real rollout (controller, proxy, child processes; SQLite)', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let load: ReturnType<typeof startLoad> | null = null
  let json: WebhookReceiver
  let slack: WebhookReceiver
  let jsonSecret: string
  let slackSecret: string

  async function subscribe(input: Record<string, unknown>): Promise<string> {
    const created = await api.gql<{ createWebhookSubscription: { secret: string } }>(
      `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) { secret } }`,
      { input },
    )
    expect(created.errors).toBeUndefined()
    return created.data!.createWebhookSubscription.secret
  }
  async function rollOut(version: string, statuses: string[]): Promise<string> {
    const started = await api.gql<{ startRollout: { id: string } }>(`mutation($v: String!) { startRollout(application: "shop", version: $v) { id } }`, { v: version }, api.tokens.operate)
    expect(started.errors).toBeUndefined()
    const id = started.data!.startRollout.id
    await waitFor(
      async () => (await api.gql<{ rollout: { status: string } }>(`query($id: ID!) { rollout(id: $id) { status } }`, { id })).data!.rollout.status,
      (status) => statuses.includes(status),
      { what: `${version} ${statuses.join('/')}` },
    )
    return id
  }
  const bodies = (requests: ReceivedRequest[]) => requests.map((r) => JSON.parse(r.body) as Body).sort((a, b) => a.decision.at.localeCompare(b.decision.at))

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    json = await startReceiver()
    slack = await startReceiver()
    const port = await freePort()
    runtime = await startControllerRuntime({
      store: api.store,
      bus: api.bus,
      scanIntervalMs: 200,
      notifications: { pollIntervalMs: 50, scanIntervalMs: 500, baseDelayMs: 50, maxDelayMs: 500, timeoutMs: 2000 },
    })
    const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec('shop', port) })
    expect(applied.errors).toBeUndefined()
    jsonSecret = await subscribe({ application: 'shop', url: json.url })
    slackSecret = await subscribe({ url: slack.url, format: 'SLACK', events: ['ROLLOUT_ROLLED_BACK'] })
    await rollOut('v1', ['SUCCEEDED'])
    load = startLoad({ url: `http://127.0.0.1:${port}/`, rate: 40 })
  })
  afterAll(async () => {
    load?.stop()
    await runtime?.stop()
    await json?.close()
    await slack?.close()
    await api?.close()
  })

  it('tells the receivers what the controller decided, signed, once each', async () => {
    const rolloutId = await rollOut('v2', ['ROLLED_BACK', 'SUCCEEDED', 'PAUSED'])
    await waitFor(async () => bodies(json.requests).map((b) => b.event), (events) => events.includes('rollout.rolled_back'), { timeoutMs: 10_000, what: 'the rollback notification' })
    await waitFor(async () => slack.requests.length, (n) => n >= 1, { timeoutMs: 10_000, what: 'the Slack notification' })

    for (const request of json.requests) expect(verifySignature(jsonSecret, request.headers['x-sentra-timestamp'] as string, request.body, request.headers['x-sentra-signature'] as string)).toBe(true)
    const received = bodies(json.requests)
    // v1: INITIAL_DEPLOY; v2: START, SET_WEIGHT, (ROLLBACK: not notified), ROLLED_BACK.
    expect(received.map((b) => [b.rollout.toVersion, b.event, b.decision.action])).toEqual([
      ['v1', 'rollout.promoted', 'INITIAL_DEPLOY'],
      ['v2', 'rollout.started', 'START'],
      ['v2', 'rollout.step_advanced', 'SET_WEIGHT'],
      ['v2', 'rollout.rolled_back', 'ROLLED_BACK'],
    ])
    expect(new Set(received.map((b) => b.id)).size).toBe(received.length)
    const rolledBack = received.at(-1)!
    expect(rolledBack).toMatchObject({ application: 'shop', rollout: { id: rolloutId, fromVersion: 'v1', toVersion: 'v2', status: 'ROLLED_BACK' }, decision: { actor: 'controller', toWeight: 0 } })
    expect(rolledBack.cause).toMatchObject({ action: 'ROLLBACK', reason: expect.stringMatching(/failed/) })

    expect(slack.requests).toHaveLength(1)
    const message = JSON.parse(slack.requests[0]!.body) as { text: string; blocks: unknown[] }
    expect(message.text).toBe(`shop v2 rolled back: ${rolledBack.cause!.reason}`)
    expect(message.text).toMatch(/^shop v2 rolled back: .*failed/)
    expect(message.blocks).toHaveLength(2)
    expect(verifySignature(slackSecret, slack.requests[0]!.headers['x-sentra-timestamp'] as string, slack.requests[0]!.body, slack.requests[0]!.headers['x-sentra-signature'] as string)).toBe(true)

    // The delivery log says the same.
    const log = await api.gql<{ webhookSubscriptions: { application: string | null; deliveries: { event: string; status: string; attempts: number }[] }[] }>(
      `{ webhookSubscriptions { application deliveries { event status attempts } } }`,
    )
    const [jsonLog, slackLog] = log.data!.webhookSubscriptions
    expect(jsonLog?.deliveries.map((d) => d.event).sort()).toEqual(['ROLLOUT_PROMOTED', 'ROLLOUT_ROLLED_BACK', 'ROLLOUT_STARTED', 'ROLLOUT_STEP_ADVANCED'])
    expect(jsonLog?.deliveries.every((d) => d.status === 'DELIVERED' && d.attempts === 1)).toBe(true)
    expect(slackLog?.deliveries).toEqual([{ event: 'ROLLOUT_ROLLED_BACK', status: 'DELIVERED', attempts: 1 }])
  })
})
