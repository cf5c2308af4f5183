import { emptyCounts, type OtlpCounts, type OtlpSecond } from '../../schema/store/otlp.ts'
import { bucketOf } from './otlp-histogram.ts'

type MutableSecond = OtlpCounts & { application: string; version: string; second: number; durations: Map<number, number> }

/**
 * Counts not yet written to the store, per application, version and second. The receiver
 * adds to it as requests arrive and flushes it every second (`take`); a flush that fails
 * puts its seconds back (`restore`) so nothing is lost while the store is briefly away.
 * `size` (distinct seconds held) is what bounds its memory: the receiver refuses new
 * payloads with 503 while it is at `maxKeys`.
 */
export class OtlpAggregator {
  #seconds = new Map<string, MutableSecond>()

  get size(): number {
    return this.#seconds.size
  }

  /** One span; `durationMs` goes into the histogram when given (entry spans only). */
  addSpan(application: string, version: string, atMs: number, error: boolean, durationMs: number | null): void {
    const s = this.#at(application, version, atMs)
    s.spans += 1
    if (error) s.errorSpans += 1
    if (durationMs !== null) {
      const bucket = bucketOf(durationMs)
      s.durations.set(bucket, (s.durations.get(bucket) ?? 0) + 1)
    }
  }

  /** One trace of one application and version; `error` when one of its spans in that version failed. */
  addTrace(application: string, version: string, atMs: number, error: boolean): void {
    const s = this.#at(application, version, atMs)
    s.traces += 1
    if (error) s.errorTraces += 1
  }

  /** A trace counted earlier without an error turned out to have one (a late span). */
  markTraceError(application: string, version: string, atMs: number): void {
    this.#at(application, version, atMs).errorTraces += 1
  }

  addLog(application: string, version: string, atMs: number, error: boolean): void {
    const s = this.#at(application, version, atMs)
    s.logs += 1
    if (error) s.errorLogs += 1
  }

  /** Everything held, emptied. */
  take(): OtlpSecond[] {
    const taken = [...this.#seconds.values()]
    this.#seconds = new Map()
    return taken
  }

  /** Puts back seconds a failed flush took, adding to what arrived meanwhile. */
  restore(seconds: readonly OtlpSecond[]): void {
    for (const back of seconds) {
      const s = this.#at(back.application, back.version, back.second * 1000)
      s.spans += back.spans
      s.errorSpans += back.errorSpans
      s.traces += back.traces
      s.errorTraces += back.errorTraces
      s.logs += back.logs
      s.errorLogs += back.errorLogs
      for (const [bucket, count] of back.durations) s.durations.set(bucket, (s.durations.get(bucket) ?? 0) + count)
    }
  }

  #at(application: string, version: string, atMs: number): MutableSecond {
    const second = Math.floor(atMs / 1000)
    const key = `${application}\u0000${version}\u0000${second}`
    let s = this.#seconds.get(key)
    if (!s) {
      s = { application, version, second, ...emptyCounts(), durations: new Map() }
      this.#seconds.set(key, s)
    }
    return s
  }
}
