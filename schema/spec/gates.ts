/** Gates (a built-in signal, or a provider query) and the judges that decide them. */
import * as z from 'zod'
import {
  PERCENT,
  byKind,
  dnsName,
  enumOf,
  field,
  ifArray,
  ifObject,
  inconclusiveLimit,
  judgeNumber,
  numberOrPercent,
  obj,
  report,
} from './fields.ts'
import { MAX_GATES, MAX_QUERY_BYTES, PROVIDERS } from './limits.ts'
import { NEWER_KIND_FIELDS, anomalyJudge, mannWhitneyJudge, sharedScoreThresholds } from './mann-whitney-anomaly.ts'
import { QUERY_TEMPLATES, templateProblem } from './rules.ts'
import { BUILTIN_SIGNALS, BUILTIN_SIGNAL_NAMES, isBuiltinSignal, signalRangeMessage } from './signals.ts'

/** Signals measured as fractions, where a threshold may also be written as a percentage ("2%"). */
const FRACTION_SIGNALS = BUILTIN_SIGNAL_NAMES.filter((name) => BUILTIN_SIGNALS[name].unit === 'fraction')
const forKind = (kind: string): string => `is used with kind: ${kind}`

const JUDGE_KINDS = ['threshold', 'relative', 'sequential', 'mannWhitney', 'anomaly'] as const

const thresholdJudge = obj(
  { kind: z.literal('threshold'), min: numberOrPercent.optional(), max: numberOrPercent.optional() },
  {
    anyOf: { keys: ['min', 'max'], none: 'needs min, max or both (the range the canary must stay within)' },
    elsewhere: { ...NEWER_KIND_FIELDS, maxIncrease: forKind('relative'), maxRatio: forKind('relative or sequential'), alpha: forKind('sequential') },
  },
).superRefine((value, ctx) => {
  const { min, max } = value as Record<string, unknown>
  if ((typeof min !== 'number' && typeof min !== 'string') || (typeof max !== 'number' && typeof max !== 'string')) return
  if (judgeNumber(min) > judgeNumber(max)) report(ctx, ['max'], `must be at least min (${String(min)})`)
}, ifObject)

const relativeJudge = obj(
  {
    kind: z.literal('relative'),
    maxIncrease: numberOrPercent.optional(),
    maxRatio: z.number().min(1, 'must be at least 1 (a ratio of 1.5 allows 50 % above the baseline)').optional(),
  },
  {
    anyOf: { keys: ['maxIncrease', 'maxRatio'], none: 'needs maxIncrease, maxRatio or both (how much worse than the baseline is allowed)' },
    elsewhere: { ...NEWER_KIND_FIELDS, min: forKind('threshold'), max: forKind('threshold'), alpha: forKind('sequential') },
  },
).superRefine((value, ctx) => {
  if (typeof value.maxIncrease === 'number' && value.maxIncrease < 0) report(ctx, ['maxIncrease'], 'must be at least 0')
}, ifObject)

const sequentialJudge = obj(
  {
    kind: z.literal('sequential'),
    alpha: z.number().gt(0, 'must be greater than 0 and at most 0.2').max(0.2, 'must be greater than 0 and at most 0.2').optional(),
    // The allowed increase to show before passing: points of errors ("0.5%"), a share of latency ("50%").
    margin: numberOrPercent.optional(),
    // Error counts: the canary's error rate must also be shown below this multiple of the baseline's.
    maxRatio: z.number().gt(1, 'must be a ratio above 1 and at most 100, e.g. 2 (at most twice the baseline’s error rate)').max(100, 'must be a ratio above 1 and at most 100, e.g. 2 (at most twice the baseline’s error rate)').optional(),
  },
  {
    elsewhere: { ...NEWER_KIND_FIELDS, min: forKind('threshold'), max: forKind('threshold'), maxIncrease: forKind('relative') },
  },
)

/** Signals the sequential judge can test: error counts and the proxy's latency quantiles. */
const SEQUENTIAL_SIGNALS: readonly string[] = ['errorRate', 'traceErrorRate', 'logErrorRatio', 'latencyP50', 'latencyP95', 'latencyP99']

/**
 * Providers whose gates the sequential judge can test: Tempo counts each gate's matching and
 * total traces (controller/telemetry/tempo.ts). A Prometheus or Loki query is one value.
 */
const SEQUENTIAL_PROVIDERS: readonly string[] = ['tempo']

/** What is wrong with a sequential judge's margin for `signal`, if anything (errors: points; latency: a share). */
function sequentialMarginProblem(raw: unknown, signal: unknown): string | undefined {
  if (typeof raw !== 'number' && typeof raw !== 'string') return undefined
  const margin = judgeNumber(raw)
  if (Number.isNaN(margin)) return undefined
  const latency = typeof signal === 'string' && signal.startsWith('latency')
  const limit = latency ? 10 : 0.5
  if (!(margin > 0 && margin <= limit)) {
    return latency
      ? 'must be an allowed slowdown above 0 and at most 1000 %, e.g. "50%" (at most 1.5 × the baseline\'s latency)'
      : 'must be an allowed increase in the error rate above 0 and at most 50 percentage points, e.g. "0.5%" (at most the baseline + 0.5 pp)'
  }
  return undefined
}

