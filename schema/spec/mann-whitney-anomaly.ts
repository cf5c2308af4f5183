/**
 * The spec of the mannWhitney (Kayenta) and anomaly judge kinds (docs/judges.md): their
 * fields and ranges, and the rule that every mannWhitney gate of an application shares one
 * pair of Kayenta score thresholds. gates.ts puts them beside the other kinds.
 */
import * as z from 'zod'
import { type Ctx, derivedMs, duration, enumOf, field, ifObject, intBetween, numberOrPercent, obj, report } from './fields.ts'
import { ANOMALY_DEFAULTS, MANN_WHITNEY_DEFAULTS } from './limits.ts'
import { checkDuration } from './rules.ts'

const forKind = (kind: string): string => `is used with kind: ${kind}`

/** Fields of the newer kinds, named when they are written on another kind. */
export const NEWER_KIND_FIELDS = {
  direction: 'is used with kind: mannWhitney or anomaly',
  allowedIncrease: forKind('mannWhitney'),
  allowedDecrease: forKind('mannWhitney'),
  critical: forKind('mannWhitney'),
  tolerance: forKind('mannWhitney'),
  confidence: forKind('mannWhitney'),
  weight: forKind('mannWhitney'),
  scoreThresholds: forKind('mannWhitney'),
  falseAlarmRate: forKind('anomaly'),
  season: forKind('anomaly'),
  subject: forKind('anomaly'),
  minDeviation: forKind('anomaly'),
} as const

const OLDER_KIND_FIELDS = {
  min: forKind('threshold'),
  max: forKind('threshold'),
  maxIncrease: forKind('relative'),
  maxRatio: forKind('relative or sequential'),
  alpha: forKind('sequential'),
} as const

const DIRECTIONS = ['increase', 'decrease', 'either'] as const
const direction = enumOf(DIRECTIONS, 'one of')

/** A number in [min, max] (or (min, max] with `open`), worded once for every bound. */
const between = (min: number, max: number, hint: string, open = false) => {
  const message = `must be ${open ? 'greater than' : 'at least'} ${min} and at most ${max}${hint === '' ? '' : ` (${hint})`}`
  return (open ? z.number().gt(min, message) : z.number().min(min, message)).max(max, message)
}

const scoreThresholds = obj(
  {
    pass: between(0, 100, 'a Kayenta score').optional(),
    marginal: between(0, 100, 'a Kayenta score').optional(),
  },
  { mappingHint: 'write e.g. "scoreThresholds: { pass: 95, marginal: 75 }"' },
).superRefine((value, ctx) => {
  const pass = typeof value.pass === 'number' ? value.pass : 95
  const marginal = typeof value.marginal === 'number' ? value.marginal : 75
  if (marginal > pass) report(ctx, ['marginal'], `must be at most pass (${pass}): a score between marginal and pass is marginal`)
}, ifObject)

/** Kayenta's NetflixACAJudge with the Mann-Whitney classifier (docs/judges.md). */
export const mannWhitneyJudge = obj(
  {
    kind: z.literal('mannWhitney'),
    direction: direction.optional(),
    allowedIncrease: z.number().min(1, 'must be at least 1 (a mean ratio: 1.1 needs the canary 10 % above the baseline to fail)').max(1000, 'must be at most 1000').optional(),
    allowedDecrease: between(0, 1, 'a mean ratio: 0.9 needs the canary 10 % below the baseline to fail', true).optional(),
    critical: z.boolean().optional(),
    criticalIncrease: z.number().min(1, 'must be at least 1 (a mean ratio)').max(1000, 'must be at most 1000').optional(),
    criticalDecrease: between(0, 1, 'a mean ratio', true).optional(),
    tolerance: z.number().min(0, 'must be at least 0 and less than 1 (a fraction of the estimated shift)').lt(1, 'must be at least 0 and less than 1 (a fraction of the estimated shift)').optional(),
    confidence: z.number().min(0.5, 'must be between 0.5 and 0.9999').max(0.9999, 'must be between 0.5 and 0.9999').optional(),
    weight: between(0, 1000, 'a weight in the score', true).optional(),
    minSamples: intBetween(5, 600).optional(),
    maxSamples: intBetween(5, 600).optional(),
    scoreThresholds: scoreThresholds.optional(),
  },
  { elsewhere: { ...OLDER_KIND_FIELDS, falseAlarmRate: forKind('anomaly'), season: forKind('anomaly'), subject: forKind('anomaly'), minDeviation: forKind('anomaly') } },
).superRefine((value, ctx) => {
  const v = value as Record<string, unknown>
  for (const key of ['criticalIncrease', 'criticalDecrease']) {
    if (v[key] !== undefined && v.critical !== true) report(ctx, [key], 'is used with critical: true (a critical metric that fails sets the whole score to 0)')
  }
  if (typeof v.criticalIncrease === 'number' && typeof v.allowedIncrease === 'number' && v.criticalIncrease < v.allowedIncrease) {
    report(ctx, ['criticalIncrease'], `must be at least allowedIncrease (${v.allowedIncrease})`)
  }
  if (typeof v.criticalDecrease === 'number' && typeof v.allowedDecrease === 'number' && v.criticalDecrease > v.allowedDecrease) {
    report(ctx, ['criticalDecrease'], `must be at most allowedDecrease (${v.allowedDecrease})`)
  }
  if (typeof v.minSamples === 'number' && typeof v.maxSamples === 'number' && v.maxSamples < v.minSamples) {
    report(ctx, ['maxSamples'], `must be at least minSamples (${v.minSamples})`)
  }
}, ifObject)

