/** From a validated document to the normalized AppSpec: defaults filled, durations also in ms. */
import { parseDuration } from './duration.ts'
import { judgeNumber } from './fields.ts'
import {
  ANOMALY_DEFAULTS,
  DEFAULT_ADAPTIVE_RISK,
  DEFAULT_ALPHA,
  DEFAULT_HEALTH_PATH,
  DEFAULT_INCONCLUSIVE_LIMIT,
  DEFAULT_INTERVAL,
  DEFAULT_SCALE_DOWN_DELAY,
  MANN_WHITNEY_DEFAULTS,
} from './limits.ts'
import type { RawApplication } from './schema.ts'
import type { BuiltinSignal } from './signals.ts'
import type {
  AnalyzeSpec,
  AppSpec,
  GateSpec,
  JudgeSpec,
  PauseSpec,
  ProviderKind,
  ScoreThresholdsSpec,
  StepSpec,
  StrategySpec,
  TargetSpec,
} from './types.ts'

type Raw<K extends keyof RawApplication> = NonNullable<RawApplication[K]>
type RawStrategy = Raw<'strategy'>
type RawCanary = NonNullable<RawStrategy['canary']>
type RawStep = RawCanary['steps'][number]
type RawAnalyze = NonNullable<RawStep['analyze']>
type RawPause = NonNullable<RawStep['pause']>
type RawGate = Raw<'gates'>[number]

function analyzeSpec(raw: RawAnalyze): AnalyzeSpec {
  const min = raw.min ?? '0s'
  const out: AnalyzeSpec = { min, minMs: parseDuration(min) }
  if (raw.max !== undefined) {
    out.max = raw.max
    out.maxMs = parseDuration(raw.max)
  }
  return out
}

function pauseSpec(raw: RawPause): PauseSpec {
  return raw.duration === undefined ? {} : { duration: raw.duration, durationMs: parseDuration(raw.duration) }
}

function stepSpec(raw: RawStep): StepSpec {
  if (raw.setWeight !== undefined) return { setWeight: raw.setWeight }
  if (raw.analyze !== undefined) return { analyze: analyzeSpec(raw.analyze) }
  if (raw.pause !== undefined) return { pause: pauseSpec(raw.pause) }
  throw new Error('unreachable: a validated step has exactly one kind')
}

function strategySpec(raw: RawStrategy): StrategySpec {
  if (raw.canary !== undefined) {
    const { adaptive } = raw.canary
    return {
      canary: {
        steps: raw.canary.steps.map(stepSpec),
        ...(adaptive !== undefined ? { adaptive: { maxStep: adaptive.maxStep, risk: adaptive.risk ?? DEFAULT_ADAPTIVE_RISK } } : {}),
      },
    }
  }
  if (raw.blueGreen !== undefined) {
    const bg = raw.blueGreen
    const scaleDownDelay = bg.scaleDownDelay ?? DEFAULT_SCALE_DOWN_DELAY
    return {
      blueGreen: {
        ...(bg.analyze !== undefined ? { analyze: analyzeSpec(bg.analyze) } : {}),
        scaleDownDelay,
        scaleDownDelayMs: parseDuration(scaleDownDelay),
        autoPromote: bg.autoPromote ?? true,
      },
    }
  }
  throw new Error('unreachable: a validated strategy has exactly one kind')
}

function targetSpec(raw: Raw<'target'>): TargetSpec {
  switch (raw.kind) {
    case 'process':
      return {
        kind: 'process',
        listen: raw.listen,
        command: [...raw.command],
        env: { ...raw.env },
        healthPath: raw.healthPath ?? DEFAULT_HEALTH_PATH,
        ...(raw.cwd !== undefined ? { cwd: raw.cwd } : {}),
      }
    case 'docker':
      return {
        kind: 'docker',
        listen: raw.listen,
        image: raw.image,
        containerPort: raw.containerPort,
        env: { ...raw.env },
        healthPath: raw.healthPath ?? DEFAULT_HEALTH_PATH,
      }
    case 'kubernetes':
      return {
        kind: 'kubernetes',
        namespace: raw.namespace,
        deployment: raw.deployment,
        service: raw.service,
        ...(raw.httpRoute !== undefined ? { httpRoute: raw.httpRoute } : {}),
      }
  }
}

