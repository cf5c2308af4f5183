/** The normalized application spec: what parseSpec returns once a document is valid. */
import type { BuiltinSignal } from './signals.ts'

/** One problem with a spec: `path` names the field (`strategy.canary.steps[2].setWeight`,
 * `''` for the whole document) and `message` says what is wrong in plain English. */
export interface SpecIssue {
  path: string
  message: string
}

export type TargetKind = 'process' | 'docker' | 'kubernetes'
export type ProviderKind = 'prometheus' | 'loki' | 'tempo'
export type JudgeKind = 'threshold' | 'relative' | 'sequential' | 'mannWhitney' | 'anomaly'

/** A local process started by Sentra behind its proxy. */
export interface ProcessTargetSpec {
  kind: 'process'
  /** `host:port` where Sentra's proxy serves the application. */
  listen: string
  /** argv; items may use `{{version}}` and `{{port}}`. */
  command: string[]
  /** Values may use `{{version}}` and `{{port}}`; `{}` when not given. */
  env: Record<string, string>
  /** Default `/healthz`. */
  healthPath: string
  /** Working directory; may use `{{version}}` and `{{port}}`. */
  cwd?: string
}

/** A container run by the local Docker engine behind Sentra's proxy. */
export interface DockerTargetSpec {
  kind: 'docker'
  listen: string
  /** Contains `{{version}}` or a fixed tag/digest. */
  image: string
  containerPort: number
  env: Record<string, string>
  healthPath: string
}

/** A Kubernetes Deployment; traffic split by Gateway API HTTPRoute weights or replica ratio. */
export interface KubernetesTargetSpec {
  kind: 'kubernetes'
  namespace: string
  deployment: string
  service: string
  /** When set, weights go through this HTTPRoute; otherwise by replica ratio. */
  httpRoute?: string
}

export type TargetSpec = ProcessTargetSpec | DockerTargetSpec | KubernetesTargetSpec

/** How long to analyze. `min` defaults to `'0s'`; without `max` analysis lasts until the evidence decides. */
export interface AnalyzeSpec {
  min: string
  minMs: number
  max?: string
  maxMs?: number
}

/** Without `duration`, the rollout waits for a person (`resumeRollout` / `promoteRollout`). */
export interface PauseSpec {
  duration?: string
  durationMs?: number
}

export interface SetWeightStep {
  /** Canary traffic percentage, an integer 0..100. */
  setWeight: number
}
export interface AnalyzeStep {
  analyze: AnalyzeSpec
}
export interface PauseStep {
  pause: PauseSpec
}
export type StepSpec = SetWeightStep | AnalyzeStep | PauseStep
export type StepKind = 'setWeight' | 'analyze' | 'pause'

/**
 * Evidence-driven weights (controller/rollout/adaptive.ts): after an analysis passes, the
 * next weight step grows with the gates' headroom, up to `maxStep` percentage points, and
 * shrinks when the canary is only just within its margins.
 */
export interface AdaptiveSpec {
  /** The largest weight increase one step may make, in percentage points (1..100). */
  maxStep: number
  /** How much headroom earns the full `maxStep`: the full step from a headroom of 1 − risk (0 ≤ risk < 1; default 0.5). */
  risk: number
}

export interface CanaryStrategySpec {
  steps: StepSpec[]
  /** Unset: the steps run as written. */
  adaptive?: AdaptiveSpec
}

export interface BlueGreenStrategySpec {
  analyze?: AnalyzeSpec
  /** How long the old version keeps running after the switch; default `'30s'`. */
  scaleDownDelay: string
  scaleDownDelayMs: number
  /** Switch as soon as analysis passes (default true); false waits for a person. */
  autoPromote: boolean
}

export type StrategySpec =
  | { canary: CanaryStrategySpec; blueGreen?: undefined }
  | { blueGreen: BlueGreenStrategySpec; canary?: undefined }

/** The canary value must stay within [min, max] (at least one is set). */
export interface ThresholdJudgeSpec {
  kind: 'threshold'
  min?: number
  max?: number
}

/** The canary is compared with the baseline (stable): it fails when it exceeds
 * baseline + maxIncrease, or baseline * maxRatio (at least one is set). */
export interface RelativeJudgeSpec {
  kind: 'relative'
  maxIncrease?: number
  maxRatio?: number
}

/** A sequential test of canary against baseline at significance `alpha` (default 0.01). */
export interface SequentialJudgeSpec {
  kind: 'sequential'
  alpha: number
  /**
   * The non-inferiority margin an analysis needs shown before it passes: for error counts in
   * percentage points as a fraction (0.005 = "at most the baseline + 0.5 pp"), for latency a
   * relative increase (0.5 = "at most 1.5 × the baseline's"). Unset: the judge's defaults
   * (0.5 pp; 50 %).
   */
  margin?: number
  /**
   * Error counts only: PASS also needs the canary's error rate shown below this multiple of
   * the baseline's (a ratio above 1). Unset: the judge's default, 2 (a doubled error rate is a
   * regression however few points it adds).
   */
  maxRatio?: number
}

