import type { Bus } from '../../schema/events/bus.ts'
import type { GraphContext } from '../../schema/graph/index.ts'
import type { Store } from '../../schema/store/index.ts'

/**
 * The context a shared execution runs with: the first subscriber's, except that the
 * subscription's own "is the token still active" check (whileTokenValid in
 * schema/graph/rollout-events.ts) always passes. That check ran per subscriber; in a shared
 * stream it would end every member when the first one's token is revoked. The hub checks
 * each member's own token before each delivery instead (server/fanout/group.ts), so the
 * guarantee is kept per subscriber. Everything else on the store is the real store.
 *
 * Its bus subscriptions also end when `signal` aborts (the group lost its last member).
 * Returning the stream is not enough on its own: an async generator suspended in
 * `for await` over the bus only sees return() at its next yield, so a filtered stream
 * whose events are rare would keep its bus subscription for as long as none arrives.
 */
/** Marks a shared execution's context: its subscribers are counted as they join, not by the execution (server/metrics.ts). */
export const SHARED_EXECUTION: unique symbol = Symbol('sentra.sharedExecution')

export function isSharedExecution(context: unknown): boolean {
  return typeof context === 'object' && context !== null && (context as { [SHARED_EXECUTION]?: boolean })[SHARED_EXECUTION] === true
}

export function sharedContext<C extends object>(context: C, signal: AbortSignal): C {
  const { store, bus } = context as Partial<GraphContext>
  return {
    ...context,
    [SHARED_EXECUTION]: true,
    ...(store ? { store: tokensCheckedByHub(store) } : {}),
    ...(bus ? { bus: endingWith(bus, signal) } : {}),
  }
}

function endingWith(bus: Bus, signal: AbortSignal): Bus {
  const iterate: Bus['iterate'] = (channel, options = {}) =>
    bus.iterate(channel, { ...options, signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal })
  return new Proxy(bus, {
    get(target, property) {
      if (property === 'iterate') return iterate
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function tokensCheckedByHub(store: Store): Store {
  const tokens = new Proxy(store.tokens, {
    get(target, property, receiver) {
      if (property === 'isActive') return async () => true
      const value: unknown = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'tokens') return tokens
      return Reflect.get(target, property, receiver)
    },
  })
}
