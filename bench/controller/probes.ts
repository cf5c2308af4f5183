/**
 * What the controller benchmark observes from outside the controller: its own tick metrics
 * (recorded into arrays as well as the histograms), lease calls, and the CPU of the database
 * and Redis server processes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Histogram } from 'prom-client'
import type { Lease, LeaseManager } from '../../controller/leases.ts'

/** Makes `histogram.observe(value)` also push the value into `sink.values` (swapped at each window). */
export function recordInto(histogram: Histogram, sink: { values: number[] }): void {
  const observe = histogram.observe.bind(histogram) as (value: number) => void
  histogram.observe = ((value: number) => {
    sink.values.push(value)
    observe(value)
  }) as Histogram['observe']
}

/**
 * A lease manager that counts renewals (one per held rollout per completed scan, so their rate
 * says how long a scan cycle takes) and remembers releases: the loop releases without waiting
 * when it stops, and the next ramp step's controller must not find the old leases still held.
 */
export class CountingLeases implements LeaseManager {
  readonly kind: LeaseManager['kind']
  renewals = 0
  readonly #inner: LeaseManager
  readonly #releasing = new Set<Promise<void>>()

  constructor(inner: LeaseManager) {
    this.#inner = inner
    this.kind = inner.kind
  }

  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    return this.#inner.acquire(name, holder, ttlMs)
  }

  renew(lease: Lease, ttlMs: number): Promise<boolean> {
    this.renewals++
    return this.#inner.renew(lease, ttlMs)
  }

  renewMany(leases: readonly Lease[], ttlMs: number): Promise<string[]> {
    this.renewals += leases.length
    return this.#inner.renewMany(leases, ttlMs)
  }

  holders(names: readonly string[]): Promise<Map<string, string>> {
    return this.#inner.holders(names)
  }

  heartbeat(holder: string, ttlMs: number): Promise<string[]> {
    return this.#inner.heartbeat(holder, ttlMs)
  }

  leave(holder: string): Promise<void> {
    return this.#inner.leave(holder)
  }

  release(lease: Lease): Promise<void> {
    const releasing = this.#inner.release(lease)
    const tracked = releasing.catch(() => undefined).finally(() => this.#releasing.delete(tracked))
    this.#releasing.add(tracked)
    return releasing
  }

  /** Resolves once every release asked for so far has finished. */
  async released(): Promise<void> {
    while (this.#releasing.size > 0) await Promise.all([...this.#releasing])
  }

  close(): Promise<void> {
    return this.#inner.close()
  }
}

/** Linux clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on every common build). */
const CLOCK_TICKS = 100

/** The pid of the first process whose name is one of `names`, from /proc; null when none or no /proc. */
export function findProcess(names: readonly string[]): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) return Number(entry)
      } catch {
        // The process ended while we looked.
      }
    }
  } catch {
    return null
  }
  return null
}

/** User + system CPU of a process so far, in microseconds; null when it cannot be read. */
export function processCpuMicros(pid: number | null): number | null {
  if (pid === null) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null
    return ((utime + stime) * 1e6) / CLOCK_TICKS
  } catch {
    return null
  }
}
