import type { Bus } from '../events/bus.ts'
import type { TokenScope } from '../store/models.ts'
import type { Store } from '../store/index.ts'
import { createLoaders, type Loaders } from './loaders.ts'

/** Who is calling: the API token's name and scope, and the applications it is limited to. */
export interface Actor {
  readonly tokenId: string
  readonly name: string
  readonly scope: TokenScope
  /** The only applications (by name) this token may see and operate; null = every application. */
  readonly applications: ReadonlySet<string> | null
}

/** What every resolver sees. Built per HTTP request, and per graphql-ws operation. */
export interface GraphContext {
  readonly store: Store
  readonly bus: Bus
  readonly actor: Actor | null
  /** Per-operation dataloaders; subscriptions replace them on each event (stale rows otherwise). */
  loaders: Loaders
  /** SENTRA_TRACE_URL_TEMPLATE: where LinkedTrace.url points (schema/graph/trace-url.ts); null = no links. */
  readonly traceUrlTemplate: string | null
}

export interface ContextOptions {
  traceUrlTemplate?: string | null
}

export function createContext(store: Store, bus: Bus, actor: Actor | null, { traceUrlTemplate = null }: ContextOptions = {}): GraphContext {
  return { store, bus, actor, loaders: createLoaders(store, visibleTo(actor)), traceUrlTemplate }
}

const RANK: Record<TokenScope, number> = { read: 1, operate: 2, admin: 3 }

/** read < operate < admin: a scope grants everything below it. */
export function hasScope(actor: Actor | null, needed: TokenScope): boolean {
  return actor !== null && RANK[actor.scope] >= RANK[needed]
}

/**
 * Whether the actor may see an application's data (the application, its rollouts and all
 * they hold). Everything not visible answers exactly as if it did not exist: null or
 * NOT_FOUND, never FORBIDDEN, so ids and names cannot be probed.
 */
export function visibleTo(actor: Actor | null): (applicationName: string) => boolean {
  if (actor === null) return () => false
  const allowed = actor.applications
  return allowed === null ? () => true : (name) => allowed.has(name)
}

/** The application names a list must be narrowed to; null = no narrowing. */
export function visibleApplications(actor: Actor | null): readonly string[] | null {
  if (actor === null) return []
  return actor.applications === null ? null : [...actor.applications]
}
