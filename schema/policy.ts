/**
 * Policies and guardrails (pure: no I/O).
 *
 * A policy is a named, reusable part of an application spec — its gates, strategy,
 * interval and inconclusiveLimit — that applications reference with `policy: <name>`; the
 * application's own fields win, key by key. A guardrail set names an environment (or `*`
 * for all) and the rules every application of that environment (`environment:` in its
 * spec, `default` when absent) must satisfy after its policy is applied.
 */
import { z } from 'zod'
import { parseSpec, type AppSpec, type SpecIssue } from './spec.ts'
import { dnsName, duration, errorMap, intBetween, obj, text } from './spec/fields.ts'
import { readSpecInput } from './spec/input.ts'
import { formatPath } from './spec/path.ts'
import { parseDuration } from './spec/duration.ts'

/** The application spec keys a policy may provide. */
export const POLICY_FIELDS = ['strategy', 'gates', 'interval', 'inconclusiveLimit'] as const
export type PolicyField = (typeof POLICY_FIELDS)[number]

export interface PolicyDocument {
  name: string
  description?: string
  strategy?: unknown
  gates?: unknown
  interval?: unknown
  inconclusiveLimit?: unknown
}

/** Signals that measure failures: a gate on one of them (or a Loki/Tempo gate, whose query selects bad lines or traces) is an error gate. */
export const ERROR_SIGNALS = ['errorRate', 'traceErrorRate', 'logErrorRatio'] as const
const TARGET_KINDS = ['process', 'docker', 'kubernetes'] as const

export interface GuardrailRules {
  /** At least one gate on an error signal, or a Loki/Tempo gate. */
  requireErrorGate?: boolean
  /** The first traffic step of a canary may send at most this percent to the new version. */
  maxFirstStepWeight?: number
  /** Every analyze step (and blue/green analysis) lasts at least this long. */
  minAnalysis?: string
  /** Only these target kinds. */
  allowedTargets?: (typeof TARGET_KINDS)[number][]
  /** No gate may be a dry run (its verdicts would not count). */
  forbidDryRun?: boolean
}

export interface GuardrailDocument {
  environment: string
  rules: GuardrailRules
}

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: SpecIssue[] }

const environmentName = z.union([z.literal('*'), dnsName('rfc1123-label')])

const guardrailSchema = obj({
  environment: environmentName,
  rules: obj(
    {
      requireErrorGate: z.boolean().optional(),
      maxFirstStepWeight: intBetween(1, 100).optional(),
      minAnalysis: duration({ positive: true }).optional(),
      allowedTargets: z.array(z.enum(TARGET_KINDS, { error: () => `must be one of ${TARGET_KINDS.join(', ')}` })).min(1, 'must name at least one target kind').max(3).optional(),
      forbidDryRun: z.boolean().optional(),
    },
    { anyOf: { keys: ['requireErrorGate', 'maxFirstStepWeight', 'minAnalysis', 'allowedTargets', 'forbidDryRun'], none: 'must have at least one rule: requireErrorGate, maxFirstStepWeight, minAnalysis, allowedTargets or forbidDryRun' } },
  ),
})

const policyHeader = obj({
  name: dnsName('rfc1123-label'),
  description: text(1024).optional(),
  strategy: z.unknown().optional(),
  gates: z.unknown().optional(),
  interval: z.unknown().optional(),
  inconclusiveLimit: z.unknown().optional(),
})

function issuesOf(error: z.ZodError): SpecIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }))
}

/** Validates a guardrail set (text or object). */
export function parseGuardrails(input: unknown): Checked<GuardrailDocument> {
  const read = readSpecInput(input)
  if (!read.ok) return { ok: false, issues: read.issues }
  const parsed = guardrailSchema.safeParse(read.value, { error: errorMap })
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) }
  return { ok: true, value: parsed.data as GuardrailDocument }
}

/** Stand-ins for the parts of an application a policy does not give, so its own parts can be validated as they will be used. */
const PROBE_APP = {
  name: 'policy-probe',
  target: { kind: 'process', listen: '127.0.0.1:1', command: ['true'] },
}
const PROBE_STRATEGY = { canary: { steps: [{ setWeight: 100 }] } }
const PROBE_GATES = [{ name: 'probe', signal: 'errorRate', judge: { kind: 'threshold', max: 1 } }]

/**
 * Validates a policy (text or object): its name, and its fields exactly as an application
 * would validate them (a policy's analyze steps need gates, from it or from the application:
 * with none of its own, the check assumes the application brings them).
 */
