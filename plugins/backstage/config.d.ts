/**
 * The plugin's app-config schema. Backstage sends a frontend plugin only the keys marked
 * `@visibility frontend`; without this file the card would never see `sentra.*`.
 * (Sentra's token is not here: it belongs to the proxy's configuration, on the backend.)
 */
export interface Config {
  sentra?: {
    /**
     * Sentra's URL (the proxy's target); links go here when dashboardUrl is unset.
     * @visibility frontend
     */
    baseUrl?: string
    /**
     * Sentra's dashboard, for the card's links (http or https).
     * @visibility frontend
     */
    dashboardUrl?: string
    /**
     * The proxy endpoint to Sentra (default /sentra, i.e. /api/proxy/sentra).
     * @visibility frontend
     */
    proxyPath?: string
    /**
     * Give up on an answer after this many milliseconds (default 10000).
     * @visibility frontend
     */
    timeoutMs?: number
  }
}
