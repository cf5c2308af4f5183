/** The zod schema of the application spec: target, strategy, and the cross-field rules. */
import * as z from 'zod'
import { formatDuration, parseDuration } from './duration.ts'
import {
  byKind,
  derivedMs,
  dnsName,
  duration,
  field,
  ifObject,
  inconclusiveLimit,
  obj,
  port,
  report,
  templated,
  text,
  weight,
  type Ctx,
  type Key,
} from './fields.ts'
import { gates } from './gates.ts'
import { describeValue } from './input.ts'
import { DEFAULT_INTERVAL, MAX_STEPS } from './limits.ts'
import { listOr } from './path.ts'
import { ENV_NAME, checkDuration, httpPathProblem, imageProblem, listenProblem } from './rules.ts'

const listen = z.string().superRefine((value, ctx) => {
  const problem = listenProblem(value)
  if (problem !== undefined) report(ctx, [], problem)
})

const env = z
  .record(z.string(), templated(32 * 1024, true), {
    error: (iss) =>
      iss.code === 'invalid_type' && iss.input !== undefined ? `must be a mapping of NAME: value (got ${describeValue(iss.input)})` : undefined,
  })
  .superRefine((value, ctx) => {
    const names = Object.keys(value)
    if (names.length > 200) report(ctx, [], `must have at most 200 variables (got ${names.length})`)
    for (const name of names) {
      if (!ENV_NAME.test(name)) report(ctx, [name], "is not a valid environment variable name; use letters, digits and '_', not starting with a digit")
    }
  }, ifObject)

const healthPath = text(1024).superRefine((value, ctx) => {
  const problem = httpPathProblem(value)
  if (problem !== undefined) report(ctx, [], problem)
})

const command = z
  .array(templated(32 * 1024), {
    error: (iss) =>
      iss.code === 'invalid_type' && typeof iss.input === 'string'
        ? `must be a list of the program and its arguments, e.g. [${iss.input.trim().split(/\s+/).join(', ')}]`
        : undefined,
  })
  .min(1, 'must not be empty; give the program and its arguments, e.g. [node, server.mjs]')
  .max(200, 'must have at most 200 arguments')

const TARGET_KINDS = ['process', 'docker', 'kubernetes'] as const
const forKind = (kind: string) => `is used with kind: ${kind}`

const processTarget = obj(
  {
    kind: z.literal('process'),
    listen,
    command,
    env: env.optional(),
    healthPath: healthPath.optional(),
    cwd: templated(4096).optional(),
  },
  {
    elsewhere: {
      image: forKind('docker'), containerPort: forKind('docker'),
      namespace: forKind('kubernetes'), deployment: forKind('kubernetes'), service: forKind('kubernetes'), httpRoute: forKind('kubernetes'),
    },
  },
)

const dockerTarget = obj(
  {
    kind: z.literal('docker'),
    listen,
    image: text(1024).superRefine((value, ctx) => {
      const problem = imageProblem(value)
      if (problem !== undefined) report(ctx, [], problem)
    }),
    containerPort: port,
    env: env.optional(),
    healthPath: healthPath.optional(),
  },
  {
    elsewhere: {
      command: forKind('process'), cwd: forKind('process'),
      namespace: forKind('kubernetes'), deployment: forKind('kubernetes'), service: forKind('kubernetes'), httpRoute: forKind('kubernetes'),
    },
  },
)

const kubernetesTarget = obj(
  {
    kind: z.literal('kubernetes'),
    namespace: dnsName('rfc1123-label'),
    deployment: dnsName('subdomain'),
    service: dnsName('label'),
    httpRoute: dnsName('subdomain').optional(),
  },
  {
    elsewhere: {
      listen: 'is used with kind: process or docker (Kubernetes traffic goes through the service)',
      env: 'is set on the Deployment for kind: kubernetes',
      healthPath: 'comes from the Deployment\'s readiness probe for kind: kubernetes',
      command: forKind('process'), cwd: forKind('process'), image: forKind('docker'), containerPort: forKind('docker'),
    },
  },
)

const target = byKind(TARGET_KINDS, [processTarget, dockerTarget, kubernetesTarget])

// ---------------------------------------------------------------------------------------------
// Strategy

const analyze = obj(
  {
    min: duration().optional(),
    max: duration({ positive: true }).optional(),
    minMs: derivedMs,
    maxMs: derivedMs,
  },
  { derived: { minMs: 'min', maxMs: 'max' }, mappingHint: 'write "analyze: {}" for the defaults, or e.g. "analyze: { min: 30s }"' },
).superRefine((value, ctx) => {
  if (typeof value.min !== 'string' || typeof value.max !== 'string') return
  const min = checkDuration(value.min, {})
  const max = checkDuration(value.max, {})
  if ('ms' in min && 'ms' in max && max.ms < min.ms) report(ctx, ['max'], `must be at least min (${value.min})`)
}, ifObject)

const pause = obj(
  { duration: duration({ positive: true }).optional(), durationMs: derivedMs },
  { derived: { durationMs: 'duration' }, mappingHint: 'write "pause: {}" to wait for a person, or e.g. "pause: { duration: 1m }"' },
)

const STEP_KINDS = ['setWeight', 'analyze', 'pause'] as const

