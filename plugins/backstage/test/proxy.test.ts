import { ConfigReader } from '@backstage/config'
import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { SentraError } from '../src/api/errors'
import { createSentraClientFromConfig, sentraPlugin } from '../src/plugin'
import { startBackstageProxy, type LoopbackServer } from './support/http'

const sentra = inject('sentra')
const BACKSTAGE_TOKEN = 'backstage-user-identity-token'

/** Backstage's discovery and fetch APIs as an app provides them: fetch adds the user's Backstage token. */
function backstageApis(proxy: LoopbackServer): { discoveryApi: DiscoveryApi; fetchApi: FetchApi } {
  return {
    discoveryApi: { getBaseUrl: async (pluginId) => `${proxy.url}/api/${pluginId}` },
    fetchApi: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${BACKSTAGE_TOKEN}` } }) },
  }
}

describe("the plugin's client, through Backstage's proxy to a real Sentra", () => {
  let proxy: LoopbackServer | null = null
  afterEach(async () => {
    await proxy?.close()
    proxy = null
  })

  it('reads the graph at <proxy>/sentra/graphql, the proxy adding the token; links go to sentra.dashboardUrl', async () => {
    proxy = await startBackstageProxy(sentra.url, { sentraToken: sentra.token, backstageToken: BACKSTAGE_TOKEN })
    const configApi = new ConfigReader({ sentra: { baseUrl: 'https://sentra.internal', dashboardUrl: 'https://sentra.example.com/' } })
    const client = createSentraClientFromConfig({ configApi, ...backstageApis(proxy) })
    const app = await client.getApplicationRollouts(sentra.application)
    expect(app?.active?.id).toBe(sentra.rollouts.v3)
    expect(proxy.received.map((r) => r.url)).toEqual(['/api/proxy/sentra/graphql'])
    expect(client.dashboardUrl).toBe('https://sentra.example.com')
  })

  it('links to sentra.baseUrl when no dashboardUrl is set, and nowhere when neither is', () => {
    const apis = { discoveryApi: { getBaseUrl: async () => 'http://unused' }, fetchApi: { fetch } }
    expect(createSentraClientFromConfig({ configApi: new ConfigReader({ sentra: { baseUrl: 'https://sentra.internal' } }), ...apis }).dashboardUrl).toBe('https://sentra.internal')
    expect(createSentraClientFromConfig({ configApi: new ConfigReader({}), ...apis }).dashboardUrl).toBeNull()
  })

  it('follows sentra.proxyPath, and refuses one that is not a path', async () => {
    proxy = await startBackstageProxy(sentra.url, { sentraToken: sentra.token, backstageToken: BACKSTAGE_TOKEN })
    const apis = backstageApis(proxy)
    // This stand-in serves only /api/proxy/sentra, so another path gets its 404: proof the path was used.
    const other = createSentraClientFromConfig({ configApi: new ConfigReader({ sentra: { proxyPath: '/sentra-prod' } }), ...apis })
    const error = await other.getApplicationRollouts(sentra.application).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SentraError)
    expect((error as SentraError).message).toMatch(/HTTP 404 .*\/api\/proxy\/sentra-prod\/graphql$/)
    for (const proxyPath of ['sentra', 'https://evil.example.com', '/sentra?x=1', '/sen tra', '/sentra/../auth']) {
      expect(() => createSentraClientFromConfig({ configApi: new ConfigReader({ sentra: { proxyPath } }), ...apis })).toThrow(/sentra.proxyPath: .* must be a path like \/sentra/)
    }
    expect(() => createSentraClientFromConfig({ configApi: new ConfigReader({ sentra: { dashboardUrl: 'javascript:alert(1)' } }), ...apis })).toThrow(/must be an http\(s\) URL/)
    expect(() => createSentraClientFromConfig({ configApi: new ConfigReader({ sentra: { timeoutMs: 'soon' } }), ...apis })).toThrow(/sentra.timeoutMs/)
    expect(() => createSentraClientFromConfig({ configApi: new ConfigReader({ sentra: { timeoutMs: -1 } }), ...apis })).toThrow(/timeoutMs: must be a whole number/)
  })

  it('a proxy that adds no token: the error points at the proxy configuration', async () => {
    proxy = await startBackstageProxy(sentra.url, { sentraToken: null, backstageToken: BACKSTAGE_TOKEN })
    const client = createSentraClientFromConfig({ configApi: new ConfigReader({}), ...backstageApis(proxy) })
    const error = (await client.getApplicationRollouts(sentra.application).catch((e: unknown) => e)) as SentraError
    expect(error.kind).toBe('unauthenticated')
    expect(error.message).toContain("proxy.endpoints['/sentra'].headers.Authorization")
  })

  it('the plugin registers that client as the factory of sentraApiRef', () => {
    expect(sentraPlugin.getId()).toBe('sentra')
    const apis = [...sentraPlugin.getApis()]
    expect(apis.map((f) => f.api.id)).toEqual(['plugin.sentra.service'])
    expect(Object.values(apis[0]?.deps ?? {}).map((ref) => ref.id).sort()).toEqual(['core.config', 'core.discovery', 'core.fetch'])
  })
})
