/** The part of a `ws` WebSocket the hub writes to (an interface, so tests can hold a slow one). */
export interface FanoutSocket {
  readonly readyState: number
  /** Bytes queued in user space and not yet handed to the kernel. */
  readonly bufferedAmount: number
  send(data: string): void
  close(code: number, reason: string): void
  terminate(): void
}

/** ws's WebSocket.OPEN. */
export const OPEN = 1

/**
 * Close code for a subscriber that does not read fast enough: its socket held more than
 * the hub's `maxBufferedBytes` unsent, so it is closed rather than buffered without bound
 * or allowed to hold up the others. Clients may reconnect and refetch (docs/security.md).
 */
export const WS_TOO_SLOW = 4431

/** Default `maxBufferedBytes`: about a thousand typical rollout payloads. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024

/** How long a slow socket gets to finish its closing handshake before it is cut. */
const CLOSE_GRACE_MS = 1000

/** Closes a slow socket with WS_TOO_SLOW, then terminates it if the close frame cannot get through. */
export function closeSlow(socket: FanoutSocket, maxBufferedBytes: number): void {
  socket.close(WS_TOO_SLOW, `too slow: more than ${maxBufferedBytes} bytes unsent`)
  setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref()
}