const step = obj(
  { setWeight: weight.optional(), analyze: analyze.optional(), pause: pause.optional() },
  {
    oneOf: {
      keys: STEP_KINDS,
      none: `is empty; a step is one of ${listOr(STEP_KINDS)}, e.g. "setWeight: 20"`,
      many: (found) => `must have only one of ${listOr(STEP_KINDS)} (found ${found.join(' and ')}); give each its own step`,
    },
    mappingHint: 'a step is one of setWeight, analyze or pause, e.g. "- setWeight: 20"',
  },
)

/** Evidence-driven weights (controller/rollout/adaptive.ts). */
const adaptive = obj(
  {
    maxStep: z
      .number({ error: (iss) => (iss.input === undefined ? 'is required: the largest weight increase in one step, in percentage points (e.g. 40)' : undefined) })
      .int('must be a whole number of percentage points between 1 and 100')
      .min(1, 'must be between 1 and 100 percentage points')
      .max(100, 'must be between 1 and 100 percentage points'),
    risk: z
      .number()
      .min(0, 'must be at least 0 and below 1 (0.5: half of the margin unused earns the full maxStep)')
      .lt(1, 'must be at least 0 and below 1 (0.5: half of the margin unused earns the full maxStep)')
      .optional(),
  },
  { mappingHint: 'write e.g. "adaptive: { maxStep: 40, risk: 0.5 }"' },
)

const canary = obj({
  steps: z.array(step).min(1, 'must have at least one step').max(MAX_STEPS, `must have at most ${MAX_STEPS} steps`),
  adaptive: adaptive.optional(),
}).superRefine((value, ctx) => {
  if (value.adaptive === undefined || !Array.isArray(value.steps)) return
  const kinds = value.steps.map((s) => (typeof s === 'object' && s !== null ? Object.keys(s)[0] : undefined))
  if (!kinds.includes('analyze') || !kinds.includes('setWeight')) {
    report(ctx, ['adaptive'], 'needs analyze steps followed by setWeight steps to act on; without them it changes nothing')
  }
}, ifObject)

const blueGreen = obj(
  {
    analyze: analyze.optional(),
    scaleDownDelay: duration().optional(),
    scaleDownDelayMs: derivedMs,
    autoPromote: z.boolean().optional(),
  },
  { derived: { scaleDownDelayMs: 'scaleDownDelay' }, mappingHint: 'write "blueGreen: {}" for the defaults' },
)

const strategy = obj(
  { canary: canary.optional(), blueGreen: blueGreen.optional() },
  {
    oneOf: {
      keys: ['canary', 'blueGreen'],
      none: 'must have exactly one of canary or blueGreen',
      many: () => 'must have exactly one of canary or blueGreen, not both',
    },
  },
)

// ---------------------------------------------------------------------------------------------
// The application

/** Cross-field rules that need the whole document. Reads defensively: parts may be invalid. */
function applicationChecks(value: unknown, ctx: Ctx): void {
  const gateList = field(value, 'gates')
  const hasGates = Array.isArray(gateList) && gateList.length > 0
  const intervalText = field(value, 'interval')
  let intervalMs: number | undefined
  if (intervalText === undefined) intervalMs = parseDuration(DEFAULT_INTERVAL)
  else if (typeof intervalText === 'string') {
    const checked = checkDuration(intervalText, {})
    intervalMs = 'ms' in checked ? checked.ms : undefined
  }
  const analyses: Key[][] = []
  const strategyValue = field(value, 'strategy')
  const steps = field(field(strategyValue, 'canary'), 'steps')
  if (Array.isArray(steps)) {
    steps.forEach((item: unknown, index) => {
      if (field(item, 'analyze') !== undefined) analyses.push(['strategy', 'canary', 'steps', index, 'analyze'])
    })
  }
  if (field(field(strategyValue, 'blueGreen'), 'analyze') !== undefined) analyses.push(['strategy', 'blueGreen', 'analyze'])

  const first = analyses[0]
  if (!hasGates && first !== undefined) report(ctx, first, 'has no gates to judge; add at least one under gates (or remove the analysis)')
  for (const path of analyses) {
    let node: unknown = value
    for (const key of path) node = typeof key === 'number' ? (Array.isArray(node) ? node[key] : undefined) : field(node, key)
    const max = field(node, 'max')
    if (typeof max !== 'string' || intervalMs === undefined) continue
    const checked = checkDuration(max, {})
    if ('ms' in checked && checked.ms > 0 && checked.ms < intervalMs) {
      report(ctx, [...path, 'max'], `must be at least the interval (${formatDuration(intervalMs)}); a shorter analysis would judge no window`)
    }
  }
}

export const applicationSchema = obj(
  {
    name: dnsName('label'),
    target,
    strategy,
    gates: gates.optional(),
    interval: duration({ minMs: 1_000, maxMs: 5 * 60_000 }).optional(),
    intervalMs: derivedMs,
    inconclusiveLimit: inconclusiveLimit.optional(),
    policy: dnsName('rfc1123-label').optional(),
    environment: dnsName('rfc1123-label').optional(),
  },
  { derived: { intervalMs: 'interval' } },
).superRefine((value, ctx) => applicationChecks(value, ctx), ifObject)

export type RawApplication = z.output<typeof applicationSchema>

