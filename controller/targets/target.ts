import type { AppSpec } from '../../schema/spec.ts'

/** What a target needs to know about one rollout. */
export interface RolloutRef {
  rolloutId: string
  application: AppSpec
  /** The version serving now; null for an initial deploy. */
  stableVersion: string | null
  canaryVersion: string
}

/**
 * The target is stopping with Sentra (a stop signal was received): it starts nothing more.
 * Never the canary's fault: a tick that meets it stops without deciding.
 */
export class TargetStoppingError extends Error {
  override readonly name = 'TargetStoppingError'
}

/**
 * A platform Sentra moves traffic on. Every method is idempotent: the controller calls
 * them again after a crash (desired != observed), and a second call must do no harm.
 */
export interface Target {
  readonly kind: string
  /** The stable version is running and serving all traffic not sent to a canary (at Sentra start, after a restart). */
  ensureStable(app: AppSpec, version: string): Promise<void>
  /** The canary workload exists and is ready (healthy); resolves only once it is. */
  prepare(r: RolloutRef): Promise<void>
  setWeight(r: RolloutRef, canaryPercent: number): Promise<void>
  /** The canary's share of traffic as the platform reports it; null = cannot tell. */
  observedWeight(r: RolloutRef): Promise<number | null>
  /** Why the canary is broken (e.g. "canary process exited with code 1"), or null while it is fine. */
  canaryFailure(r: RolloutRef): Promise<string | null>
  /** The canary becomes the stable version; the old stable stops. */
  promote(r: RolloutRef): Promise<void>
  /** All traffic to stable; the canary is removed. */
  rollback(r: RolloutRef): Promise<void>
  /**
   * This controller lost the rollout (lease lost or fenced): whatever this process serves
   * stops sending traffic to the canary. Not fenced, not recorded: it only takes traffic
   * away from an unjudged canary, and the new holder re-applies the stored weight. Targets
   * whose traffic this process does not carry (Kubernetes) have nothing to do.
   */
  relinquish?(r: RolloutRef): Promise<void>
  /** Stops everything this target started (Sentra is stopping). */
  close(): Promise<void>
}
