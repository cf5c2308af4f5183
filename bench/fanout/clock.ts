/**
 * One clock for every process of the fan-out benchmark. Each process's
 * `performance.timeOrigin + performance.now()` is milliseconds since the epoch, monotonic
 * within the process, but the origins are read from the wall clock when each process starts,
 * so two processes can disagree by a constant. The main process measures that constant per
 * subscriber process with a few IPC ping-pongs.
 */

/** This process's clock, ms since the epoch (monotonic: performance.now() based). */
export const clockNow = (): number => performance.timeOrigin + performance.now()

export interface PingSample {
  /** Main clock when the ping was sent. */
  sent: number
  /** The other process's clock when it answered. */
  remote: number
  /** Main clock when the answer arrived. */
  received: number
}

export interface ClockOffset {
  /** other clock − main clock, ms: subtract it from the other process's readings. */
  offsetMs: number
  /** How wrong offsetMs can be: half the chosen ping's round trip (the answer was read somewhere inside it). */
  errorMs: number
}

/**
 * The offset from the sample with the smallest round trip: the other process read its clock
 * somewhere between `sent` and `received`, so assuming the middle is off by at most half the
 * round trip, and the shortest round trip bounds that best.
 */
export function bestOffset(samples: readonly PingSample[]): ClockOffset {
  if (samples.length === 0) throw new Error('no ping samples')
  let best = samples[0]!
  for (const s of samples) if (s.received - s.sent < best.received - best.sent) best = s
  return { offsetMs: best.remote - (best.sent + best.received) / 2, errorMs: (best.received - best.sent) / 2 }
}