/** Which change of a value is bad: a rise, a fall, or either. */
export type JudgeDirection = 'increase' | 'decrease' | 'either'

/** Kayenta's score thresholds (0..100, marginal ≤ pass): score ≥ pass passes, below marginal fails. */
export interface ScoreThresholdsSpec {
  pass: number
  marginal: number
}

/**
 * Kayenta's NetflixACAJudge with the Mann-Whitney classifier (controller/judges/mann-whitney.ts):
 * the canary's and the baseline's per-window values are compared with a Mann-Whitney U test,
 * and every mannWhitney gate of the application feeds one weighted Kayenta score.
 */
export interface MannWhitneyJudgeSpec {
  kind: 'mannWhitney'
  /** Default `'increase'`. */
  direction: JudgeDirection
  /** Mean ratio canary/baseline a High needs (≥ 1); default 1. */
  allowedIncrease: number
  /** Mean ratio a Low needs (0 < x ≤ 1); default 1. */
  allowedDecrease: number
  /** A critical metric that fails sets the whole score to 0; default false. */
  critical: boolean
  /** Only with critical: the mean ratio from which a High is critical; default 1. */
  criticalIncrease?: number
  /** Only with critical: the mean ratio up to which a Low is critical; default 1. */
  criticalDecrease?: number
  /** The shift's CI must clear this fraction of the estimate; default 0.25. */
  tolerance: number
  /** Confidence level of the interval; default 0.98. */
  confidence: number
  /** Weight in the score; default 1. */
  weight: number
  /** Windows each version needs before the test runs; default 10. */
  minSamples: number
  /** Most recent windows used; default 60. */
  maxSamples: number
  /** The same on every mannWhitney gate of an application; default pass 95, marginal 75. */
  scoreThresholds: ScoreThresholdsSpec
}

/**
 * A streaming detector on one version's own series, no baseline needed
 * (controller/judges/anomaly.ts): robust z of the latest window against a trailing
 * (optionally seasonal) reference, at a stated per-check false-alarm rate.
 */
export interface AnomalyJudgeSpec {
  kind: 'anomaly'
  /** Whose series: the canary's (new version) or the baseline's (stable); default `'canary'`. */
  subject: 'canary' | 'baseline'
  /** Default `'increase'`. */
  direction: JudgeDirection
  /** Per-check false-alarm probability on healthy data; default 0.001. */
  falseAlarmRate: number
  /** How far back the reference reaches; default `'30m'`. */
  window: string
  windowMs: number
  /** When set, the reference is the same phase of earlier seasons within `window`. */
  season?: string
  seasonMs?: number
  /** Smallest change that may alarm, in the signal's unit; default: none beyond sampling noise. */
  minDeviation?: number
}

export type JudgeSpec = ThresholdJudgeSpec | RelativeJudgeSpec | SequentialJudgeSpec | MannWhitneyJudgeSpec | AnomalyJudgeSpec

interface GateSpecBase {
  /** A DNS label, unique within the application. */
  name: string
  judge: JudgeSpec
  /** Evaluate and record, but never block or roll back. Default false. */
  dryRun: boolean
  /** Consecutive inconclusive windows before the rollout pauses; defaults to the application's. */
  inconclusiveLimit: number
}

export interface SignalGateSpec extends GateSpecBase {
  signal: BuiltinSignal
  provider?: undefined
  source?: undefined
  query?: undefined
}

export interface ProviderGateSpec extends GateSpecBase {
  provider: ProviderKind
  /** The declared provider to ask (applyProvider); default: the one named after the kind, else the only one of the kind. */
  source?: string
  /** The provider's query language; uses `{{version}}` and may use `{{window}}`, `{{application}}`. */
  query: string
  signal?: undefined
}

export type GateSpec = SignalGateSpec | ProviderGateSpec

export interface AppSpec {
  /** A DNS label. */
  name: string
  target: TargetSpec
  strategy: StrategySpec
  /** `[]` when not given. */
  gates: GateSpec[]
  /** Evaluation tick; default `'5s'`, between 1s and 5m. */
  interval: string
  intervalMs: number
  /** Consecutive inconclusive windows before the rollout pauses; default 6. */
  inconclusiveLimit: number
  /** The policy whose gates and strategy this spec was completed with (docs/policies.md). */
  policy?: string
  /** The environment whose guardrails apply; `default` (DEFAULT_ENVIRONMENT) when not given. */
  environment?: string
}
