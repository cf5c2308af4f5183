/**
 * What the repositories hand out: camelCase, JSON parsed, times as Date (UTC). The graph,
 * the server and the controller work with these, never with raw rows.
 */

export const ROLLOUT_STATUSES = [
  'PENDING',
  'PROGRESSING',
  'PAUSED',
  'SUCCEEDED',
  'ROLLING_BACK',
  'ROLLED_BACK',
  'ABORTED',
  'FAILED',
] as const
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number]

/** Statuses in which a rollout still holds its application (one at a time). */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = ['PENDING', 'PROGRESSING', 'PAUSED', 'ROLLING_BACK']

export const VERDICTS = ['PASS', 'FAIL', 'INCONCLUSIVE'] as const
export type Verdict = (typeof VERDICTS)[number]

export const STEP_KINDS = ['setWeight', 'analyze', 'pause'] as const
export type StepKind = (typeof STEP_KINDS)[number]

export const STEP_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'SKIPPED'] as const
export type StepStatus = (typeof STEP_STATUSES)[number]

export const COMMAND_KINDS = ['PROMOTE', 'PAUSE', 'RESUME', 'ROLLBACK', 'ABORT'] as const
export type CommandKind = (typeof COMMAND_KINDS)[number]

export const TOKEN_SCOPES = ['read', 'operate', 'admin'] as const
export type TokenScope = (typeof TOKEN_SCOPES)[number]

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export interface Application {
  id: string
  name: string
  /** The validated spec (see schema/spec.ts), as stored. */
  spec: { [key: string]: Json }
  stableVersion: string | null
  createdAt: Date
  updatedAt: Date
}

export interface Rollout {
  id: string
  applicationId: string
  applicationName: string
  fromVersion: string | null
  toVersion: string
  status: RolloutStatus
  desiredWeight: number
  canaryWeight: number
  currentStepIndex: number
  stepStartedAt: Date | null
  seq: number
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
  updatedAt: Date
  /** When evidence retention deleted this finished rollout's windows and gate results (controller/evidence-retention.ts); null while they are kept. */
  evidencePrunedAt: Date | null
}

export interface RolloutStep {
  rolloutId: string
  index: number
  kind: StepKind
  spec: { [key: string]: Json }
  status: StepStatus
  startedAt: Date | null
  finishedAt: Date | null
}

export interface GateResult {
  id: string
  rolloutId: string
  stepIndex: number
  gate: string
  verdict: Verdict
  value: number | null
  reason: string
  evidence: { [key: string]: Json }
  windowId: string | null
  at: Date
}

export interface TelemetryWindow {
  id: string
  rolloutId: string
  stepIndex: number
  provider: string
  startAt: Date
  endAt: Date
  canary: { [signal: string]: number | null }
  baseline: { [signal: string]: number | null }
}

/** Where a linked trace came from: Sentra's own OTLP receiver, or a Tempo gate's exemplars. */
export type TraceSource = 'otlp' | 'tempo'

export type SpanStatus = 'ok' | 'error' | 'unset'

/** One span of a linked trace, as kept for a waterfall. */
export interface LinkedSpan {
  /** 16 lowercase hex characters. */
  spanId: string
  parentSpanId: string | null
  name: string
  /** The resource's service.name. */
  service: string
  /** Epoch milliseconds (fractions allowed). */
  startMs: number
  durationMs: number
  status: SpanStatus
  /** 'server' | 'client' | 'internal' | 'producer' | 'consumer' | 'unspecified' */
  kind: string
  /** Capped when saved: at most 32 keys, string values at most 256 characters. */
  attributes: Record<string, string | number | boolean>
}

/** A trace linked to a rollout step; its spans are read separately (EvidenceRepository.spansOf). */
export interface LinkedTrace {
  id: string
  rolloutId: string
  stepIndex: number
  /** 32 lowercase hex characters; unique per rollout. */
  traceId: string
  version: string
  /** 'ok' | 'error' */
  status: string
  durationMs: number
  rootName: string
  /** When the trace started. */
  at: Date
  application: string
  /** The root span's service.name. */
  service: string
  error: boolean
  source: TraceSource
  /** Spans the trace had when saved; at most MAX_SPANS_PER_TRACE of them are kept. */
  spanCount: number
}

export interface Decision {
  id: string
  rolloutId: string
  seq: number
  at: Date
  action: string
  actor: string
  reason: string
  stepIndex: number
  fromWeight: number
  toWeight: number
  evidence: { [key: string]: Json }
}

export interface OperatorCommand {
  id: string
  rolloutId: string
  kind: CommandKind
  full: boolean
  actor: string
  reason: string | null
  createdAt: Date
  appliedAt: Date | null
  outcome: string | null
}

export interface ApiToken {
  id: string
  name: string
  scope: TokenScope
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
  /** After this the token is refused, as if revoked; null = never. */
  expiresAt: Date | null
  /** The only applications the token may see and operate, sorted; null = every application. */
  applications: string[] | null
}

/** A page of a cursor-paginated list. `cursor` of each item is opaque to callers. */
export interface Page<T> {
  items: { node: T; cursor: string }[]
  hasNextPage: boolean
}