function judgeSpec(raw: RawGate['judge'], groupThresholds: ScoreThresholdsSpec): JudgeSpec {
  switch (raw.kind) {
    case 'threshold':
      return {
        kind: 'threshold',
        ...(raw.min !== undefined ? { min: judgeNumber(raw.min) } : {}),
        ...(raw.max !== undefined ? { max: judgeNumber(raw.max) } : {}),
      }
    case 'relative':
      return {
        kind: 'relative',
        ...(raw.maxIncrease !== undefined ? { maxIncrease: judgeNumber(raw.maxIncrease) } : {}),
        ...(raw.maxRatio !== undefined ? { maxRatio: raw.maxRatio } : {}),
      }
    case 'sequential':
      return {
        kind: 'sequential',
        alpha: raw.alpha ?? DEFAULT_ALPHA,
        ...(raw.margin !== undefined ? { margin: judgeNumber(raw.margin) } : {}),
        ...(raw.maxRatio !== undefined ? { maxRatio: raw.maxRatio } : {}),
      }
    case 'mannWhitney': {
      const d = MANN_WHITNEY_DEFAULTS
      const critical = raw.critical ?? d.critical
      return {
        kind: 'mannWhitney',
        direction: raw.direction ?? d.direction,
        allowedIncrease: raw.allowedIncrease ?? d.allowedIncrease,
        allowedDecrease: raw.allowedDecrease ?? d.allowedDecrease,
        critical,
        // Kayenta's critical ratios default to 1: any critical High or Low is a critical failure.
        ...(critical ? { criticalIncrease: raw.criticalIncrease ?? d.criticalIncrease, criticalDecrease: raw.criticalDecrease ?? d.criticalDecrease } : {}),
        tolerance: raw.tolerance ?? d.tolerance,
        confidence: raw.confidence ?? d.confidence,
        weight: raw.weight ?? d.weight,
        minSamples: raw.minSamples ?? d.minSamples,
        maxSamples: raw.maxSamples ?? Math.max(d.maxSamples, raw.minSamples ?? 0),
        scoreThresholds: { ...groupThresholds },
      }
    }
    case 'anomaly': {
      const window = raw.window ?? ANOMALY_DEFAULTS.window
      return {
        kind: 'anomaly',
        subject: raw.subject ?? ANOMALY_DEFAULTS.subject,
        direction: raw.direction ?? ANOMALY_DEFAULTS.direction,
        falseAlarmRate: raw.falseAlarmRate ?? ANOMALY_DEFAULTS.falseAlarmRate,
        window,
        windowMs: parseDuration(window),
        ...(raw.season !== undefined ? { season: raw.season, seasonMs: parseDuration(raw.season) } : {}),
        ...(raw.minDeviation !== undefined ? { minDeviation: judgeNumber(raw.minDeviation) } : {}),
      }
    }
  }
}

/**
 * The Kayenta score thresholds shared by every mannWhitney gate: the first gate that states
 * them (validation makes every other statement agree), else pass 95, marginal 75.
 */
function kayentaThresholds(gates: readonly RawGate[]): ScoreThresholdsSpec {
  for (const gate of gates) {
    if (gate.judge.kind === 'mannWhitney' && gate.judge.scoreThresholds !== undefined) {
      const t = gate.judge.scoreThresholds
      return { pass: t.pass ?? MANN_WHITNEY_DEFAULTS.scoreThresholds.pass, marginal: t.marginal ?? MANN_WHITNEY_DEFAULTS.scoreThresholds.marginal }
    }
  }
  return { ...MANN_WHITNEY_DEFAULTS.scoreThresholds }
}

function gateSpec(raw: RawGate, defaultLimit: number, thresholds: ScoreThresholdsSpec): GateSpec {
  const base = {
    name: raw.name,
    judge: judgeSpec(raw.judge, thresholds),
    dryRun: raw.dryRun ?? false,
    inconclusiveLimit: raw.inconclusiveLimit ?? defaultLimit,
  }
  if (raw.signal !== undefined) return { ...base, signal: raw.signal as BuiltinSignal }
  if (raw.provider !== undefined && raw.query !== undefined) {
    return { ...base, provider: raw.provider as ProviderKind, ...(raw.source !== undefined ? { source: raw.source } : {}), query: raw.query }
  }
  throw new Error('unreachable: a validated gate has a signal or a provider with a query')
}

/** Builds the normalized spec from a document that passed {@link applicationSchema}. */
/** The environment of an application that names none (guardrails for `default` apply to it). */
export const DEFAULT_ENVIRONMENT = 'default'

export function normalize(raw: RawApplication): AppSpec {
  const interval = raw.interval ?? DEFAULT_INTERVAL
  const inconclusiveLimit = raw.inconclusiveLimit ?? DEFAULT_INCONCLUSIVE_LIMIT
  return {
    name: raw.name,
    target: targetSpec(raw.target),
    strategy: strategySpec(raw.strategy),
    gates: (raw.gates ?? []).map((gate) => gateSpec(gate, inconclusiveLimit, kayentaThresholds(raw.gates ?? []))),
    interval,
    intervalMs: parseDuration(interval),
    inconclusiveLimit,
    ...(raw.policy !== undefined ? { policy: raw.policy } : {}),
    ...(raw.environment !== undefined ? { environment: raw.environment } : {}),
  }
}
