import { request as httpRequest, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'

/**
 * Opens a watch (`?watch=true`) on `path` and resolves on its first event, when it ends or
 * fails, when `signal` aborts, or after `ms`, whichever comes first; then closes it.
 *
 * Our own rather than client-node's `Watch`: that one returns its AbortController only once
 * the API server has answered the headers, so a watch against a server that accepts the
 * connection and never answers could not be closed and stayed open for good. Here the
 * request carries its own signal from the start. Credentials, TLS and proxies come from the
 * KubeConfig exactly as for the API calls (`applyToHTTPSOptions`).
 */
export async function nextWatchEvent(
  kubeConfig: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  const cluster = kubeConfig.getCurrentCluster()
  if (!cluster) return
  const url = new URL(cluster.server.replace(/\/+$/, '') + path)
  url.searchParams.set('watch', 'true')
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value))
  const closing = new AbortController()
  const options: RequestOptions = {}
  await new Promise<void>((resolve) => {
    let settled = false
    const finish = (): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', finish)
      closing.abort()
      resolve()
    }
    const timer = setTimeout(finish, ms)
    if (signal?.aborted) return finish()
    signal?.addEventListener('abort', finish)
    kubeConfig
      .applyToHTTPSOptions(options)
      .then(() => {
        if (settled) return
        const send = url.protocol === 'https:' ? httpsRequest : httpRequest
        const req = send(url, { ...options, method: 'GET', signal: closing.signal }, (res) => {
          if (res.statusCode !== 200) {
            res.resume()
            finish()
            return
          }
          // Any bytes are the start of an event line: the object changed (or the watch expired).
          res.once('data', finish)
          res.once('end', finish)
          res.once('error', finish)
        })
        req.once('error', finish)
        req.end()
      })
      .catch(finish)
  })
}
