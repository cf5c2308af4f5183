import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { Bus, Unsubscribe } from '../schema/events/bus.ts'
import type { Store } from '../schema/store/index.ts'
import { FencedError } from '../schema/store/leases.ts'
import type { Lease, LeaseManager } from './leases.ts'
import { CannotServeError, tickRollout, type TickContext, type TickMemory } from './tick.ts'
import { traceTick } from './tracing.ts'

export interface ControllerOptions extends Omit<TickContext, 'holder'> {
  store: Store
  bus: Bus
  leases: LeaseManager
  /** Identifies this controller in leases and logs. */
  holder?: string
  /** How often to look for rollouts nobody holds, and renew our leases. */
  scanIntervalMs?: number
  /** A lease outlives a dead holder by at most this long. */
  leaseTtlMs?: number
  /** Ticks running at once, across rollouts. */
  maxConcurrency?: number
}

interface Owned {
  lease: Lease
  /** Our fencing token in the store (LeaseRepository.takeFence), checked by every write and target call. */
  fence: number
  timer: NodeJS.Timeout | null
  running: boolean
  /** A tick was asked for while one ran: run again right after. */
  again: boolean
  memory: TickMemory
}

/**
 * The evaluation loop: finds active rollouts, holds each through a lease (exactly one
 * controller per rollout), and ticks each at its application's interval. Operator commands
 * and new rollouts arrive on the bus and are acted on at once, not on the next tick.
 */
export class Controller {
  readonly holder: string
  readonly #options: ControllerOptions
  readonly #owned = new Map<string, Owned>()
  readonly #unsubscribes: Unsubscribe[] = []
  #scanTimer: NodeJS.Timeout | null = null
  #scanning: Promise<void> | null = null
  #inFlight = 0
  /** Rollouts handed back because this process cannot serve them: not taken again before this time. */
  readonly #handedBack = new Map<string, number>()
  readonly #waiting: (() => void)[] = []
  #stopped = false

  constructor(options: ControllerOptions) {
    this.#options = options
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  }

