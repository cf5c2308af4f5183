/**
 * The Database interface Kysely types every query with. One interface per table; column
 * names are snake_case as stored. Times are UTC epoch milliseconds (BIGINT on MySQL,
 * INTEGER on SQLite) so both dialects compare and sort them the same way. JSON columns
 * hold text written with JSON.stringify and are parsed by the repositories.
 */
import type { ColumnType } from 'kysely'

export interface ApplicationsTable {
  id: string
  name: string
  /** The validated spec as JSON text. */
  spec: string
  stable_version: string | null
  created_at: number
  updated_at: number
}

export interface RolloutsTable {
  id: string
  application_id: string
  /** Denormalised so lists filter by name without a join. */
  application_name: string
  from_version: string | null
  to_version: string
  status: string
  /** Weight the controller last decided (written before actuation). */
  desired_weight: number
  /** Weight the target last reported; null until one was observed. */
  canary_weight: number
  current_step_index: number
  step_started_at: number | null
  /** Per-rollout event sequence number; bumped on every published change. */
  seq: number
  /** application_id while the rollout is active, NULL after: a unique index keeps one active rollout per application. */
  active_key: string | null
  created_at: number
  started_at: number | null
  finished_at: number | null
  updated_at: number
  /**
   * When this finished rollout's windows and gate results were deleted (migration 010); null:
   * kept so far. Never written on insert (the column's default), so creating a rollout needs
   * nothing of migration 010 (the upgrade tests create rollouts at older schemas).
   */
  evidence_pruned_at: ColumnType<number | null, never, number | null>
}

export interface RolloutStepsTable {
  rollout_id: string
  idx: number
  kind: string
  /** The step as written in the spec, JSON text. */
  spec: string
  status: string
  started_at: number | null
  finished_at: number | null
}

export interface GateResultsTable {
  id: string
  rollout_id: string
  step_index: number
  gate: string
  verdict: string
  value: number | null
  reason: string
  /** JSON text: thresholds, baseline, sample counts. */
  evidence: string
  window_id: string | null
  at: number
}

export interface TelemetryWindowsTable {
  id: string
  rollout_id: string
  step_index: number
  provider: string
  start_at: number
  end_at: number
  /** JSON text: signal name -> value for the canary. */
  canary: string
  /** JSON text: signal name -> value for the baseline (stable). */
  baseline: string
}

export interface TracesTable {
  id: string
  rollout_id: string
  step_index: number
  trace_id: string
  version: string
  status: string
  duration_ms: number
  root_name: string
  at: number
  application: string
  service: string
  /** 1 for a trace with an error span, else 0. */
  error: number
  source: string
  span_count: number
  /** JSON text: the capped LinkedSpan[]; null for rows written before 005. */
  spans: string | null
}

export interface DecisionsTable {
  id: string
  rollout_id: string
  /** The rollout's seq when the decision was written; orders decisions within a rollout. */
  seq: number
  at: number
  action: string
  actor: string
  reason: string
  step_index: number
  from_weight: number
  to_weight: number
  /** JSON text: the gate results and window that decided it. */
  evidence: string
  /** Position in the rollout's hash chain: 1, 2, ... in append order (008; see decision-chain.ts). */
  chain_seq: number
  /** Hex sha256 of the previous decision of the rollout; 64 zeros for the first. */
  prev_hash: string
  /** Hex sha256 of this decision's canonical serialisation (its prev_hash included). */
  hash: string
}

export interface OperatorCommandsTable {
  id: string
  rollout_id: string
  kind: string
  full: number
  actor: string
  reason: string | null
  created_at: number
  applied_at: number | null
  /** What the controller did with it: APPLIED or REJECTED with a reason. */
  outcome: string | null
}

export interface ApiTokensTable {
  id: string
  name: string
  /**
   * The token is never stored: this is its salted scrypt hash with parameters
   * (`$scrypt$ln=…`, tokens Sentra issues) or its sha256, hex (tokens without an embedded
   * id: a chosen SENTRA_ADMIN_TOKEN, tokens from before 009). See store/token-hash.ts.
   */
  hash: string
  scope: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
  /** 009: when the token stops working; null = never. */
  expires_at: number | null
  /** 009: JSON array of the application names the token may see; null = every application. */
  applications: string | null
}

export interface LeasesTable {
  name: string
  holder: string
  token: number
  expires_at: number
}

export interface ProvidersTable {
  name: string
  kind: string
  /** The validated ProviderSpec as JSON text (credentials included: the table is admin-only). */
  config: string
  created_at: number
  updated_at: number
}

export interface MigrationsTable {
  name: string
  applied_at: number
}

export interface Database {
  applications: ApplicationsTable
  rollouts: RolloutsTable
  rollout_steps: RolloutStepsTable
  gate_results: GateResultsTable
  telemetry_windows: TelemetryWindowsTable
  traces: TracesTable
  decisions: DecisionsTable
  operator_commands: OperatorCommandsTable
  api_tokens: ApiTokensTable
  leases: LeasesTable
  providers: ProvidersTable
  sentra_migrations: MigrationsTable
  webhook_subscriptions: WebhookSubscriptionsTable
  webhook_deliveries: WebhookDeliveriesTable
  otlp_aggregates: OtlpAggregatesTable
  otlp_durations: OtlpDurationsTable
  policies: PoliciesTable
}

/** Policies and guardrails (migration 007): `kind` is 'policy' or 'guardrail'; a guardrail's name is its environment. */
export interface PoliciesTable {
  kind: string
  name: string
  /** JSON text of the validated document. */
  spec: string
  created_at: number
  updated_at: number
}

/** OTLP receiver counts per application, version and epoch second (migration 006). */
export interface OtlpAggregatesTable {
  application: string
  version: string
  second: number
  spans: number
  error_spans: number
  /** Traces (per application and version) that ended in this second; error_traces had an error span of theirs. */
  traces: number
  error_traces: number
  logs: number
  /** Log records at severity ERROR or above. */
  error_logs: number
}

/** The span-duration histogram: one row per non-empty bucket (controller/telemetry/otlp-histogram.ts). */
export interface OtlpDurationsTable {
  application: string
  version: string
  second: number
  bucket: number
  count: number
}

export interface WebhookSubscriptionsTable {
  id: string
  /** Only this application's rollouts; null = every application. */
  application_name: string | null
  url: string
  /** The HMAC key, as given or generated (needed to sign, so not hashed; the table is admin-only). */
  secret: string
  format: string
  /** JSON text: the event names subscribed to. */
  events: string
  enabled: number
  disabled_reason: string | null
  /** Decisions made before this time are never delivered (set at creation, re-enabling and events changes). */
  since: number
  created_at: number
  updated_at: number
}

export interface WebhookDeliveriesTable {
  id: string
  subscription_id: string
  rollout_id: string
  /** Unique with subscription_id: a decision is delivered at most once per subscription. */
  decision_id: string
  event: string
  status: string
  attempts: number
  /** When the next attempt is due; null once DELIVERED or DEAD. */
  next_attempt_at: number | null
  /** Set by the notifier that claimed the attempt; results are written only under the same token. */
  claim_token: string | null
  claimed_until: number | null
  last_status_code: number | null
  last_error: string | null
  /** The request body, JSON text, fixed at enqueue so every attempt sends the same. */
  body: string
  created_at: number
  delivered_at: number | null
  updated_at: number
}
