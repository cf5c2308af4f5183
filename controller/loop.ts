import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { Bus, Unsubscribe } from '../schema/events/bus.ts'
import type { Store } from '../schema/store/index.ts'
import { GroupCommit, groupsCommitsByDefault } from '../schema/store/group-commit.ts'
import { FencedError } from '../schema/store/leases.ts'
import { type Lease, type LeaseManager, rolloutLeaseName } from './leases.ts'
import { MOVABLE_TARGET_KINDS, planShare, shouldTake, type SharePlan } from './balance.ts'
import { CannotServeError, tickRollout, type TickContext, type TickMemory } from './tick.ts'
import { DEFAULT_TICK_CONCURRENCY } from './tick-concurrency.ts'
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
  /** Ticks running at once, across rollouts ({@link DEFAULT_TICK_CONCURRENCY} when unset). */
  maxConcurrency?: number
  /**
   * How ticks commit. Unset: on SQLite one {@link GroupCommit} per controller, so the ticks
   * due together share a transaction; on MySQL each tick's own (docs/controller.md, "Group commit").
   */
  transaction?: TickContext['transaction']
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
  /** Taken back after we gave it away and nobody else took it: never given back again (no flapping). */
  pinned: boolean
}

/** Rollouts taken at once by a scan (lease, then fencing token): a few, so the store's pool keeps room for ticks. */
const TAKE_CONCURRENCY = 4

/**
 * How long a controller that cannot reach the store keeps renewing its Redis leases. Long
 * enough to ride out a database restart without letting go of anything (issue #9: 30 s);
 * short enough that a controller cut off from the database alone (the others reach it)
 * lets its rollouts go to them within a minute.
 */
