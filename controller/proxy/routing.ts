import type { ProxyRoutes, Upstream } from './types.ts'

/** What a request says about where it wants to go. */
export interface RouteHints {
  /** Value of the canary header (`always`/`true`/`1` or `never`/`false`/`0`), if any. */
  canaryHeader: string | undefined
  /** Version named by the sticky cookie, if any (and stickiness is enabled). */
  stickyVersion: string | undefined
}

export interface RouteChoice<U extends Upstream> {
  upstream: U
  /** Set the sticky cookie to `upstream.version` on the response. */
  stick: boolean
}

type Force = 'canary' | 'stable' | null

function forceOf(header: string | undefined): Force {
  const value = header?.trim().toLowerCase()
  if (value === 'always' || value === 'true' || value === '1') return 'canary'
  if (value === 'never' || value === 'false' || value === '0') return 'stable'
  return null
}

/**
 * Picks the upstream of one new request. Pure: the proxy passes a snapshot of its routes,
 * so a route change applies to the next request and never to one already on its way.
 *
 * Order: with a single upstream, that one (a forced header cannot conjure a missing
 * version); then the canary header; then a sticky cookie naming one of the two versions,
 * honoured only while the split is real (0 < weight < 100), so that weight 0 (hold or
 * rollback) really empties the canary and 100 really fills it; then a weighted draw.
 * The header is a per-request override and does not move the cookie.
 */
export function chooseUpstream<U extends Upstream>(
  routes: { stable: U | null; canary: U | null; weight: ProxyRoutes['weight'] },
  hints: RouteHints,
  random: () => number,
  sticky: boolean,
): RouteChoice<U> | null {
  const { stable, canary, weight } = routes
  if (!stable) return canary ? { upstream: canary, stick: false } : null
  if (!canary) return { upstream: stable, stick: false }
  const force = forceOf(hints.canaryHeader)
  if (force) return { upstream: force === 'canary' ? canary : stable, stick: false }
  const remembered = sticky ? hints.stickyVersion : undefined
  if (remembered !== undefined && weight > 0 && weight < 100) {
    if (remembered === canary.version) return { upstream: canary, stick: false }
    if (remembered === stable.version) return { upstream: stable, stick: false }
  }
  const upstream = random() * 100 < weight ? canary : stable
  return { upstream, stick: sticky && remembered !== upstream.version }
}
