/**
 * The IPC calls between the fan-out benchmark's main process (bench/fanout/pool.ts) and its
 * subscriber processes (bench/fanout/subscriber-process.ts). The channel uses Node's
 * 'advanced' serialization, so receipts travel as one Float64Array per process instead of
 * megabytes of JSON.
 */

export interface Calls {
  /** The process's clock now (performance.timeOrigin + performance.now()), for calibration. */
  ping: { args: Record<string, never>; result: { now: number } }
  /** Opens subscribers `from` to `to - 1` of the step (their index picks server and token round-robin). */
  open: { args: { from: number; to: number; urls: string[]; tokens: string[]; application: string; parallel: number }; result: { count: number } }
  /** Resolves once every subscriber has `seq` (`lastAt`: the latest receipt of it, this process's clock), or after `limitMs` (`all` false). */
  waitAll: { args: { seq: number; limitMs: number }; result: { all: boolean; lastAt: number | null } }
  /** Receipt times (this process's clock, NaN = not received), subscriber-major: times[s * seqs.length + k] is subscriber s's receipt of seqs[k]. */
  receipts: { args: { seqs: number[] }; result: { subscribers: number; times: Float64Array; errors: number; closed: number } }
  /** Terminates every socket. */
  close: { args: Record<string, never>; result: Record<string, never> }
}

export type CallName = keyof Calls

export type Request = { [K in CallName]: { id: number; type: K; args: Calls[K]['args'] } }[CallName]

export type Reply = { id: number; ok: true; result: Calls[CallName]['result'] } | { id: number; ok: false; message: string }

/** Sent once by a subscriber process when it listens for calls (messages sent before that could be dropped). */
export interface Ready {
  ready: true
}