const HOLD_WITHOUT_STORE_MS = 60_000

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
  /** Since when the scan cannot read the store; null while it can. */
  #storeDownSince: number | null = null
  /** No free rollout is taken before this time: a lease TTL after the store came back (#scan). */
  #takeNotBefore = 0
  /** Live controllers at the last heartbeat, this one included. */
  #members: string[] = []
  /** Rollouts seen free, and for how many scans in a row. */
  #freeScans = new Map<string, number>()
  /** Rollouts given back to even out the load, and until when taking one again pins it. */
  readonly #shed = new Map<string, number>()

  constructor(options: ControllerOptions) {
    const commits = options.transaction || !groupsCommitsByDefault(options.store.db.dialect) ? null : new GroupCommit(options.store)
    this.#options = commits ? { ...options, transaction: (fn) => commits.run(fn) } : options
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
    const { store, log } = this.#options
    let active: string[]
    try {
      active = await this.#listActive()
    } catch (error) {
      log?.(`controller: cannot list active rollouts: ${error instanceof Error ? error.message : String(error)}`)
      // The store is down, Redis need not be: keep our Redis leases (and membership) for a
      // while, or the store's return would find them expired and we would take traffic off
      // their canaries (a change nobody decided) only to take them again
      // (test/faults/mariadb-outage.test.ts). Store leases cannot be renewed, nor taken by
      // anyone: they expire untaken and are renewed as ours when the store is back
      // (LeaseRepository.renew). Nothing is decided meanwhile: every tick begins by reading
      // the store.
      this.#storeDownSince ??= Date.now()
      if (this.#options.leases.kind === 'redis' && Date.now() - this.#storeDownSince < HOLD_WITHOUT_STORE_MS) {
        await this.#heartbeat()
        await this.#renewAll(new Set(this.#owned.keys()))
      }
      return
    }
    if (this.#storeDownSince !== null) {
      // Leases and heartbeats may have expired untaken while the store was down, other
      // controllers' too: each holder renews its own on its first scan back
      // (LeaseRepository.renew), which may come after ours. Taking them first would take
      // rollouts from live controllers (each counting itself alone), and the loser would take
      // its canary's traffic off. So for one lease TTL nothing is taken or given back.
      this.#takeNotBefore = Date.now() + this.#ttl
    }
    this.#storeDownSince = null
    // A set: with thousands of rollouts held, `includes` per held rollout made each scan quadratic.
    const isActive = new Set(active)
    const members = await this.#heartbeat()
    await this.#renewAll(isActive)
    for (const [id, until] of this.#handedBack) if (until <= Date.now() || !isActive.has(id)) this.#handedBack.delete(id)
    for (const [id, until] of this.#shed) if (until <= Date.now() || !isActive.has(id)) this.#shed.delete(id)
    if (Date.now() < this.#takeNotBefore) return
    const { share } = planShare({ active: active.length, members, held: this.#owned.size })
    const fewestHeld = await this.#takeFree(active, share)
    this.#giveBack(planShare({ active: active.length, members, held: this.#owned.size, fewestHeld }))
  }

  /**
   * The active rollouts. While a slow read is on its way (a hung database answers only when
   * the statement's deadline fails it, seconds later), our Redis leases are renewed every
   * third of their TTL: renewing only once the read had failed let short leases lapse in
   * every hang (docs/ha.md, "When the database hangs").
   */
  async #listActive(): Promise<string[]> {
    const listing = this.#options.store.rollouts.activeIds()
    if (this.#options.leases.kind !== 'redis') return listing
    const answered = listing.then(
      () => true,
      () => true,
    )
    let timer: NodeJS.Timeout | undefined
    try {
      for (;;) {
        const slow = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), this.#ttl / 3)
        })
        if ((await Promise.race([answered, slow])) || this.#stopped) break
        const since = this.#storeDownSince ?? Date.now()
        if (Date.now() - since >= HOLD_WITHOUT_STORE_MS) break
        await this.#heartbeat()
        await this.#renewAll(new Set(this.#owned.keys()))
      }
    } finally {
      clearTimeout(timer)
    }
    return listing
  }

  /** Announces this controller (docs/ha.md, "Balancing") and returns how many are live. */
  async #heartbeat(): Promise<number> {
    try {
      // A little shorter than a lease: a dead controller leaves the membership before its
      // leases free up, so the scan that finds its rollouts free already counts the shares
      // without it and takes them all at once (docs/ha.md, "Balancing").
      const every = this.#options.scanIntervalMs ?? 1000
      this.#members = await this.#options.leases.heartbeat(this.holder, this.#ttl - Math.min(every, Math.floor(this.#ttl / 4)))
    } catch (error) {
      // The last count stands: a stale one only slows taking free rollouts by a scan (#takeFree).
      this.#options.log?.(`controller: cannot announce itself: ${error instanceof Error ? error.message : String(error)}`)
    }
    return Math.max(1, this.#members.length)
  }

  /** Lets go of finished rollouts and renews every other lease in one round trip. */
  async #renewAll(isActive: ReadonlySet<string>): Promise<void> {
    const { leases, log } = this.#options
    const renewing: [string, Owned][] = []
    for (const [id, owned] of this.#owned) {
      if (isActive.has(id)) renewing.push([id, owned])
      else this.#drop(id, owned)
    }
    if (renewing.length === 0) return
    let lost: ReadonlySet<string>
    try {
      lost = new Set(await leases.renewMany(renewing.map(([, owned]) => owned.lease), this.#ttl))
    } catch (error) {
      log?.(`controller: cannot renew leases: ${error instanceof Error ? error.message : String(error)}`)
      lost = new Set(renewing.map(([, owned]) => owned.lease.name))
    }
    for (const [id, owned] of renewing) {
      // A tick may have finished or dropped it while the renewal was on its way.
      if (!lost.has(owned.lease.name) || this.#owned.get(id) !== owned) continue
      log?.(`controller: lost the lease on rollout ${id}`)
      this.#drop(id, owned)
      this.#relinquish(id, owned)
    }
  }

  /**
   * Takes rollouts nobody holds, up to our fair share; beyond it only those free for more than
   * one scan (a dead controller's heartbeat may not have expired yet). Which are free is read in
   * one round trip: trying to take every rollout each scan cost one await per rollout.
   * Returns the fewest rollouts another live controller holds (null: alone, or not known).
   */
  async #takeFree(active: readonly string[], share: number): Promise<number | null> {
    const candidates = active.filter((id) => !this.#owned.has(id) && !this.#handedBack.has(id))
    let held: Map<string, string>
    try {
      held = await this.#options.leases.holders(candidates.map(rolloutLeaseName))
    } catch (error) {
      this.#options.log?.(`controller: cannot read who holds which rollout: ${error instanceof Error ? error.message : String(error)}`)
      return null
    }
    const free = candidates.filter((id) => !held.has(rolloutLeaseName(id)))
    const seenBefore = this.#freeScans
    this.#freeScans = new Map()
    // Taking costs a lease and a fencing token per rollout (~25 ms on a loaded MySQL): one at a
    // time, 1,000 at once outlasted the lease TTL, and the first leases taken expired before
    // the next scan renewed them. So a few are taken at once, a scan takes for a third of the
    // TTL at most, and the next scan renews first and goes on; rollouts not reached are not
    // counted as seen free.
    const until = performance.now() + this.#ttl / 3
    let taking: Promise<void>[] = []
    for (const id of free) {
      if (this.#stopped || performance.now() > until) {
        const before = seenBefore.get(id)
        if (before !== undefined) this.#freeScans.set(id, before)
        continue
      }
      const freeScans = (seenBefore.get(id) ?? 0) + 1
      this.#freeScans.set(id, freeScans)
      if (!shouldTake({ held: this.#owned.size + taking.length, share, freeScans })) continue
      taking.push(this.#take(id))
      if (taking.length >= TAKE_CONCURRENCY) {
        await Promise.all(taking)
        taking = []
      }
    }
    await Promise.all(taking)
    const others = this.#members.filter((member) => member !== this.holder)
    if (others.length === 0) return null
    const heldBy = new Map<string, number>()
    for (const holder of held.values()) heldBy.set(holder, (heldBy.get(holder) ?? 0) + 1)
    return Math.min(...others.map((member) => heldBy.get(member) ?? 0))
  }

  async #take(id: string): Promise<void> {
    const { store, leases, log } = this.#options
    const lease = await leases.acquire(rolloutLeaseName(id), this.holder, this.#ttl).catch(() => null)
    if (!lease) return
    // The store's own token, taken after the lease: it fences out every earlier holder
    // (even one whose Redis lease state was lost). No token, no rollout: try again next scan.
    let fence: number
    try {
      fence = await store.leases.takeFence(rolloutLeaseName(id), this.holder)
    } catch (error) {
      log?.(`controller: cannot take the fencing token of rollout ${id}: ${error instanceof Error ? error.message : String(error)}`)
      void leases.release(lease).catch(() => undefined)
      return
    }
    // One we gave back came back soon (nobody else took it): keep it, or it would bounce every few scans.
    const pinned = (this.#shed.get(id) ?? 0) > Date.now()
    this.#shed.delete(id)
    this.#owned.set(id, { lease, fence, timer: null, running: false, again: false, pinned, memory: { history: new Map() } })
    this.#freeScans.delete(id)
    this.#options.metrics?.held(this.#owned.size)
    this.#schedule(id, 0)
  }

  /**
   * Above our share (a controller joined): gives back a few rollouts per scan, newest taken
   * first, never one in a running tick, and only of targets that keep no state in this process
   * (MOVABLE_TARGET_KINDS). The lease is released cleanly; the next holder's fencing token
   * supersedes ours, and it reconciles from the store.
   */
  #giveBack({ release, share, slack }: SharePlan): void {
    let left = release
    for (const [id, owned] of [...this.#owned].reverse()) {
      if (left <= 0) return
      const kind = owned.memory.ref?.application.target.kind
      if (owned.running || owned.pinned || !kind || !MOVABLE_TARGET_KINDS.has(kind)) continue
      this.#options.log?.(`controller: giving rollout ${id} back to even out the load (holding ${this.#owned.size}, share ${share} + ${slack} among ${this.#members.length})`)
      this.#drop(id, owned)
      this.#shed.set(id, Date.now() + 5 * (this.#options.scanIntervalMs ?? 1000))
      left--
    }
  }

  #drop(id: string, owned: Owned): void {
    if (owned.timer) clearTimeout(owned.timer)
    this.#owned.delete(id)
    this.#options.metrics?.finished(id)
    this.#options.metrics?.held(this.#owned.size)
    void this.#options.leases.release(owned.lease).catch(() => undefined)
  }

  /**
   * The lease is gone: traffic this process carries stops going to the canary (a stalled
   * controller that wakes up would otherwise keep routing it while the new holder rolls it
   * back). The new holder re-applies the stored weight.
   */
  #relinquish(id: string, owned: Owned): void {
    const ref = owned.memory.ref
    const target = ref ? this.#options.targets(ref.application.target.kind) : undefined
    if (!ref || !target?.relinquish) return
    target.relinquish(ref).catch((error: unknown) => {
      this.#options.log?.(`controller: could not take traffic off the canary of rollout ${id}: ${error instanceof Error ? error.message : String(error)}`)
    })
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
      // Dropped while waiting for a slot, or halted (a stop signal): no tick starts.
      if (this.#owned.get(id) !== owned || this.#stopped) return
      // Lag: timer slack plus the wait for a concurrency slot.
      metrics?.tickLag.observe(Math.max(0, started - due) / 1000)
      const fence = { name: rolloutLeaseName(id), token: owned.fence }
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
        this.#relinquish(id, owned)
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
    const limit = this.#options.maxConcurrency ?? DEFAULT_TICK_CONCURRENCY
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

  /**
   * Stops ticking at once: no tick or scan starts from now on (running ones finish). For a
   * signal that is stopping the process: the signal reaches the process targets' children
   * too, and a tick must not judge them dead. stop() then lets go of everything.
   */
  halt(): void {
    this.#stopped = true
    if (this.#scanTimer) clearTimeout(this.#scanTimer)
    for (const owned of this.#owned.values()) {
      if (owned.timer) clearTimeout(owned.timer)
      owned.timer = null
    }
  }

  async stop(): Promise<void> {
    this.halt()
    await this.#scanning
    for (const unsubscribe of this.#unsubscribes.splice(0)) await unsubscribe()
    for (const [id, owned] of this.#owned) this.#drop(id, owned)
    // The others recompute their shares at their next scan instead of once our heartbeat expires.
    await this.#options.leases.leave(this.holder).catch(() => undefined)
    while (this.#inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
