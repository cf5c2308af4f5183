/**
 * The bus: typed channels (channels.ts), the Bus contract (bus.ts) and its two transports.
 *
 * @example
 * ```ts
 * const bus = createBus(process.env.SENTRA_REDIS_URL) // unset → in-process
 * ```
 */
import type { Bus, BusErrorHandler } from './bus.ts'
import { MemoryBus } from './memory.ts'
import { RedisBus } from './redis.ts'

export interface CreateBusOptions {
  /** Redis only: namespace for channel names. Default `sentra:`. */
  prefix?: string
  /** Receives handler errors, dropped messages and connection errors. Default: stderr. */
  onError?: BusErrorHandler
}

/** A Redis bus when `redisUrl` is given (and not empty), otherwise an in-process one. */
export function createBus(redisUrl?: string, options: CreateBusOptions = {}): Bus {
  const { prefix, onError } = options
  if (redisUrl) return new RedisBus(redisUrl, { ...(prefix !== undefined && { prefix }), ...(onError && { onError }) })
  return new MemoryBus(onError ? { onError } : {})
}

export * from './channels.ts'
export * from './bus.ts'
export { MemoryBus, type MemoryBusOptions } from './memory.ts'
export { RedisBus, DEFAULT_PREFIX, type RedisBusOptions } from './redis.ts'
