/**
 * Ticks in flight at once. A tick on MySQL is mostly waiting for a dozen round trips, so the
 * old 4 capped a controller at 4 / tick duration (about 25 ticks/s: 125 rollouts at 5 s)
 * whatever the CPU; 16 keeps the pool's 10 connections busy without queueing the API behind
 * hundreds of ticks. On SQLite the statements are synchronous and the number matters little.
 */
export const DEFAULT_TICK_CONCURRENCY = 16
