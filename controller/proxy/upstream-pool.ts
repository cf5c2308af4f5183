import { Agent } from 'node:http'

export interface PooledAgent {
  agent: Agent
  /** Call once when the request that acquired the agent has finished. */
  release(): void
}

interface Entry {
  agent: Agent
  inFlight: number
  retired: boolean
}

/**
 * One keep-alive agent per upstream origin, so requests to a version reuse connections
 * and one slow version cannot take all sockets from the other. An origin that leaves the
 * routes is retired: its agent is destroyed once its in-flight requests are done, so
 * requests that started there finish there and no idle sockets linger.
 */
export class UpstreamPool {
  #maxSockets: number
  #entries = new Map<string, Entry>()

  constructor({ maxSockets }: { maxSockets: number }) {
    this.#maxSockets = maxSockets
  }

  acquire(origin: string): PooledAgent {
    let entry = this.#entries.get(origin)
    if (!entry) {
      entry = { agent: new Agent({ keepAlive: true, maxSockets: this.#maxSockets, maxFreeSockets: Math.min(this.#maxSockets, 64) }), inFlight: 0, retired: false }
      this.#entries.set(origin, entry)
    }
    const held = entry
    held.inFlight++
    let released = false
    return {
      agent: held.agent,
      release: () => {
        if (released) return
        released = true
        held.inFlight--
        if (held.retired && held.inFlight === 0) this.#drop(origin, held)
      },
    }
  }

  /** Keeps the agents of `origins`; retires every other one. */
  retainOnly(origins: ReadonlySet<string>): void {
    for (const [origin, entry] of this.#entries) {
      entry.retired = !origins.has(origin)
      if (entry.retired && entry.inFlight === 0) this.#drop(origin, entry)
    }
  }

  /** Destroys every agent and its sockets, in flight or idle. */
  destroy(): void {
    for (const [origin, entry] of this.#entries) this.#drop(origin, entry)
  }

  /** Open sockets (busy + idle) across all agents; for tests and diagnostics. */
  openSockets(): number {
    let total = 0
    for (const { agent } of this.#entries.values()) {
      for (const list of Object.values(agent.sockets)) total += list?.length ?? 0
      for (const list of Object.values(agent.freeSockets)) total += list?.length ?? 0
    }
    return total
  }

  #drop(origin: string, entry: Entry): void {
    if (this.#entries.get(origin) === entry) this.#entries.delete(origin)
    entry.agent.destroy()
  }
}