export function parsePolicy(input: unknown): Checked<PolicyDocument> {
  const read = readSpecInput(input)
  if (!read.ok) return { ok: false, issues: read.issues }
  const header = policyHeader.safeParse(read.value, { error: errorMap })
  if (!header.success) return { ok: false, issues: issuesOf(header.error) }
  const doc = header.data as PolicyDocument
  const given = POLICY_FIELDS.filter((key) => doc[key] !== undefined)
  if (given.length === 0) return { ok: false, issues: [{ path: '', message: `must give at least one of ${POLICY_FIELDS.join(', ')}` }] }
  const probe: Record<string, unknown> = { ...PROBE_APP, strategy: PROBE_STRATEGY, gates: PROBE_GATES }
  for (const key of given) probe[key] = doc[key]
  const checked = parseSpec(probe)
  if (!checked.ok) {
    // Only problems in the policy's own fields are the policy's.
    const own = checked.issues.filter((issue) => given.some((key) => issue.path === key || issue.path.startsWith(`${key}.`) || issue.path.startsWith(`${key}[`)))
    if (own.length > 0) return { ok: false, issues: own }
  }
  return { ok: true, value: doc }
}

/** The application input with its policy's fields under its own (the application wins, key by key). */
export function applyPolicy(app: Record<string, unknown>, policy: PolicyDocument): Record<string, unknown> {
  const merged: Record<string, unknown> = {}
  for (const key of POLICY_FIELDS) if (policy[key] !== undefined) merged[key] = policy[key]
  for (const [key, value] of Object.entries(app)) if (value !== undefined) merged[key] = value
  return merged
}

export interface GuardrailViolation {
  environment: string
  rule: keyof GuardrailRules
  path: string
  message: string
}

function isErrorGate(gate: AppSpec['gates'][number]): boolean {
  if (gate.signal !== undefined) return (ERROR_SIGNALS as readonly string[]).includes(gate.signal)
  return gate.provider === 'loki' || gate.provider === 'tempo'
}

/** Every rule of the guardrail set that the (policy-applied, validated) spec breaks. */
export function checkGuardrails(spec: AppSpec, guardrails: GuardrailDocument): GuardrailViolation[] {
  const { environment, rules } = guardrails
  const out: GuardrailViolation[] = []
  const add = (rule: keyof GuardrailRules, path: string, message: string) => out.push({ environment, rule, path, message })
  if (rules.requireErrorGate && !spec.gates.some(isErrorGate)) {
    add('requireErrorGate', 'gates', `needs at least one error gate (a gate on ${ERROR_SIGNALS.join(', ')}, or a Loki or Tempo gate)`)
  }
  if (rules.maxFirstStepWeight !== undefined && spec.strategy.canary) {
    const index = spec.strategy.canary.steps.findIndex((step) => 'setWeight' in step && step.setWeight > 0)
    const step = spec.strategy.canary.steps[index]
    if (step && 'setWeight' in step && step.setWeight > rules.maxFirstStepWeight) {
      add('maxFirstStepWeight', `strategy.canary.steps[${index}].setWeight`, `the first step sends ${step.setWeight} % to the new version; at most ${rules.maxFirstStepWeight} % here`)
    }
  }
  if (rules.minAnalysis !== undefined) {
    const minMs = parseDuration(rules.minAnalysis)
    if (spec.strategy.canary) {
      spec.strategy.canary.steps.forEach((step, index) => {
        if ('analyze' in step && step.analyze.minMs < minMs) {
          add('minAnalysis', `strategy.canary.steps[${index}].analyze.min`, `analyzes for ${step.analyze.min}; at least ${rules.minAnalysis} here`)
        }
      })
      if (!spec.strategy.canary.steps.some((step) => 'analyze' in step)) add('minAnalysis', 'strategy.canary.steps', `has no analyze step; every rollout here is analyzed for at least ${rules.minAnalysis}`)
    } else if (spec.strategy.blueGreen) {
      const analyze = spec.strategy.blueGreen.analyze
      if (!analyze || analyze.minMs < minMs) add('minAnalysis', 'strategy.blueGreen.analyze.min', `${analyze ? `analyzes for ${analyze.min}` : 'has no analysis'}; at least ${rules.minAnalysis} here`)
    }
  }
  if (rules.allowedTargets && !rules.allowedTargets.includes(spec.target.kind)) {
    add('allowedTargets', 'target.kind', `is ${spec.target.kind}; allowed here: ${rules.allowedTargets.join(', ')}`)
  }
  if (rules.forbidDryRun) {
    spec.gates.forEach((gate, index) => {
      if (gate.dryRun) add('forbidDryRun', `gates[${index}].dryRun`, `gate ${gate.name} is a dry run; dry runs are not allowed here`)
    })
  }
  return out
}

/** A violation as a spec issue: the path of the offending field, and the guardrail and rule in the message. */
export function violationIssue(v: GuardrailViolation): SpecIssue {
  return { path: v.path, message: `${v.message} (guardrail ${v.environment === '*' ? 'for every environment' : `of environment ${v.environment}`}: ${v.rule})` }
}
