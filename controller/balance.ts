/**
 * Fair share of the active rollouts among live controllers (docs/ha.md, "Balancing").
 * Pure arithmetic: the loop (controller/loop.ts) feeds it what one scan saw.
 */

export interface ShareInput {
  /** Active rollouts in the store. */
  active: number
  /** Live controllers (heartbeats not expired), this one included. */
  members: number
  /** Rollouts this controller holds now. */
  held: number
  /** The fewest rollouts another live controller holds (0 for one that just joined); null when alone or unknown. */
  fewestHeld?: number | null
}

export interface SharePlan {
  /** ceil(active / members): this controller takes free rollouts while it holds fewer. */
  share: number
  /** How far above its share a controller may stay before it gives rollouts back (against flapping). */
  slack: number
  /** How many rollouts to give back this scan (a few at a time, so rollouts move gradually). */
  release: number
}

/** Part of the share that may move per scan: with 1,000 rollouts a joiner fills up in about ten scans. */
const MOVE_FRACTION = 0.1
/**
 * Part of the share a controller may hold above it (at least one rollout): shares shift by one
 * as rollouts start and finish, and every move costs the new holder a reconcile.
 */
const SLACK_FRACTION = 0.05

function assertCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${value}`)
}

export function planShare({ active, members, held, fewestHeld = null }: ShareInput): SharePlan {
  assertCount('active', active)
  assertCount('members', members)
  assertCount('held', held)
  if (fewestHeld !== null) assertCount('fewestHeld', fewestHeld)
  // No heartbeat seen (not even ours: the membership read failed): act as if alone rather than take nothing.
  const share = Math.ceil(active / Math.max(1, members))
  const slack = Math.max(1, Math.floor(share * SLACK_FRACTION))
  // Above share + slack: give back down to that. Above the share while another controller is
  // starved (below share − slack, e.g. it just joined): give back down to the share, or the
  // slack alone could leave a joiner with 8 of 30 while two others keep 11.
  let surplus = held - (share + slack)
  if (surplus <= 0 && fewestHeld !== null && fewestHeld < share - slack) surplus = held - share
  const release = surplus > 0 ? Math.min(surplus, Math.max(1, Math.ceil(share * MOVE_FRACTION))) : 0
  return { share, slack, release }
}

/**
 * Whether to take a rollout nobody holds. Below our share, yes. At or above it, only once it
 * has been free for more than one scan: the member count may be stale (a dead controller's
 * heartbeat not yet expired), and a free rollout must never stay unheld for that.
 */
export function shouldTake({ held, share, freeScans }: { held: number; share: number; freeScans: number }): boolean {
  return held < share || freeScans > 1
}

/**
 * Target kinds whose rollouts may be moved to another live controller to even out shares.
 * The process and docker targets serve the application through a proxy inside the holding
 * controller (docs/ha.md, "Takeover"): another live controller on the host cannot bind its
 * address (it would hand the rollout back), and one on another host would leave the old proxy
 * serving. Those rollouts move only when their controller dies or hands them back.
 */
export const MOVABLE_TARGET_KINDS: ReadonlySet<string> = new Set(['kubernetes'])