const judge = byKind(JUDGE_KINDS, [thresholdJudge, relativeJudge, sequentialJudge, mannWhitneyJudge, anomalyJudge])

const query = z.string().superRefine((value, ctx) => {
  if (value.trim() === '') return report(ctx, [], 'must not be empty')
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes > MAX_QUERY_BYTES) return report(ctx, [], `is too long (${Math.ceil(bytes / 1024)} KiB); the limit is 8 KiB`)
  const problem = templateProblem(value, QUERY_TEMPLATES, false)
  if (problem !== undefined) report(ctx, [], problem)
})

const gate = obj(
  {
    name: dnsName('label'),
    signal: enumOf(BUILTIN_SIGNAL_NAMES as [string, ...string[]], 'one of the built-in signals').optional(),
    provider: enumOf(PROVIDERS, 'one of').optional(),
    source: dnsName('label').optional(),
    query: query.optional(),
    judge,
    dryRun: z.boolean().optional(),
    inconclusiveLimit: inconclusiveLimit.optional(),
  },
  {
    oneOf: {
      keys: ['signal', 'provider'],
      none: `needs a signal (one of ${BUILTIN_SIGNAL_NAMES.join(', ')}) or a provider (${PROVIDERS.join(', ')}) with a query`,
      many: () => 'must have either signal or provider, not both',
    },
  },
).superRefine((value, ctx) => {
  const { signal, provider, judge: judgeValue } = value as Record<string, unknown>
  if (provider !== undefined && signal === undefined && value.query === undefined) {
    report(ctx, ['query'], `is required with provider (the ${String(provider)} query to run)`)
  }
  if (signal !== undefined && value.source !== undefined) {
    report(ctx, ['source'], 'names a declared provider; a built-in signal has none')
  }
  if (signal !== undefined && value.query !== undefined) {
    report(ctx, ['query'], 'is only used with provider; a built-in signal needs no query')
  } else if (provider !== undefined && typeof value.query === 'string' && value.query.trim() !== '' && !value.query.includes('{{version}}')) {
    report(ctx, ['query'], 'must contain {{version}} so Sentra can query the canary and the stable version separately')
  }
  const kind = field(judgeValue, 'kind')
  if (kind === 'sequential') {
    // The sequential test needs counts (errors of requests) or the proxy's latency quantiles.
    // Tempo reports each gate's matching and total traces; Prometheus and Loki one value.
    if (provider !== undefined && !SEQUENTIAL_PROVIDERS.includes(provider as string)) {
      report(ctx, ['judge', 'kind'], `sequential needs error and request counts; a ${String(provider)} query gives one value per window: use threshold or relative (sequential works on ${SEQUENTIAL_PROVIDERS.join(', ')} gates)`)
    } else if (typeof signal === 'string' && !SEQUENTIAL_SIGNALS.includes(signal)) {
      report(ctx, ['judge', 'kind'], `sequential supports ${SEQUENTIAL_SIGNALS.join(', ')}; use threshold or relative for ${signal}`)
    }
    const problem = sequentialMarginProblem(field(judgeValue, 'margin'), signal)
    if (problem !== undefined) report(ctx, ['judge', 'margin'], problem)
    if (field(judgeValue, 'maxRatio') !== undefined && typeof signal === 'string' && signal.startsWith('latency')) {
      report(ctx, ['judge', 'maxRatio'], 'is for error counts; a latency gate’s allowed slowdown is its margin, e.g. "50%"')
    }
  }
  const numericFields = kind === 'threshold' ? ['min', 'max'] : kind === 'relative' ? ['maxIncrease'] : kind === 'anomaly' ? ['minDeviation'] : []
  const fraction = isBuiltinSignal(signal) && BUILTIN_SIGNALS[signal].unit === 'fraction'
  for (const key of numericFields) {
    const raw = field(judgeValue, key)
    if (typeof raw === 'string' && PERCENT.test(raw) && !fraction) {
      report(ctx, ['judge', key], `may only be a percentage for the fraction signals ${FRACTION_SIGNALS.join(', ')}; write a number`)
      continue
    }
    if (!isBuiltinSignal(signal) || (typeof raw !== 'number' && typeof raw !== 'string')) continue
    const number = judgeNumber(raw)
    if (Number.isNaN(number)) continue
    const info = BUILTIN_SIGNALS[signal]
    // An increase (or an anomaly's smallest deviation) spans at most the signal's whole range.
    const spread = key === 'maxIncrease' || key === 'minDeviation'
    const upper = info.max === null ? Infinity : spread ? info.max - info.min : info.max
    if (number < (spread ? 0 : info.min) || number > upper) report(ctx, ['judge', key], signalRangeMessage(signal))
  }
}, ifObject)

export const gates = z
  .array(gate)
  .max(MAX_GATES, `must have at most ${MAX_GATES} gates`)
  .superRefine((value, ctx) => {
    const seen = new Map<string, number>()
    value.forEach((item, index) => {
      const name = field(item, 'name')
      if (typeof name !== 'string') return
      const first = seen.get(name)
      if (first === undefined) seen.set(name, index)
      else report(ctx, [index, 'name'], `duplicate gate name "${name}" (also used by gates[${first}]); gate names must be unique`)
    })
    sharedScoreThresholds(value, ctx)
  }, ifArray)

