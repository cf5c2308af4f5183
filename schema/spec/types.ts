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
export type JudgeKind = 'threshold' | 'relative' | 'sequential'

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

export interface CanaryStrategySpec {
  steps: StepSpec[]
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
}

export type JudgeSpec = ThresholdJudgeSpec | RelativeJudgeSpec | SequentialJudgeSpec

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
}
