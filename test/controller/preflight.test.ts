import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControllerRuntime, type ControllerRuntime } from '../../controller/runtime.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { freePort, quickSpec } from '../support/rollouts.ts'
import { LokiStandin } from '../standins/loki.ts'

const ERROR_RATIO = 'sum(count_over_time({app="shop", version="{{version}}"} |= "error" [{{window}}])) / sum(count_over_time({app="shop", version="{{version}}"} [{{window}}]))'

/** startRollout asks a controller to dry-run every provider gate, and refuses on failure. */
describe('pre-flight of provider gates at startRollout', () => {
  let api: TestApi
  let runtime: ControllerRuntime
  let loki: LokiStandin
  let port: number

  const start = (app: string) =>
    api.gql<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(application: $a, version: "v2") { id } }`, { a: app }, api.tokens.operate)
  const apply = (name: string, gates: unknown[]) =>
    api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec(name, port, { gates }) })

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    loki = await LokiStandin.start()
    port = await freePort()
    runtime = await startControllerRuntime({ store: api.store, bus: api.bus, scanIntervalMs: 200 })
  })
  afterAll(async () => {
    await runtime?.stop()
    await loki?.close()
    await api?.close()
  })

  it('refuses when no provider of the kind is declared, naming the gate, and writes nothing', async () => {
    await apply('undeclared', [{ name: 'log-errors', provider: 'loki', query: ERROR_RATIO, judge: { kind: 'threshold', max: 0.05 } }])
    const result = await start('undeclared')
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'gates[0].query' })
    expect(result.errors?.[0]?.message).toMatch(/loki: no loki provider is declared/)
    expect((await api.store.rollouts.list({ first: 10, application: 'undeclared' })).items).toHaveLength(0)
  })

  it("refuses a query the provider cannot parse, with the provider's own message", async () => {
    await api.gql(`mutation($spec: JSON!) { applyProvider(spec: $spec) { name } }`, { spec: { name: 'loki', kind: 'loki', url: loki.url, timeout: '2s' } })
    await runtime.controller.scan()
    await new Promise((resolve) => setTimeout(resolve, 2500)) // providers are reloaded every 2 s
    await apply('badquery', [
      { name: 'fine', provider: 'loki', query: ERROR_RATIO, judge: { kind: 'threshold', max: 0.05 } },
      { name: 'broken', provider: 'loki', query: 'sum(count_over_time({app="shop", version="{{version}}"} | json [{{window}}]))', judge: { kind: 'threshold', max: 1 } },
    ])
    const result = await start('badquery')
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'gates[1].query' })
    expect(result.errors?.[0]?.message).toMatch(/gates\[1\]\.query: loki: .*parse error/)
    expect((await api.store.rollouts.list({ first: 10, application: 'badquery' })).items).toHaveLength(0)
  })

  it('refuses when the provider does not answer', async () => {
    await api.gql(`mutation($spec: JSON!) { applyProvider(spec: $spec) { name } }`, {
      spec: { name: 'down', kind: 'loki', url: `http://127.0.0.1:${await freePort()}`, timeout: '1s' },
    })
    await new Promise((resolve) => setTimeout(resolve, 2500))
    await apply('unreachable', [{ name: 'log-errors', provider: 'loki', source: 'down', query: ERROR_RATIO, judge: { kind: 'threshold', max: 0.05 } }])
    const result = await start('unreachable')
    expect(result.errors?.[0]?.message).toMatch(/down: does not answer/)
  })

  it('starts the rollout when every provider gate passes its dry run', async () => {
    await apply('good', [{ name: 'log-errors', provider: 'loki', query: ERROR_RATIO, judge: { kind: 'threshold', max: 0.05 } }])
    const result = await start('good')
    expect(result.errors).toBeUndefined()
    expect(result.data?.startRollout.id).toBeTruthy()
  })

  it('needs no dry run for built-in signals', async () => {
    await apply('builtin', [{ name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.05 } }])
    const result = await start('builtin')
    expect(result.errors).toBeUndefined()
  })
})
