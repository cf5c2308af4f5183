import type { ProxyRegistry, WeightedProxy } from '../proxy/index.ts'
import type { RolloutRef } from './target.ts'

/** A weight the targets accept: a finite percentage. Rejects before anything is queued. */
export function checkCanaryPercent(canaryPercent: number): RangeError | null {
  if (!Number.isFinite(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
    return new RangeError(`canary weight must be within 0..100 (got ${canaryPercent})`)
  }
  return null
}

/**
 * Sets the canary's share on the application's proxy, for the targets whose traffic goes
 * through Sentra's own proxy (process, docker). Idempotent; 0 on a canary with no route is
 * already true. Throws when a positive weight is asked for a canary that was never prepared.
 */
export function setProxyWeight(proxy: WeightedProxy | undefined, r: RolloutRef, canaryPercent: number): void {
  const routes = proxy?.routes()
  if (proxy !== undefined && routes?.canary?.version === r.canaryVersion) {
    if (routes.weight !== canaryPercent) proxy.setRoutes({ weight: canaryPercent })
    return
  }
  // Nothing reaches this canary, which is what 0 asks for.
  if (canaryPercent === 0) return
  throw new Error(`cannot send ${canaryPercent}% to ${r.application.name}/${r.canaryVersion}: it has no canary route (prepare it first)`)
}

/** The canary's share as the proxy routes it now; null when the application has no proxy. */
export function proxyWeight(proxy: WeightedProxy | undefined, r: RolloutRef): number | null {
  if (proxy === undefined) return null
  const routes = proxy.routes()
  if (routes.canary?.version === r.canaryVersion) return routes.weight
  // Promoted: the canary version is the stable route and takes all traffic.
  if (routes.canary === null && routes.stable?.version === r.canaryVersion) return 100
  return 0
}

/**
 * Target.relinquish for the proxy targets: no traffic to this canary from this process's
 * proxy. Set at once (a stalled controller that wakes up must not serve one more canary
 * request), then again after the application's queued changes, since a change that passed
 * its fencing check before the lease was lost may still be waiting to set a weight.
 */
export function relinquishProxy(proxies: ProxyRegistry, r: RolloutRef, serially: (work: () => Promise<void>) => Promise<void>): Promise<void> {
  setProxyWeight(proxies.get(r.application.name), r, 0)
  return serially(async () => setProxyWeight(proxies.get(r.application.name), r, 0))
}