  get #ttl(): number {
    return this.#options.leaseTtlMs ?? 15_000
  }

  async start(): Promise<void> {
    const { bus } = this.#options
    this.#unsubscribes.push(
      await bus.subscribe('rollout.command', (command) => this.#poke(command.rolloutId)),
      await bus.subscribe('rollout.changed', (change) => {
        if (change.kind === 'created') void this.scan()
      }),
    )
    await this.scan()
    const every = this.#options.scanIntervalMs ?? 1000
    const loop = () => {
      this.#scanTimer = setTimeout(() => {
        this.scan().finally(() => {
          if (!this.#stopped) loop()
        })
      }, every)
    }
    loop()
  }

  /** Rollouts this controller holds now. */
  owned(): string[] {
    return [...this.#owned.keys()]
  }

  /** Takes unheld active rollouts, renews our leases, lets go of finished ones. */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = null
    })
    return this.#scanning
  }

  async #scan(): Promise<void> {
    if (this.#stopped) return
    const { store, leases, log } = this.#options
    let active: string[]
    try {
      active = await store.rollouts.activeIds()
    } catch (error) {
      log?.(`controller: cannot list active rollouts: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    // A set: with thousands of rollouts held, `includes` per held rollout made each scan quadratic.
    const isActive = new Set(active)
    for (const [id, owned] of this.#owned) {
      if (!isActive.has(id)) {
        this.#drop(id, owned)
        continue
      }
      if (!(await leases.renew(owned.lease, this.#ttl).catch(() => false))) {
        log?.(`controller: lost the lease on rollout ${id}`)
        this.#drop(id, owned)
      }
    }
    for (const [id, until] of this.#handedBack) if (until <= Date.now() || !isActive.has(id)) this.#handedBack.delete(id)
    for (const id of active) {
      if (this.#owned.has(id) || this.#stopped || this.#handedBack.has(id)) continue
      const lease = await leases.acquire(`rollout:${id}`, this.holder, this.#ttl).catch(() => null)
      if (!lease) continue
      // The store's own token, taken after the lease: it fences out every earlier holder
      // (even one whose Redis lease state was lost). No token, no rollout: try again next scan.
      let fence: number
      try {
        fence = await store.leases.takeFence(`rollout:${id}`, this.holder)
      } catch (error) {
        log?.(`controller: cannot take the fencing token of rollout ${id}: ${error instanceof Error ? error.message : String(error)}`)
        void leases.release(lease).catch(() => undefined)
        continue
      }
      this.#owned.set(id, { lease, fence, timer: null, running: false, again: false, memory: { history: new Map() } })
      this.#options.metrics?.held(this.#owned.size)
      this.#schedule(id, 0)
    }
  }

  #drop(id: string, owned: Owned): void {
    if (owned.timer) clearTimeout(owned.timer)
    this.#owned.delete(id)
    this.#options.metrics?.finished(id)
    this.#options.metrics?.held(this.#owned.size)
    void this.#options.leases.release(owned.lease).catch(() => undefined)
  }

  /** Tick now (a command arrived); if a tick is running, once more right after it. */
  #poke(id: string): void {
    const owned = this.#owned.get(id)
    if (!owned) return
    if (owned.running) owned.again = true
    else this.#schedule(id, 0)
  }

  #schedule(id: string, delayMs: number): void {
    const owned = this.#owned.get(id)
    if (!owned || this.#stopped) return
    if (owned.timer) clearTimeout(owned.timer)
    const due = performance.now() + delayMs
    owned.timer = setTimeout(() => {
      owned.timer = null
      void this.#run(id, owned, due)
    }, delayMs)
  }

  async #run(id: string, owned: Owned, due: number): Promise<void> {
    owned.running = true
    await this.#slot()
    // On SQLite a tick's store calls are synchronous: without a turn of the event loop between
    // ticks, a round of due ticks runs as one block and freezes the API served by this process.
    await new Promise<void>((resolve) => setImmediate(resolve))
    let next: number | null = null
    const { metrics } = this.#options
    const started = performance.now()
    try {
      if (this.#owned.get(id) !== owned) return
      // Lag: timer slack plus the wait for a concurrency slot.
      metrics?.tickLag.observe(Math.max(0, started - due) / 1000)
      const fence = { name: `rollout:${id}`, token: owned.fence }
      const result = await traceTick(id, () => tickRollout({ ...this.#options, holder: this.holder, fence }, id, owned.memory))
      metrics?.tickDuration.observe((performance.now() - started) / 1000)
      if (result.finished) {
        this.#drop(id, owned)
        return
      }
      next = result.nextTickMs
    } catch (error) {
      if (error instanceof FencedError) {
        // A newer holder took the rollout while we were paused or cut off: let go at once.
        this.#options.log?.(`controller: lost rollout ${id} to a newer holder: ${error.message}`)
        if (this.#owned.get(id) === owned) this.#drop(id, owned)
        return
      }
      if (error instanceof CannotServeError) {
        // Another process here serves the application (a controller that held it before):
        // give the lease back and stay away a few scans, so that one takes the rollout.
        this.#options.log?.(`controller: handing rollout ${id} back: ${error.message}`)
        this.#handedBack.set(id, Date.now() + 5 * (this.#options.scanIntervalMs ?? 1000))
        if (this.#owned.get(id) === owned) this.#drop(id, owned)
        return
      }
      this.#options.log?.(`controller: tick of rollout ${id} failed: ${error instanceof Error ? error.message : String(error)}`)
      next = 1000
    } finally {
      this.#release()
      owned.running = false
    }
    if (owned.again) {
      owned.again = false
      next = 0
    }
    if (next !== null) this.#schedule(id, next)
  }

  async #slot(): Promise<void> {
    const limit = this.#options.maxConcurrency ?? 4
    if (this.#inFlight < limit) {
      this.#inFlight++
      return
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
    this.#inFlight++
  }

  #release(): void {
    this.#inFlight--
    this.#waiting.shift()?.()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#scanTimer) clearTimeout(this.#scanTimer)
    await this.#scanning
    for (const unsubscribe of this.#unsubscribes.splice(0)) await unsubscribe()
    for (const [id, owned] of this.#owned) this.#drop(id, owned)
    while (this.#inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
