import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/databases.ts'
import { startTestApi, type GraphResult, type TestApi } from '../support/api.ts'
import { countRows, makeApplication } from '../support/store-fixtures.ts'

const CREATE = `mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { secret subscription { id application url format events enabled disabledReason createdAt deliveries { id } } } }`
const UPDATE = `mutation($id: ID!, $enabled: Boolean, $events: [WebhookEvent!], $url: String) {
  updateWebhookSubscription(id: $id, enabled: $enabled, events: $events, url: $url) { id url events enabled disabledReason } }`
const DELETE = `mutation($id: ID!) { deleteWebhookSubscription(id: $id) }`
const REDELIVER = `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status } }`
const LIST = `{ webhookSubscriptions { id application url format events enabled } }`

interface Created {
  createWebhookSubscription: { secret: string; subscription: { id: string; application: string | null; url: string; format: string; events: string[]; enabled: boolean } }
}

const ALL_EVENTS = ['ROLLOUT_STARTED', 'ROLLOUT_STEP_ADVANCED', 'ROLLOUT_PAUSED', 'ROLLOUT_ROLLED_BACK', 'ROLLOUT_PROMOTED', 'ROLLOUT_FAILED']

function firstError(result: GraphResult): { code: unknown; path: unknown; message: string } {
  const error = result.errors?.[0]
  return { code: error?.extensions?.code, path: error?.extensions?.path, message: error?.message ?? '' }
}

