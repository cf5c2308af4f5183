/**
 * The application spec: what users write (YAML or JSON text, or an object from GraphQL's
 * `applyApplication(spec: JSON!)`), validated with zod into a normalized {@link AppSpec}, or a
 * list of {@link SpecIssue}s that each name the offending field
 * (`strategy.canary.steps[2].setWeight`) and say what is wrong in plain English.
 *
 * The normalized spec is itself a valid input: `parseSpec(spec)` returns an equal spec, so it
 * can be stored and re-validated as is (derived `*Ms` fields are accepted when they match).
 */
import { readSpecInput } from './spec/input.ts'
import { normalize } from './spec/normalize.ts'
import { formatPath } from './spec/path.ts'
import { errorMap } from './spec/fields.ts'
import { applicationSchema } from './spec/schema.ts'
import type { AppSpec, SpecIssue, StepKind, StepSpec } from './spec/types.ts'

export type {
  AdaptiveSpec,
  AnalyzeSpec,
  AnalyzeStep,
  AppSpec,
  BlueGreenStrategySpec,
  CanaryStrategySpec,
  DockerTargetSpec,
  GateSpec,
  JudgeKind,
  JudgeSpec,
  KubernetesTargetSpec,
  PauseSpec,
  PauseStep,
  ProcessTargetSpec,
  ProviderGateSpec,
  ProviderKind,
  RelativeJudgeSpec,
  SequentialJudgeSpec,
  MannWhitneyJudgeSpec,
  AnomalyJudgeSpec,
  JudgeDirection,
  ScoreThresholdsSpec,
  SetWeightStep,
  SignalGateSpec,
  SpecIssue,
  StepKind,
  StepSpec,
  StrategySpec,
  TargetKind,
  TargetSpec,
  ThresholdJudgeSpec,
} from './spec/types.ts'
export { DurationError, MAX_DURATION_MS, formatDuration, parseDuration } from './spec/duration.ts'
export { formatPath } from './spec/path.ts'
export {
  BUILTIN_SIGNALS,
  BUILTIN_SIGNAL_NAMES,
  isBuiltinSignal,
  signalRangeMessage,
  type BuiltinSignal,
  type SignalInfo,
  type SignalUnit,
} from './spec/signals.ts'
export { QUERY_TEMPLATES, TARGET_TEMPLATES, parseListen } from './spec/rules.ts'
export {
  DEFAULT_ALPHA,
  DEFAULT_HEALTH_PATH,
  DEFAULT_INCONCLUSIVE_LIMIT,
  DEFAULT_INTERVAL,
  DEFAULT_SCALE_DOWN_DELAY,
  ANOMALY_DEFAULTS,
  MANN_WHITNEY_DEFAULTS,
  MAX_GATES,
  MAX_QUERY_BYTES,
  MAX_SPEC_BYTES,
  MAX_STEPS,
  MAX_YAML_ALIASES,
  PROVIDERS,
} from './spec/limits.ts'

/** At most this many issues are returned; a last one says how many more there were. */
export const MAX_SPEC_ISSUES = 50

export type ParseSpecResult = { ok: true; spec: AppSpec } | { ok: false; issues: SpecIssue[] }

/** Thrown by {@link assertSpec}; `issues` name each bad field. */
export class SpecError extends Error {
  override readonly name = 'SpecError'
  readonly issues: SpecIssue[]

  constructor(issues: SpecIssue[]) {
    const shown = issues.slice(0, 5).map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
    const more = issues.length > 5 ? `; and ${issues.length - 5} more` : ''
    super(`invalid application spec: ${shown.join('; ')}${more}`)
    this.issues = issues
  }
}

/** One issue per field (the first found), at most {@link MAX_SPEC_ISSUES}. */
function tidy(issues: SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>()
  const out: SpecIssue[] = []
  for (const issue of issues) {
    if (seen.has(issue.path)) continue
    seen.add(issue.path)
    out.push(issue)
  }
  if (out.length <= MAX_SPEC_ISSUES) return out
  const rest = out.length - (MAX_SPEC_ISSUES - 1)
  return [...out.slice(0, MAX_SPEC_ISSUES - 1), { path: '', message: `has ${rest} more problems; fix the ones above first` }]
}

/**
 * Validates an application spec.
 *
 * @param input YAML or JSON text (at most 256 KiB), or an already-parsed plain object.
 * @example
 * const result = parseSpec(yamlText)
 * if (!result.ok) for (const { path, message } of result.issues) console.error(`${path}: ${message}`)
 */
export function parseSpec(input: unknown): ParseSpecResult {
  const read = readSpecInput(input)
  if (!read.ok) return { ok: false, issues: tidy(read.issues) }
  const parsed = applicationSchema.safeParse(read.value, { error: errorMap })
  if (!parsed.success) {
    return { ok: false, issues: tidy(parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }))) }
  }
  return { ok: true, spec: normalize(parsed.data) }
}

/** Like {@link parseSpec}, but returns the spec or throws a {@link SpecError}. */
export function assertSpec(input: unknown): AppSpec {
  const result = parseSpec(input)
  if (!result.ok) throw new SpecError(result.issues)
  return result.spec
}

/** Which of the three kinds a step is. */
export function stepKind(step: StepSpec): StepKind {
  if ('setWeight' in step) return 'setWeight'
  if ('analyze' in step) return 'analyze'
  return 'pause'
}