const SUBJECTS = ['canary', 'baseline'] as const

/** A robust, optionally seasonal detector on one version's own series (docs/judges.md). */
export const anomalyJudge = obj(
  {
    kind: z.literal('anomaly'),
    subject: enumOf(SUBJECTS, 'one of').optional(),
    direction: direction.optional(),
    falseAlarmRate: between(0, 0.1, 'a probability per check', true).optional(),
    window: duration({ minMs: 60_000, maxMs: 24 * 3_600_000 }).optional(),
    windowMs: derivedMs,
    season: duration({ minMs: 60_000, maxMs: 24 * 3_600_000 }).optional(),
    seasonMs: derivedMs,
    minDeviation: numberOrPercent.optional(),
  },
  {
    derived: { windowMs: 'window', seasonMs: 'season' },
    elsewhere: { ...OLDER_KIND_FIELDS, allowedIncrease: forKind('mannWhitney'), allowedDecrease: forKind('mannWhitney'), critical: forKind('mannWhitney'), tolerance: forKind('mannWhitney'), confidence: forKind('mannWhitney'), weight: forKind('mannWhitney'), scoreThresholds: forKind('mannWhitney') },
  },
).superRefine((value, ctx) => {
  const v = value as Record<string, unknown>
  if (typeof v.season !== 'string') return
  const season = checkDuration(v.season, {})
  const window = checkDuration(typeof v.window === 'string' ? v.window : ANOMALY_DEFAULTS.window, {})
  if ('ms' in season && 'ms' in window && window.ms < 2 * season.ms) {
    report(ctx, ['window'], `must be at least twice the season (${v.season}): the reference is the same phase of earlier seasons within window`)
  }
}, ifObject).superRefine((value, ctx) => {
  const raw = (value as Record<string, unknown>).minDeviation
  if (typeof raw === 'number' && raw < 0) report(ctx, ['minDeviation'], 'must be at least 0')
}, ifObject)

/** Kayenta's score is one score over every mannWhitney gate, so one pair of thresholds. */
export function sharedScoreThresholds(value: readonly unknown[], ctx: Ctx): void {
  let stated: { index: number; pass: unknown; marginal: unknown } | undefined
  value.forEach((item, index) => {
    const judgeValue = field(item, 'judge')
    const thresholds = field(judgeValue, 'scoreThresholds')
    if (field(judgeValue, 'kind') !== 'mannWhitney' || thresholds === undefined) return
    const pass = field(thresholds, 'pass') ?? MANN_WHITNEY_DEFAULTS.scoreThresholds.pass
    const marginal = field(thresholds, 'marginal') ?? MANN_WHITNEY_DEFAULTS.scoreThresholds.marginal
    if (stated === undefined) stated = { index, pass, marginal }
    else if (pass !== stated.pass || marginal !== stated.marginal) {
      const said = `gates[${stated.index}] has pass ${String(stated.pass)}, marginal ${String(stated.marginal)}`
      report(ctx, [index, 'judge', 'scoreThresholds'], `must be the same on every mannWhitney gate (${said}): Kayenta's score is one score over all of them`)
    }
  })
}