describe.each(DIALECTS)('webhook subscriptions over the graph on %s', (dialect) => {
  let api: TestApi
  let application: string

  beforeAll(async () => {
    api = await startTestApi(dialect)
    application = (await makeApplication(api.store.db, 'checkout')).name
  })
  afterAll(async () => {
    await api?.close()
  })

  const rows = () => countRows(api.store.db, 'webhook_subscriptions')

  it('creates a subscription with defaults and returns the generated secret once', async () => {
    const created = await api.gql<Created>(CREATE, { input: { url: 'http://127.0.0.1:9999/hook' } })
    expect(created.errors).toBeUndefined()
    const { secret, subscription } = created.data!.createWebhookSubscription
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
    expect(subscription).toMatchObject({ application: null, url: 'http://127.0.0.1:9999/hook', format: 'JSON', events: ALL_EVENTS, enabled: true, disabledReason: null, deliveries: [] })

    const chosen = await api.gql<Created>(CREATE, {
      input: { application, url: 'https://hooks.slack.com/services/T0/B0/abc', format: 'SLACK', events: ['ROLLOUT_ROLLED_BACK', 'ROLLOUT_FAILED', 'ROLLOUT_FAILED'], secret: 'my own secret, 24 chars.' },
    })
    expect(chosen.errors).toBeUndefined()
    expect(chosen.data!.createWebhookSubscription).toMatchObject({
      secret: 'my own secret, 24 chars.',
      subscription: { application: 'checkout', format: 'SLACK', events: ['ROLLOUT_ROLLED_BACK', 'ROLLOUT_FAILED'] },
    })

    // The secret is never shown again.
    const listed = await api.gql<{ webhookSubscriptions: { id: string }[] }>(LIST)
    expect(listed.data?.webhookSubscriptions.map((s) => s.id)).toEqual([subscription.id, chosen.data!.createWebhookSubscription.subscription.id])
    const everything = await api.gql(`{ webhookSubscriptions { id application url format events enabled disabledReason createdAt deliveries(last: 5) { id } } }`)
    expect(JSON.stringify(everything)).not.toContain(secret)
    expect(JSON.stringify(everything)).not.toContain('my own secret')
  })

  it('updates the URL, the events and enabled; deletes', async () => {
    const created = await api.gql<Created>(CREATE, { input: { url: 'http://127.0.0.1:9999/a' } })
    const { id } = created.data!.createWebhookSubscription.subscription
    const off = await api.gql(UPDATE, { id, enabled: false })
    expect(off.data).toEqual({ updateWebhookSubscription: { id, url: 'http://127.0.0.1:9999/a', events: ALL_EVENTS, enabled: false, disabledReason: 'disabled by an admin' } })
    const changed = await api.gql(UPDATE, { id, enabled: true, events: ['ROLLOUT_PAUSED'], url: 'https://example.com/b' })
    expect(changed.data).toEqual({ updateWebhookSubscription: { id, url: 'https://example.com/b', events: ['ROLLOUT_PAUSED'], enabled: true, disabledReason: null } })
    expect((await api.gql(DELETE, { id })).data).toEqual({ deleteWebhookSubscription: true })
    expect(firstError(await api.gql(DELETE, { id })).code).toBe('NOT_FOUND')
    expect(firstError(await api.gql(UPDATE, { id, enabled: true })).code).toBe('NOT_FOUND')
    expect(firstError(await api.gql(REDELIVER, { id: randomUUID() })).code).toBe('NOT_FOUND')
  })

  describe('bad input names the field and writes nothing', () => {
    it.each([
      ['a malformed url', { url: 'not a url' }, 'input.url', /not a valid URL/],
      ['an empty url', { url: '' }, 'input.url', /must not be empty/],
      ['a non-http url', { url: 'ftp://example.com/x' }, 'input.url', /http or https/],
      ['credentials in the url', { url: 'https://user:pass@example.com/hook' }, 'input.url', /credentials/],
      ['a url over 2048 characters', { url: `https://example.com/${'a'.repeat(2048)}` }, 'input.url', /2048/],
      ['the cloud metadata address', { url: 'http://169.254.169.254/latest/meta-data/' }, 'input.url', /link-local or cloud metadata/],
      ['a link-local IPv6 address', { url: 'http://[fe80::1]:8080/' }, 'input.url', /link-local/],
      ['a metadata host name', { url: 'http://metadata.google.internal/' }, 'input.url', /metadata/],
      ['a short secret', { url: 'http://127.0.0.1:1/', secret: 'too-short' }, 'input.secret', /16 to 256/],
      ['a long secret', { url: 'http://127.0.0.1:1/', secret: 's'.repeat(257) }, 'input.secret', /16 to 256/],
      ['a secret with a newline', { url: 'http://127.0.0.1:1/', secret: `${'s'.repeat(20)}\n` }, 'input.secret', /control/],
      ['no events', { url: 'http://127.0.0.1:1/', events: [] }, 'input.events', /at least one event/],
      ['an empty application name', { url: 'http://127.0.0.1:1/', application: '' }, 'input.application', /application name/],
      ['a too long application name', { url: 'http://127.0.0.1:1/', application: 'a'.repeat(64) }, 'input.application', /application name/],
    ])('create: %s', async (_what, input, path, message) => {
      const before = await rows()
      const result = await api.gql(CREATE, { input })
      expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', path, message: expect.stringMatching(message) })
      expect(result.data ?? null).toBeNull()
      expect(await rows()).toBe(before)
    })

    it('create: every problem at once, listed in extensions.issues', async () => {
      const result = await api.gql(CREATE, { input: { url: 'gopher://x', secret: 'short', events: [] } })
      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        path: 'input.url',
        issues: [
          { path: 'input.url', message: expect.any(String) },
          { path: 'input.events', message: expect.any(String) },
          { path: 'input.secret', message: expect.any(String) },
        ],
      })
    })

    it('create: an unknown event or format is refused by the schema, naming it', async () => {
      const before = await rows()
      // As a variable (coerced before any resolver runs) and as a literal (a validation error).
      const event = await api.gql(CREATE, { input: { url: 'http://127.0.0.1:1/', events: ['ROLLOUT_STARTED', 'ROLLOUT_EXPLODED'] } })
      expect(event.data ?? null).toBeNull()
      expect(event.errors?.[0]?.message).toMatch(/"ROLLOUT_EXPLODED" does not exist in "WebhookEvent" enum/)
      const literal = await api.gql(`mutation { createWebhookSubscription(input: { url: "http://127.0.0.1:1/", events: [ROLLOUT_EXPLODED] }) { secret } }`)
      expect(literal.errors?.[0]).toMatchObject({ message: expect.stringMatching(/"ROLLOUT_EXPLODED" does not exist in "WebhookEvent" enum/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })
      const format = await api.gql(CREATE, { input: { url: 'http://127.0.0.1:1/', format: 'XML' } })
      expect(format.errors?.[0]?.message).toMatch(/"XML" does not exist in "WebhookFormat" enum/)
      const update = await api.gql(UPDATE, { id: randomUUID(), events: ['rollout.started'] })
      expect(update.errors?.[0]?.message).toMatch(/"rollout.started" does not exist in "WebhookEvent" enum/)
      expect(await rows()).toBe(before)
    })

    it('create: an unknown application is NOT_FOUND', async () => {
      const before = await rows()
      const result = await api.gql(CREATE, { input: { url: 'http://127.0.0.1:1/', application: 'nope' } })
      expect(firstError(result)).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/application "nope" does not exist/) })
      expect(await rows()).toBe(before)
    })

    it('update: a bad id, url or events list, or nothing to change', async () => {
      const created = await api.gql<Created>(CREATE, { input: { url: 'http://127.0.0.1:9999/keep', events: ['ROLLOUT_STARTED'] } })
      const { id } = created.data!.createWebhookSubscription.subscription
      const cases: [Record<string, unknown>, string | undefined, RegExp][] = [
        [{ id: 'not-an-id', enabled: false }, 'id', /not a valid webhook subscription id/],
        [{ id, url: 'http://user:pw@127.0.0.1/' }, 'url', /credentials/],
        [{ id, url: 'http://169.254.169.254/' }, 'url', /metadata/],
        [{ id, url: 'nope' }, 'url', /not a valid URL/],
        [{ id, events: [] }, 'events', /at least one event/],
        [{ id }, undefined, /nothing to change/],
      ]
      for (const [variables, path, message] of cases) {
        const result = await api.gql(UPDATE, variables)
        expect(firstError(result), JSON.stringify(variables)).toMatchObject({ code: 'BAD_USER_INPUT', path, message: expect.stringMatching(message) })
      }
      const unchanged = await api.store.webhooks.subscription(id)
      expect(unchanged).toMatchObject({ url: 'http://127.0.0.1:9999/keep', events: ['rollout.started'], enabled: true })
    })

    it('delete and redeliver: a bad id', async () => {
      const before = await rows()
      expect(firstError(await api.gql(DELETE, { id: 'x' }))).toMatchObject({ code: 'BAD_USER_INPUT', path: 'id' })
      expect(firstError(await api.gql(REDELIVER, { id: 'x' }))).toMatchObject({ code: 'BAD_USER_INPUT', path: 'deliveryId' })
      expect(await rows()).toBe(before)
    })

    it('deliveries(last:) must be 1 to 1000', async () => {
      for (const last of [0, -1, 1001]) {
        const result = await api.gql(`query($last: Int) { webhookSubscriptions { deliveries(last: $last) { id } } }`, { last })
        expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', path: 'last' })
      }
    })
  })

  it('is for admins only: operate and read tokens are FORBIDDEN, no token UNAUTHENTICATED; nothing written', async () => {
    const existing = await api.store.webhooks.subscriptions()
    const id = existing[0]!.id
    const before = await rows()
    for (const token of [api.tokens.operate, api.tokens.read]) {
      expect(firstError(await api.gql(CREATE, { input: { url: 'http://127.0.0.1:1/' } }, token)).code).toBe('FORBIDDEN')
      expect(firstError(await api.gql(UPDATE, { id, enabled: false }, token)).code).toBe('FORBIDDEN')
      expect(firstError(await api.gql(DELETE, { id }, token)).code).toBe('FORBIDDEN')
      expect(firstError(await api.gql(REDELIVER, { id: randomUUID() }, token)).code).toBe('FORBIDDEN')
      expect(firstError(await api.gql(LIST, {}, token)).code).toBe('FORBIDDEN')
    }
    const anonymous = await api.gql(CREATE, { input: { url: 'http://127.0.0.1:1/' } }, null)
    expect(anonymous.status).toBe(401)
    expect(await rows()).toBe(before)
    expect((await api.store.webhooks.subscription(id))?.enabled).toBe(true)
  })
})
