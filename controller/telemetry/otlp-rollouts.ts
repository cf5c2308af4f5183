import type { Store } from '../../schema/store/index.ts'
import { ACTIVE_STATUSES } from '../../schema/store/models.ts'

/** How long after a rollout ended its versions' traces are still linked to it (late exports). */
export const LATE_LINK_MS = 30_000
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
      // The active rollout, else the latest one if it ended moments ago: a canary rolled back
      // within seconds of its fault (before its SDK's batch exported the failing spans) still
      // gets the error traces that explain the rollback linked to its last step.
      const latest = (await this.#store.rollouts.list({ first: 1, application: name })).items[0]?.node
      const recent = latest && (ACTIVE_STATUSES.includes(latest.status) || (latest.finishedAt !== null && nowMs - latest.finishedAt.getTime() < LATE_LINK_MS))
      if (latest && recent) rollout = { id: latest.id, stepIndex: latest.currentStepIndex, fromVersion: latest.fromVersion, toVersion: latest.toVersion }
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
