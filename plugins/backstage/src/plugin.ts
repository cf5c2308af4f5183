import { configApiRef, createApiFactory, createComponentExtension, createPlugin, discoveryApiRef, fetchApiRef, type ConfigApi, type DiscoveryApi, type FetchApi } from '@backstage/core-plugin-api'
import { sentraApiRef } from './api/SentraApi'
import { SentraClient } from './api/SentraClient'

/** Backstage's proxy endpoint to Sentra unless `sentra.proxyPath` says otherwise (see README). */
export const DEFAULT_PROXY_PATH = '/sentra'

/**
 * The client as the plugin builds it in a Backstage app: through Backstage's proxy
 * (`<backend>/api/proxy/sentra`, which adds Sentra's API token on the server side, so no
 * token ever reaches the browser), with Backstage's fetch (which adds the user's Backstage
 * identity the proxy asks for). Links go to `sentra.dashboardUrl`, else `sentra.baseUrl`.
 */
export function createSentraClientFromConfig({ configApi, discoveryApi, fetchApi }: { configApi: ConfigApi; discoveryApi: DiscoveryApi; fetchApi: FetchApi }): SentraClient {
  const proxyPath = configApi.getOptionalString('sentra.proxyPath') ?? DEFAULT_PROXY_PATH
  if (!/^\/[-\w./]*$/.test(proxyPath) || proxyPath.split('/').includes('..')) throw new Error(`sentra.proxyPath: "${proxyPath.slice(0, 80)}" must be a path like /sentra`)
  const timeoutMs = configApi.getOptionalNumber('sentra.timeoutMs')
  return new SentraClient({
    baseUrl: async () => `${(await discoveryApi.getBaseUrl('proxy')).replace(/\/+$/, '')}${proxyPath}`,
    fetch: (input, init) => fetchApi.fetch(input, init),
    dashboardUrl: configApi.getOptionalString('sentra.dashboardUrl') ?? configApi.getOptionalString('sentra.baseUrl') ?? null,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  })
}

export const sentraPlugin = createPlugin({
  id: 'sentra',
  apis: [
    createApiFactory({
      api: sentraApiRef,
      deps: { configApi: configApiRef, discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: createSentraClientFromConfig,
    }),
  ],
})

/** The card for an entity page's overview: `<EntitySentraRolloutsCard />` (README: "Add the card"). */
export const EntitySentraRolloutsCard = sentraPlugin.provide(
  createComponentExtension({
    name: 'EntitySentraRolloutsCard',
    component: { lazy: () => import('./components/SentraRolloutsCard').then((m) => m.SentraRolloutsCard) },
  }),
)
