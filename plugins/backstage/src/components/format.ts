import type { Rollout, RolloutStatus } from '../api/types'

/** `2026-11-27 09:12 UTC`: the same for every viewer, whatever their time zone. */
export function formatInstant(iso: string | null): string {
  if (iso === null) return '—'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return '—'
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** `45s`, `3m 05s`, `2h 10m`; `—` when it cannot be told. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—'
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`
}

/** From start (or creation) to finish; for one still running, to `now`. */
export function rolloutDuration(rollout: Rollout, now: number): number | null {
  const start = Date.parse(rollout.startedAt ?? rollout.createdAt)
  const end = rollout.finishedAt === null ? now : Date.parse(rollout.finishedAt)
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start
}

export function versionChange(rollout: Rollout): string {
  return rollout.fromVersion === null ? `${rollout.toVersion} (initial deploy)` : `${rollout.fromVersion} → ${rollout.toVersion}`
}

export const STATUS_LABELS: Record<RolloutStatus, string> = {
  PENDING: 'Pending',
  PROGRESSING: 'Progressing',
  PAUSED: 'Paused',
  SUCCEEDED: 'Succeeded',
  ROLLING_BACK: 'Rolling back',
  ROLLED_BACK: 'Rolled back',
  ABORTED: 'Aborted',
  FAILED: 'Failed',
}

/** What the current step is doing, in words: "Step 2 of 4: analysing", "waiting for a person". */
export function describeStep(rollout: Rollout): string | null {
  if (rollout.steps.length === 0) return null
  const step = rollout.steps[rollout.currentStepIndex]
  const position = `Step ${Math.min(rollout.currentStepIndex + 1, rollout.steps.length)} of ${rollout.steps.length}`
  if (!step) return position
  if (step.kind === 'SET_WEIGHT') return `${position}: set weight to ${step.setWeight ?? '?'} %`
  if (step.kind === 'ANALYZE') return `${position}: analysing live telemetry`
  return `${position}: paused, waiting for a person`
}

/** A link into Sentra's dashboard (web/app routes: /rollouts/[id], /applications/[name]). */
export function dashboardLink(dashboardUrl: string | null, kind: 'rollout' | 'application', key: string): string | null {
  if (dashboardUrl === null) return null
  return `${dashboardUrl}/${kind === 'rollout' ? 'rollouts' : 'applications'}/${encodeURIComponent(key)}`
}
