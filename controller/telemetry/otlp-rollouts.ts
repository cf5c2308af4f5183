import type { Store } from '../../schema/store/index.ts'
import { ACTIVE_STATUSES } from '../../schema/store/models.ts'
import type { ActiveRollout } from './otlp-keep.ts'

/** What the receiver knows of a service.name: whether Sentra has that application, and its active rollout. */
export interface ApplicationState {
  exists: boolean
  rollout: ActiveRollout | null
}

interface Entry {
  state: ApplicationState
  fetchedAt: number
}

/**
 * A short-lived cache of applications and their active rollouts, so the receiver asks the
 * store at most once per application every `ttlMs` (two small queries), however many
 * payloads arrive. Bounded: past `maxEntries` names the oldest are forgotten. A rollout's
 * step changes are therefore seen up to `ttlMs` late, which only moves a linked trace to
 * the neighbouring step.
 */
export class ApplicationDirectory {
  readonly #store: Store
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #entries = new Map<string, Entry>()
  readonly #inFlight = new Map<string, Promise<void>>()

  constructor(store: Store, { ttlMs = 2000, maxEntries = 1000 }: { ttlMs?: number; maxEntries?: number } = {}) {
    this.#store = store
    this.#ttlMs = ttlMs
    this.#maxEntries = maxEntries
  }

  /** Makes sure every name has a fresh entry (concurrent callers share one lookup per name). */
  async resolve(names: Iterable<string>, nowMs: number): Promise<void> {
    const waits: Promise<void>[] = []
    for (const name of new Set(names)) {
      const entry = this.#entries.get(name)
      if (entry && nowMs - entry.fetchedAt < this.#ttlMs) continue
      let lookup = this.#inFlight.get(name)
      if (!lookup) {
        lookup = this.#lookup(name, nowMs).finally(() => this.#inFlight.delete(name))
        this.#inFlight.set(name, lookup)
      }
      waits.push(lookup)
    }
    await Promise.all(waits)
  }

  /** The state `resolve` fetched; unknown names count as absent applications. */
  get(name: string): ApplicationState {
    return this.#entries.get(name)?.state ?? { exists: false, rollout: null }
  }

  async #lookup(name: string, nowMs: number): Promise<void> {
    const app = await this.#store.applications.byName(name)
    let rollout: ActiveRollout | null = null
    if (app) {
      const active = (await this.#store.rollouts.list({ first: 1, application: name, statuses: ACTIVE_STATUSES })).items[0]?.node
      if (active) rollout = { id: active.id, stepIndex: active.currentStepIndex, fromVersion: active.fromVersion, toVersion: active.toVersion }
    }
    this.#entries.delete(name)
    this.#entries.set(name, { state: { exists: app !== null, rollout }, fetchedAt: nowMs })
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next()
      if (oldest.done) break
      this.#entries.delete(oldest.value)
    }
  }
}
